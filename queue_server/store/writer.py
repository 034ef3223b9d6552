"""The store: every change of a process runs on its writer thread, in one transaction, then is published.

SQLite allows one writer at a time; connections that fight for its lock sleep in its busy handler
and lose both throughput and latency. So every change to a hall goes through one writer thread per
process that owns one connection and the halls' in-memory runtime. Each change has the same shape:
check the state, change rows and append events in one transaction, commit durably, and only then
hand the serialized public messages to the publisher. A failing publisher never undoes a change.

Changes that arrive together share one transaction and one durable commit (group commit): nobody is
answered before the commit that holds their change, and the fsync, the dearest part of a change, is
paid once for the group instead of once per kiosk tap.

Several processes on one database (a county center on PostgreSQL): a transaction first locks the halls
it touches (the backend's `lock_halls_newest`: advisory locks in sorted order on PostgreSQL, the database's
write lock on SQLite), then compares each hall's runtime with the newest `seq` of the hall's log. When
another process wrote since, the runtime catches up from the log before anything is decided (the
services' `catch_up`), so no process decides on a stale picture, and seq stays gap-free because it is
taken under the lock. Events another process committed are published here too, in seq order, before
this process's own: each process tells its subscribers every event of the hall exactly once. They are
noticed through the database (PostgreSQL NOTIFY, or polling on SQLite; see `store/listener.py`) or at
the next transaction on the hall, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from config.calendar import build_calendar
from config.schema import Hall, HallConfig
from queue_server.domain.errors import DomainError
from queue_server.domain.workdays import WorkCalendar
from queue_server.hall_view import ViewDelta, delta_of
from queue_server.protocol import Message
from queue_server.runtime import HallRuntime
from queue_server.store.apart import ApartReads
from queue_server.store.backends import backend_for
from queue_server.store.stages import WriterStages
from queue_server.store.tables import events, generations

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], dt.datetime]
Published = tuple[int, str]
MAX_BATCH = 64  # jobs that share one transaction and one fsync when they arrive together
#: Called on the writer thread after a commit: the hall, its new events in seq order, the read side's delta.
Publisher = Callable[[str, list[Published], ViewDelta | None], None]
#: Channels other processes LISTEN on (PostgreSQL): "hall:seq" after a hall's commit; the accounts generation.
EVENTS_CHANNEL = "bianmin_events"
ACCOUNTS_CHANNEL = "bianmin_accounts"
CONFIG_CHANNEL = "bianmin_config"
#: A hall lock not had within this is an error (503, try again), never a hang.
LOCK_TIMEOUT_MS = 5_000


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
    #: Side effects to hand over after the commit (phone reminders): never before, and never if it rolls back.
    outbox: list[Any] = field(default_factory=list)
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
        self.backend = backend_for(engine)
        self.origin = secrets.token_hex(6)  # names this process's notifications, so it can ignore its own
        self.reader = self.backend.reader_engine(engine)
        url = engine.url.render_as_string(hide_password=False)
        self._apart = ApartReads(url) if self.backend.opens_elsewhere(url) else None  # reports' process: store/apart.py
        self.config = config
        self.calendar = calendar
        self.clock = clock
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.stages = WriterStages()  # where the writer's time goes (GET /metrics)
        self._conn: Connection | None = None
        self._closed = False
        self._runtimes: dict[str, HallRuntime] = {}
        self._publisher: Publisher | None = None
        #: Per hall, the last seq handed to the publisher by this process.
        self._published: dict[str, int] = {}
        self._syncing: set[str] = set()  # halls with a sync job queued (one is enough)
        #: Called on the writer thread after a commit that changed accounts or devices (here or elsewhere).
        self.on_accounts_changed: list[Callable[[], None]] = []
        #: Called (on the listener's thread) when another process reloaded the configuration.
        self.on_config_changed: list[Callable[[], None]] = []
        # Set by the services package: loads a hall's runtime, catches it up with the log, rolls the day over.
        self.loader: Callable[[Connection, Hall, dt.datetime], HallRuntime] | None = None
        self.catch_up: Callable[[Connection, HallRuntime], list[Published] | None] | None = None
        self.before_each: Callable[[Tx], None] | None = None
        #: Called on the writer thread after a commit with its transactions' outboxes (the phone reminders).
        self.on_outbox: Callable[[list[Any]], None] | None = None
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

    async def run_global(self, fn: Callable[[Connection, dt.datetime], T], *, invalidates: bool = True) -> T:
        """Run fn in a transaction that touches no hall (accounts, devices), on the writer thread.

        `invalidates`: the change may make a cached login or device token wrong (a revoked device, a
        deactivated clerk, a changed role, a logout), so every process drops its caches after the commit.
        A new session invalidates nothing.
        """
        result: T = await self._submit_async(_Job("global" if invalidates else "global-quiet", None, fn))
        return result

    def run_global_sync(self, fn: Callable[[Connection, dt.datetime], T], *, invalidates: bool = True) -> T:
        result: T = self._submit(_Job("global" if invalidates else "global-quiet", None, fn)).result()
        return result

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only fn on its own connection, off the writer thread (WAL readers never block it)."""
        return await asyncio.to_thread(self._read, fn)

    async def read_apart(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)`, read-only, in the store's report process (store/apart.py): for the reads that fold
        many rows in Python (reports), so they never hold this process's interpreter. `fn` is a module-level
        function; it, its arguments and its result are pickled."""
        if self._apart is None:
            return await self.read(lambda conn: fn(conn, *args))
        return await self._apart.run(fn, *args)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self.reader.connect() as conn:
            return fn(conn)

    async def catch_up_hall(self, hall_id: str) -> None:
        """A hall transaction that changes nothing: the hall is loaded, rolled over to today and caught up with
        the log, and what other processes committed is published, before this returns."""
        await self.run(hall_id, _no_change)

    def request_sync(self, hall_id: str) -> None:
        """Catch the hall up with the log and publish what other processes committed (from any thread)."""
        if self._closed or hall_id in self._syncing:
            return
        self._syncing.add(hall_id)
        self._jobs.put(_Job("sync", hall_id, _no_change))

    def published_seq(self, hall_id: str) -> int:
        """The last seq of the hall this process has published (0 before it knew the hall)."""
        return self._published.get(hall_id, 0)

    def accounts_changed(self) -> None:
        """Accounts or devices changed (here or in another process): drop what this process cached."""
        _call_each(self.on_accounts_changed, "dropping cached accounts")

    def config_changed(self) -> None:
        """Another process reloaded the configuration: this one reloads its own."""
        _call_each(self.on_config_changed, "reloading the configuration")

    def replace_config(self, config: HallConfig, *, announce: bool) -> None:
        """Serve `config` from now on (validated by the caller): every hall is reloaded under it.

        `announce`: tell the other processes to reload theirs (an administrator's reload on this one).
        """

        calendar = build_calendar(config.calendar)  # a new calendar (the county's) changes the working days

        def swap() -> None:
            self.config, self.calendar = config, calendar
            self._runtimes.clear()

        self._submit(_Job("call", None, swap)).result()
        if announce:
            self.run_global_sync(lambda conn, _now: self._bump(conn, "config", CONFIG_CHANNEL), invalidates=False)
        self.refresh_views()

    def refresh_views(self) -> None:
        """Send the read side a whole copy of every hall (at start-up), loading halls not loaded yet."""

        def mark() -> None:
            for rt in self._runtimes.values():
                rt.full = True

        self._submit(_Job("call", None, mark)).result()
        for hall in self.config.halls:
            self._submit(_Job("sync", hall.id, _no_change)).result()

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

        The halls the jobs touch are locked first, in sorted order, and caught up with the log. A job
        refused by a domain rule before it wrote anything simply gets its error. A job that fails after
        writing, or any other failure, rolls the whole transaction back: the runtimes are rebuilt from the
        database and each job runs again in a transaction of its own.
        """
        if not jobs:
            return
        for job in jobs:
            if job.kind == "sync":
                self._syncing.discard(job.hall or "")
        halls = sorted({job.hall for job in jobs if job.hall is not None})
        # A group of syncs only reads (catching up with the log, which is gap-free up to any visible seq): it
        # takes no lock, so it never waits behind another process's transaction, and reads one snapshot.
        locked = sorted({job.hall for job in jobs if job.kind == "hall" and job.hall is not None})
        reads_only = all(job.kind == "sync" and job.hall in self._runtimes for job in jobs)  # (a first load writes)
        missed: dict[str, list[Published]] = {}
        clock = time.perf_counter
        began = clock()
        for job in jobs:
            if job.queued_at is not None:  # once: a job run again on its own after a failed group has waited already
                self.stages.observe("queued", began - job.queued_at)
                job.queued_at = None
        try:
            conn = self._connection()
            with conn.begin():
                if reads_only:
                    self.backend.begin_snapshot(conn)
                newest = self.backend.lock_halls_newest(conn, locked, LOCK_TIMEOUT_MS, self.origin) if locked else {}
                locked_at = clock()
                for hall_id in halls:
                    missed[hall_id] = self._ready(conn, hall_id, newest.get(hall_id))
                ready_at = clock()
                for job in jobs:
                    self._run_one(conn, job)
                self._announce(conn, jobs)
                ran_at = clock()
            committed_at = clock()
        except BaseException as error:
            self._runtimes.clear()
            if isinstance(error, DBAPIError):  # the connection may be broken (a database restart): open a new one
                self._drop_connection()
            if len(jobs) == 1:
                self._answer(jobs, [(False, error)])
            else:
                for job in jobs:
                    job.reset()
                    self._commit_group([job])
            return
        published: dict[str, list[Published]] = {h: list(m) for h, m in missed.items()}
        for job in jobs:
            if job.tx is not None and job.tx.published:
                published.setdefault(job.tx.rt.hall.id, []).extend(job.tx.published)
        worked = {job.hall for job in jobs if job.kind == "hall"}
        for hall_id in halls:
            self._publish(hall_id, published.get(hall_id, []), hall_id in worked)
        if any(job.kind == "global" for job in jobs):
            self.accounts_changed()
        self._hand_outbox(jobs)
        self._answer(jobs, [(False, j.error) if j.error is not None else (True, j.result) for j in jobs])
        if locked:
            self.stages.observe("lock", locked_at - began)
        for stage, seconds in (("catch_up", ready_at - locked_at), ("run", ran_at - ready_at),
                               ("commit", committed_at - ran_at), ("publish", clock() - committed_at)):  # fmt: skip
            self.stages.observe(stage, seconds)
        self.stages.group_jobs.observe(len(jobs))

    def _hand_outbox(self, jobs: list[_Job]) -> None:
        """After commit: the committed transactions' side effects to whoever sends them (it must not block)."""
        items = [item for job in jobs if job.tx is not None for item in job.tx.outbox]
        if not items or self.on_outbox is None:
            return
        try:
            self.on_outbox(items)
        except Exception:  # a failing side effect never undoes a change
            log.exception("handing over %d side effect(s) failed", len(items))

    def _ready(self, conn: Connection, hall_id: str, newest: int | None) -> list[Published]:
        """Load or catch up the hall's runtime (its lock is held, and `newest` is its newest seq when the lock
        read it); return its events not yet published here."""
        now = self.clock()
        rt = self._runtimes.get(hall_id)
        if newest is None:
            newest = conn.execute(select(func.max(events.c.seq)).where(events.c.hall == hall_id)).scalar() or 0
        caught: list[Published] = []  # the events the catch-up read, after the runtime's last seq
        if rt is not None and rt.last_seq != newest:
            assert self.catch_up is not None
            before = rt.last_seq
            read = self.catch_up(conn, rt) if rt.last_seq < newest else None  # None: a new day, a restored database
            if read is None:
                rt = None
            elif self._published.get(hall_id, before) == before:
                caught = read
        if rt is None:
            if self.loader is None:
                raise RuntimeError("the store has no runtime loader")
            rt = self._runtimes[hall_id] = self.loader(conn, self.config.hall(hall_id), now)
        done = self._published.setdefault(hall_id, rt.last_seq)
        if done >= rt.last_seq:
            return []
        if caught and caught[0][0] == done + 1 and caught[-1][0] == rt.last_seq:
            return caught  # what was published here ends where the catch-up began: no second read
        rows = conn.execute(
            select(events.c.seq, events.c.public)
            .where(events.c.hall == hall_id, events.c.seq > done, events.c.seq <= rt.last_seq)
            .order_by(events.c.seq)
        )
        return [(r.seq, r.public) for r in rows]

    def _announce(self, conn: Connection, jobs: list[_Job]) -> None:
        """Tell other processes what this transaction commits (delivered at commit, or never)."""
        if not self.backend.features.notifies_events:  # (PostgreSQL: its trigger notifies each event appended)
            emitted = {job.tx.rt.hall.id: job.tx.rt.last_seq for job in jobs if job.tx is not None and job.tx.published}
            for hall_id, seq in emitted.items():
                self.backend.notify(conn, EVENTS_CHANNEL, f"{hall_id}:{seq}:{self.origin}")
        if any(job.kind == "global" for job in jobs):
            self._bump(conn, "accounts", ACCOUNTS_CHANNEL)

    def _bump(self, conn: Connection, generation: str, channel: str) -> None:
        """Move a generation other processes watch (SQLite polls it) and NOTIFY them, in this transaction."""
        conn.execute(update(generations).where(generations.c.name == generation).values(value=generations.c.value + 1))
        self.backend.notify(conn, channel, self.origin)

    def _publish(self, hall_id: str, messages: list[Published], worked: bool) -> None:
        """Hand a hall's new events (in seq order) and the read side's delta over, after commit.

        `worked`: a job ran on the hall, which may have changed what the read side shows without an event
        (a clerk's new display name).
        """
        rt = self._runtimes.get(hall_id)
        if messages:
            self._published[hall_id] = messages[-1][0]
        if rt is None or self._publisher is None:
            return
        delta = delta_of(rt) if (worked or rt.changed or rt.full or messages) else None
        if delta is None and not messages:
            return
        try:
            self._publisher(hall_id, messages, delta)  # the group's events of a hall in one hand-over, in order
        except Exception:  # a failing subscriber never undoes a change
            log.exception("publishing events of hall %s failed", hall_id)

    @staticmethod
    def _answer(jobs: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
        """Hand each job its result or error: thread-safe futures directly, event-loop futures in one call per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(jobs, outcomes, strict=True):
            if not ok and job.kind == "sync":
                log.warning("catching hall %s up failed: %s", job.hall, value)
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
        if job.kind in ("global", "global-quiet"):
            job.result = job.fn(conn, now)
            return
        assert job.hall is not None
        rt = self._runtimes[job.hall]  # loaded and caught up by _ready
        tx = Tx(conn=conn, rt=rt, now=now, calendar=self.calendar)
        rt.now_us = tx.now_us  # what estimates read the hour and the services in progress at
        if job.kind == "sync":
            return  # only the catch-up (done by _ready); the day rolls at the hall's next change, not here
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
            tx.outbox.clear()
            return
        job.tx = tx

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        """After a failure that may have broken the connection: the next transaction opens a fresh one."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

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
        if self._apart is not None:
            self._apart.close()
        self.engine.dispose()


def _call_each(callbacks: list[Callable[[], None]], what: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failing callback must not keep the others from running
            log.exception("%s failed", what)


def _no_change(_tx: Tx) -> None:
    """A sync job's work: none (loading or catching up the hall, and publishing, is what it is for)."""


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

    kind: str  # "hall", "sync", "global", "global-quiet", "call", "stop"
    hall: str | None
    fn: Callable[..., Any]
    future: Future[Any] | None = None
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] | None = None
    tx: Tx | None = None
    result: Any = None
    error: BaseException | None = None
    queued_at: float | None = field(default_factory=time.perf_counter)  # when it was put on the writer's queue

    def reset(self) -> None:
        self.tx, self.result, self.error = None, None, None
