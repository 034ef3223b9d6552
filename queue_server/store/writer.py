"""The single-writer store: every change runs in one thread, in one transaction, then is published.

SQLite allows one writer at a time; connections that fight for its lock sleep in its busy handler
and lose both throughput and latency. So every change to a hall goes through one writer thread
that owns one connection and the halls' in-memory runtime. Each change has the same shape:
check the state, change rows and append events in one transaction, commit durably, and only then
hand the serialized public messages to the publisher. A failing publisher never undoes a change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, insert

from config.schema import Hall, HallConfig
from queue_server.domain.errors import DomainError
from queue_server.domain.workdays import WorkCalendar
from queue_server.protocol import Message
from queue_server.runtime import HallRuntime
from queue_server.store.tables import events

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], dt.datetime]
Published = tuple[int, str]
Publisher = Callable[[str, list[Published]], None]


# Built once: SQLAlchemy then reuses its compiled form instead of building a cache key per event.
_INSERT_EVENT = insert(events)


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the epoch for an aware datetime."""
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Tx:
    """One transaction on one hall: its connection, runtime, the time, and the events it appends."""

    conn: Connection
    rt: HallRuntime
    now: dt.datetime
    calendar: WorkCalendar
    published: list[Published] = field(default_factory=list)
    dirty: bool = False

    @property
    def now_us(self) -> int:
        return to_us(self.now)

    def touch(self) -> None:
        """Mark the runtime as changed: if the transaction fails, it must be reloaded."""
        self.dirty = True

    def emit(
        self,
        kind: str,
        payload: dict[str, Any],
        message: Callable[[int], Message],
        *,
        actor: str | None = None,
        window: int | None = None,
        post: str | None = None,
        ticket_id: int | None = None,
    ) -> int:
        """Append an event with the hall's next sequence number; its public message goes out after commit."""
        self.dirty = True
        seq = self.rt.last_seq + 1
        public = message(seq).model_dump_json()
        self.conn.execute(
            _INSERT_EVENT,
            {
                "hall": self.rt.hall.id,
                "seq": seq,
                "type": kind,
                "at": self.now_us,
                "actor": actor,
                "window": window,
                "post": post,
                "ticket_id": ticket_id,
                "payload": json.dumps(payload, ensure_ascii=False, default=str),
                "public": public,
            },
        )
        self.rt.last_seq = seq
        self.published.append((seq, public))
        return seq


class Store:
    """Runs hall transactions on the writer thread and reads on a pool."""

    def __init__(self, engine: Engine, config: HallConfig, calendar: WorkCalendar, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.config = config
        self.calendar = calendar
        self.clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bianmin-writer")
        self._local = threading.local()
        self._runtimes: dict[str, HallRuntime] = {}
        self._publisher: Publisher | None = None
        # Set by the services package: loads a hall's runtime, and rolls the service day over.
        self.loader: Callable[[Connection, Hall, dt.datetime], HallRuntime] | None = None
        self.before_each: Callable[[Tx], None] | None = None
        # Tests turn this on: after every transaction the runtime checks itself against its own tickets.
        self.check_runtime = False

    def set_publisher(self, publisher: Publisher | None) -> None:
        self._publisher = publisher

    # -- running work on the writer thread ---------------------------------------------------

    async def run(self, hall_id: str, fn: Callable[[Tx], T]) -> T:
        """Run fn in a transaction on the hall, on the writer thread; publish its events after commit."""
        return await asyncio.wrap_future(self._executor.submit(self._run_hall, hall_id, fn))

    def run_sync(self, hall_id: str, fn: Callable[[Tx], T]) -> T:
        return self._executor.submit(self._run_hall, hall_id, fn).result()

    async def run_global(self, fn: Callable[[Connection, dt.datetime], T]) -> T:
        """Run fn in a transaction that touches no hall (accounts, devices), on the writer thread."""
        return await asyncio.wrap_future(self._executor.submit(self._run_global, fn))

    def run_global_sync(self, fn: Callable[[Connection, dt.datetime], T]) -> T:
        return self._executor.submit(self._run_global, fn).result()

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only fn on its own connection, off the writer thread (WAL readers never block it)."""
        return await asyncio.to_thread(self._read, fn)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self.engine.connect()
            self._local.conn = conn
        return conn

    def _run_global(self, fn: Callable[[Connection, dt.datetime], T]) -> T:
        conn = self._connection()
        with conn.begin():
            return fn(conn, self.clock())

    def _run_hall(self, hall_id: str, fn: Callable[[Tx], T]) -> T:
        conn = self._connection()
        now = self.clock()
        tx: Tx | None = None
        try:
            with conn.begin():
                rt = self._runtimes.get(hall_id)
                if rt is None:
                    if self.loader is None:
                        raise RuntimeError("the store has no runtime loader")
                    rt = self.loader(conn, self.config.hall(hall_id), now)
                    self._runtimes[hall_id] = rt
                tx = Tx(conn=conn, rt=rt, now=now, calendar=self.calendar)
                if self.before_each is not None:
                    self.before_each(tx)
                result = fn(tx)
                if self.check_runtime:
                    rt.verify()
        except BaseException as error:
            # The rows were rolled back; a runtime that was changed must be rebuilt from them.
            if tx is None or tx.dirty or not isinstance(error, DomainError):
                self._runtimes.pop(hall_id, None)
            raise
        if tx.published and self._publisher is not None:
            try:
                self._publisher(hall_id, tx.published)
            except Exception:  # a failing subscriber never undoes a change
                log.exception("publishing events of hall %s failed", hall_id)
        return result

    def forget_runtimes(self) -> None:
        """Drop every cached runtime (the next transaction reloads it from the database)."""
        self._executor.submit(self._runtimes.clear).result()

    def close(self) -> None:
        def _close() -> None:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
        self.engine.dispose()
