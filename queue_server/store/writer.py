"""The single-writer store: every change runs in one thread, in one transaction, then is published.

SQLite allows one writer at a time; connections that fight for its lock sleep in its busy handler
and lose both throughput and latency. So every change to a hall goes through one writer thread
that owns one connection and the halls' in-memory runtime. Each change has the same shape:
check the state, change rows and append events in one transaction, commit durably, and only then
hand the serialized public messages to the publisher. A failing publisher never undoes a change.

Changes that arrive together share one transaction and one durable commit (group commit): nobody is
answered before the commit that holds their change, and the fsync, the dearest part of a change, is
paid once for the group instead of once per kiosk tap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
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
MAX_BATCH = 64  # jobs that share one transaction and one fsync when they arrive together
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
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._conn: Connection | None = None
        self._closed = False
        self._runtimes: dict[str, HallRuntime] = {}
        self._publisher: Publisher | None = None
        # Set by the services package: loads a hall's runtime, and rolls the service day over.
        self.loader: Callable[[Connection, Hall, dt.datetime], HallRuntime] | None = None
        self.before_each: Callable[[Tx], None] | None = None
        # Tests turn this on: after every transaction the runtime checks itself against its own tickets.
        self.check_runtime = False
        self._thread = threading.Thread(target=self._work, name="bianmin-writer", daemon=True)
        self._thread.start()

    def set_publisher(self, publisher: Publisher | None) -> None:
        self._publisher = publisher

    # -- running work on the writer thread ---------------------------------------------------

    async def run(self, hall_id: str, fn: Callable[[Tx], T]) -> T:
        """Run fn in a transaction on the hall, on the writer thread; publish its events after commit."""
        result: T = await self._submit_async(_Job("hall", hall_id, fn))
        return result

    def run_sync(self, hall_id: str, fn: Callable[[Tx], T]) -> T:
        result: T = self._submit(_Job("hall", hall_id, fn)).result()
        return result

    async def run_global(self, fn: Callable[[Connection, dt.datetime], T]) -> T:
        """Run fn in a transaction that touches no hall (accounts, devices), on the writer thread."""
        result: T = await self._submit_async(_Job("global", None, fn))
        return result

    def run_global_sync(self, fn: Callable[[Connection, dt.datetime], T]) -> T:
        result: T = self._submit(_Job("global", None, fn)).result()
        return result

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only fn on its own connection, off the writer thread (WAL readers never block it)."""
        return await asyncio.to_thread(self._read, fn)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    def _submit(self, job: _Job) -> Future[Any]:
        """Queue a job for the writer; its answer comes through a thread-safe future."""
        if self._closed:
            raise RuntimeError("the store is closed")
        job.future = Future()
        self._jobs.put(job)
        return job.future

    def _submit_async(self, job: _Job) -> asyncio.Future[Any]:
        """Queue a job for the writer; its answer comes back on the caller's event loop.

        Cheaper than a concurrent future wrapped for asyncio (no lock and condition per job): this is
        every kiosk tap and every clerk action.
        """
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        job.waiter = (loop, loop.create_future())
        self._jobs.put(job)
        return job.waiter[1]

    def _work(self) -> None:
        """The writer thread: take every job waiting (up to MAX_BATCH), run them in one transaction."""
        while True:
            job = self._jobs.get()
            batch: list[_Job] = []
            while True:
                if job.kind == "stop":
                    self._commit_group(batch)
                    return
                if job.kind == "call":  # maintenance runs between transactions, in its turn
                    self._commit_group(batch)
                    batch = []
                    self._run_call(job)
                else:
                    batch.append(job)
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
            self._commit_group(batch)

    def _run_call(self, job: _Job) -> None:
        try:
            result = job.fn()
        except BaseException as error:
            self._answer([job], [(False, error)])
            return
        self._answer([job], [(True, result)])

    def _commit_group(self, jobs: list[_Job]) -> None:
        """Run jobs in one transaction and commit once (one fsync for all of them: group commit).

        A job refused by a domain rule before it wrote anything simply gets its error. A job that fails
        after writing, or any other failure, rolls the whole transaction back: the runtimes are rebuilt
        from the database and each job runs again in a transaction of its own.
        """
        if not jobs:
            return
        conn = self._connection()
        try:
            with conn.begin():
                for job in jobs:
                    self._run_one(conn, job)
        except BaseException as error:
            self._runtimes.clear()
            if len(jobs) == 1:
                self._answer(jobs, [(False, error)])
            else:
                for job in jobs:
                    job.reset()
                    self._commit_group([job])
            return
        published: dict[str, list[Published]] = {}
        for job in jobs:
            if job.tx is not None and job.tx.published:
                published.setdefault(job.tx.rt.hall.id, []).extend(job.tx.published)
        for hall_id, messages in published.items():
            if self._publisher is not None:
                try:
                    self._publisher(hall_id, messages)  # the group's events of a hall in one hand-over, in order
                except Exception:  # a failing subscriber never undoes a change
                    log.exception("publishing events of hall %s failed", hall_id)
        self._answer(jobs, [(False, j.error) if j.error is not None else (True, j.result) for j in jobs])

    @staticmethod
    def _answer(jobs: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
        """Hand each job its result or error: thread-safe futures directly, event-loop futures in one call per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(jobs, outcomes, strict=True):
            if job.waiter is not None:
                loop, waiter = job.waiter
                by_loop.setdefault(loop, []).append((waiter, ok, value))
            elif job.future is not None:
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(value)
        for loop, answers in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the caller's loop has closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, answers)

    def _run_one(self, conn: Connection, job: _Job) -> None:
        now = self.clock()
        if job.kind == "global":
            job.result = job.fn(conn, now)
            return
        assert job.hall is not None
        rt = self._runtimes.get(job.hall)
        if rt is None:
            if self.loader is None:
                raise RuntimeError("the store has no runtime loader")
            rt = self._runtimes[job.hall] = self.loader(conn, self.config.hall(job.hall), now)
        tx = Tx(conn=conn, rt=rt, now=now, calendar=self.calendar)
        try:
            if self.before_each is not None:
                self.before_each(tx)
            job.result = job.fn(tx)
            if self.check_runtime:
                rt.verify()
        except DomainError as error:
            if tx.dirty:
                raise  # it wrote before refusing: undo the transaction
            job.error = error  # refused before any change: the others in the group go on
            tx.published.clear()
            return
        job.tx = tx

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    def forget_runtimes(self) -> None:
        """Drop every cached runtime (the next transaction reloads it from the database)."""
        self._submit(_Job("call", None, self._runtimes.clear)).result()

    def close(self) -> None:
        if self._closed:
            return

        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._submit(_Job("call", None, _close)).result()
        self._closed = True
        self._jobs.put(_Job("stop", None, lambda: None))
        self._thread.join(timeout=10)
        self.engine.dispose()


def _settle(answers: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """On the caller's loop: set each waiting future (a caller that gave up is skipped)."""
    for waiter, ok, value in answers:
        if waiter.done():
            continue
        if ok:
            waiter.set_result(value)
        else:
            waiter.set_exception(value)


@dataclass(eq=False)
class _Job:
    """A piece of work for the writer thread: a hall transaction, an accounts transaction, or maintenance."""

    kind: str  # "hall", "global", "call", "stop"
    hall: str | None
    fn: Callable[..., Any]
    future: Future[Any] | None = None
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] | None = None
    tx: Tx | None = None
    result: Any = None
    error: BaseException | None = None

    def reset(self) -> None:
        self.tx, self.result, self.error = None, None, None
