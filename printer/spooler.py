"""A print queue per printer: jobs sent in order from one worker thread, status watched, nothing lost.

A job leaves the queue only when the printer has taken it. Where the printer answers status queries
(DLE EOT), it is asked before the job (can it print?), after the job's body, and after the cut: only
the last answer makes the job done and confirmed. The cut is held back until the body is confirmed,
so a connection lost before that leaves the printer at most an uncut part: the job is sent again whole,
after a resync (NULs that finish the cut-off image, ESC @, a "void" line and a cut: the part is cut off
and marked void, never taken for the receipt). A connection lost after the body was confirmed sends
only the cut again, so nothing is printed twice. A printer that cannot answer (confirm = "none", a file,
CUPS without reply) has a job done when every byte is written and the connection closed cleanly; if
that fails after bytes went out, the job fails as uncertain and is not sent again on its own.

While the printer is unreachable, out of paper or open, jobs wait and are retried with back-off; a job
that expires or is cancelled is kept as failed and can be printed again with reprint(). With a journal
(printer/journal.py) the queue survives a restart: a job that was being sent is handled by the same rules.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from printer.journal import SpoolJournal
from printer.layout import commands
from printer.realtime import realtime_queries, realtime_safe, split_cut
from printer.spool_jobs import Job, JobState, Phase
from printer.status import DeviceStatus, PrinterState, StatusReplyError
from printer.transports.base import Transport, TransportError

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_RESYNC", "Job", "JobState", "Phase", "RetryPolicy", "Spooler", "SpoolerSnapshot"]

DEFAULT_RESYNC = (
    bytes(commands.RESYNC_FILL)
    + commands.INITIALIZE
    + b"-- VOID: print interrupted --\n"
    + commands.feed_lines(4)
    + commands.PARTIAL_CUT
)
"""Sent before the next job when the printer may hold a cut-off one: finish its image, reset, mark it void, cut.

Plain ASCII, which every ESC/POS printer prints; the kiosk passes a Chinese one (printer/layout/render.py).
"""

CUT_RESEND_PREFIX = b"\x00\x00"
"""Before a cut sent again: completes an ESC d / GS V whose parameter byte was lost with the connection."""


@dataclass(frozen=True)
class SpoolerSnapshot:
    """The printer's state and its queue, as shown on the kiosk and the manager's wall."""

    printer_id: str
    state: PrinterState
    detail: str
    queued: int
    failed: int
    checked_at: float | None
    paper_near_end: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off between attempts while the printer cannot print: initial, doubled each time, capped."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 10.0
    confirm_timeout_s: float = 10.0
    """How long a printer may take to answer the status query sent after a job (it may be printing)."""

    def delay(self, failures: int) -> float:
        return float(min(self.max_s, self.initial_s * self.factor ** max(0, failures - 1)))


Listener = Callable[[SpoolerSnapshot], None]


class Spooler:
    """One printer's queue and its worker thread. Thread-safe; call close() to stop."""

    def __init__(
        self,
        printer_id: str,
        transport: Transport,
        *,
        retry: RetryPolicy | None = None,
        poll_interval_s: float = 15.0,
        on_change: Listener | None = None,
        history: int = 200,
        clock: Callable[[], float] = time.time,
        journal: SpoolJournal | None = None,
        resync: bytes = DEFAULT_RESYNC,
    ) -> None:
        self.printer_id = printer_id
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self.poll_interval_s = poll_interval_s
        self.resync = resync
        self._listeners: list[Listener] = [on_change] if on_change else []
        self._clock = clock
        self._journal = journal
        self._lock = threading.Condition()
        self._jobs: dict[int, Job] = {}
        self._data: dict[int, bytes] = {}
        self._queue: deque[int] = deque()
        self._finished: deque[int] = deque()
        self._history = history
        self._dirty = False
        """The printer may be inside a cut-off job: the next job starts with the resync."""
        self._closing = False
        self._failures = 0
        self._snapshot = SpoolerSnapshot(printer_id, PrinterState.UNKNOWN, "not checked yet", 0, 0, None)
        self._shown: SpoolerSnapshot | None = None
        self._ids = itertools.count(self._restore() + 1)
        self._thread = threading.Thread(target=self._run, name=f"spooler-{printer_id}", daemon=True)
        self._thread.start()

    # -- the public side -------------------------------------------------------------------------

    def submit(self, data: bytes, title: str = "", expires_after_s: float | None = None) -> Job:
        """Queue bytes for printing; with expires_after_s the job fails if not printed by then.

        DLE EOT inside the job's images is broken first (printer/realtime.py): the bytes kept are the ones sent.
        """
        data = realtime_safe(data)
        with self._lock:
            if self._closing:
                raise RuntimeError(f"the spooler of {self.printer_id} is closed")
            now = self._clock()
            expires = now + expires_after_s if expires_after_s is not None else None
            job = Job(next(self._ids), title, len(data), JobState.QUEUED, now, expires_at=expires)
            if self._journal is not None:
                self._journal.add(job, data)  # on disk before anyone is told it is queued
            self._jobs[job.id] = job
            self._data[job.id] = data
            self._queue.append(job.id)
            self._lock.notify_all()
        self._changed()
        return job

    def reprint(self, job_id: int, expires_after_s: float | None = None) -> Job:
        """Queue a finished (done or failed) job again, as a new job."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job_id not in self._data:
                raise KeyError(f"no job {job_id} on {self.printer_id} (it may have left the history)")
            if job.state not in (JobState.DONE, JobState.FAILED):
                raise ValueError(f"job {job_id} is {job.state.value}; only a done or failed job can be reprinted")
            data = self._data[job_id]
        return self.submit(data, job.title, expires_after_s)

    def cancel(self, job_id: int) -> Job:
        """Take a queued job out of the queue; it is kept as failed (and can be reprinted)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise KeyError(f"no job {job_id} on {self.printer_id}")
            if job.state is not JobState.QUEUED:
                raise ValueError(f"job {job_id} is {job.state.value}; only a queued job can be cancelled")
            self._queue.remove(job_id)
            if job.phase is not Phase.NEW:
                self._set_dirty(True)  # its uncut body lies at the printer: the next job cuts it off
            self._finish(job, JobState.FAILED, "cancelled")
        self._changed()
        return self._jobs[job_id]

    def job(self, job_id: int) -> Job:
        with self._lock:
            return self._jobs[job_id]

    def jobs(self) -> list[Job]:
        """Every job still known, oldest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.id)

    def data(self, job_id: int) -> bytes:
        with self._lock:
            return self._data[job_id]

    def snapshot(self) -> SpoolerSnapshot:
        with self._lock:
            return self._snapshot

    def subscribe(self, listener: Listener) -> None:
        """Call listener (from the worker thread) with each new snapshot."""
        with self._lock:
            self._listeners.append(listener)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no job is queued or printing; False on timeout (for tests and shutdown)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the worker (after the job being sent, if any). Queued jobs stay queued, not lost."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._thread.join(timeout_s)
        self.transport.close()
        if self._journal is not None and not self._thread.is_alive():
            self._journal.close()

    # -- a restart ---------------------------------------------------------------------------------

    def _restore(self) -> int:
        """Take up the journal's jobs; the highest job id known (0 for none)."""
        if self._journal is None:
            return 0
        journaled = self._journal.load()
        self._dirty = journaled.dirty
        highest = 0
        for job, data in journaled.jobs:
            highest = max(highest, job.id)
            self._data[job.id] = data
            if job.state is JobState.PRINTING:
                job = self._interrupted(job)
                self._journal.update(job)
            self._jobs[job.id] = job
            if job.state is JobState.QUEUED:
                self._queue.append(job.id)
            else:
                self._finished.append(job.id)
        if self._dirty:
            self._journal.set_dirty(True)
        return highest

    def _interrupted(self, job: Job) -> Job:
        """A job the last run was sending when it stopped: the rules of a lost connection apply."""
        note = "interrupted by a restart"
        if not self.transport.has_status or (job.phase is not Phase.FINISHING and not split_cut(self._data[job.id])[1]):
            # Nothing tells how much of it printed: never sent again on its own (no double receipt).
            self._dirty = True
            error = f"{note}; it may have printed in part"
            return replace(job, state=JobState.FAILED, last_error=error, finished_at=self._clock(), uncertain=True)
        if job.phase is Phase.FINISHING:
            return replace(job, state=JobState.QUEUED, last_error=f"{note}; its cut is sent again")
        self._dirty = True  # its cut was held back: the printer has at most an uncut part of it
        return replace(job, state=JobState.QUEUED, phase=Phase.NEW, last_error=f"{note}; sent again whole")

    # -- the worker --------------------------------------------------------------------------------

    def _run(self) -> None:
        next_poll = 0.0
        while True:
            with self._lock:
                if self._closing:
                    return
                expired = self._expire()
                job_id = self._queue[0] if self._queue else None
            if expired:
                self._changed()
            if job_id is None:
                if time.monotonic() >= next_poll and self.transport.has_status:
                    self._poll()
                    next_poll = time.monotonic() + self.poll_interval_s
                self._sleep(max(0.0, next_poll - time.monotonic()) if self.transport.has_status else None)
                continue
            if self._attempt(job_id):
                self._failures = 0
                continue
            self._failures += 1
            next_poll = time.monotonic() + self.poll_interval_s
            self._sleep(self.retry.delay(self._failures), until_queued=False)

    def _sleep(self, seconds: float | None, until_queued: bool = True) -> None:
        """Wait for seconds (None: no limit), or until a job is queued; close() always wakes the worker."""
        deadline = None if seconds is None else time.monotonic() + seconds
        with self._lock:
            while not self._closing:
                if until_queued and self._queue:
                    return
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                self._lock.wait(left if left is not None else 1.0)

    def _attempt(self, job_id: int) -> bool:
        """One try at the job at the head of the queue: True when it is finished (printed or given up)."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state is not JobState.QUEUED or not self._queue or self._queue[0] != job_id:
                return True  # cancelled or expired meanwhile: nothing to do
            data = self._data[job_id]
            self._jobs[job_id] = replace(job, attempts=job.attempts + 1)
        transport = self.transport
        sending = False
        try:
            transport.open()
            if job.phase is Phase.FINISHING:
                # Before the status query: a printer left inside ESC d / GS V must not take the query as its parameter.
                transport.write(CUT_RESEND_PREFIX)
            if transport.has_status:
                before = transport.status()
                if before is not None and not before.state.can_print:
                    self._set_status(before.state, f"waiting: {before.state.label_zh}", before)
                    self._requeue(job_id, before.state.value)
                    return False
            with self._lock:
                job = self._jobs[job_id]
                if job.state is not JobState.QUEUED:
                    return True  # cancelled or expired while the printer was being checked
                phase = Phase.FINISHING if job.phase is Phase.FINISHING else Phase.SENDING
                self._update(replace(job, state=JobState.PRINTING, phase=phase))  # journaled before a byte is sent
                resync = self.resync if self._dirty else b""
            sending = True
            if not transport.has_status:
                transport.write(resync + data)
                transport.finish()  # every byte written, the connection closed in order: done, not confirmed
                self._set_dirty(False)
                return self._done(job_id, None)
            if phase is Phase.FINISHING:
                _body, cut = split_cut(data)
                transport.write(cut)
                after = transport.status(self.retry.confirm_timeout_s)
            else:
                body, cut = split_cut(data)
                transport.write(resync + body)
                after = transport.status(self.retry.confirm_timeout_s, stale=realtime_queries(resync + body))
                self._set_dirty(False)  # the printer has every byte of the body: it is back in command mode
                if cut:
                    with self._lock:
                        self._update(replace(self._jobs[job_id], phase=Phase.FINISHING))
                    transport.write(cut)
                    after = transport.status(self.retry.confirm_timeout_s)
            self._end_cleanly(job_id)
            return self._done(job_id, after)
        except (TransportError, StatusReplyError, OSError) as error:
            if not sending:
                self._set_status(PrinterState.UNREACHABLE, str(error), None)
                self._requeue(job_id, str(error))
                return False
            return self._lost(job_id, str(error))
        finally:
            transport.close()

    def _end_cleanly(self, job_id: int) -> None:
        """Read what is left and close in order; the job is confirmed already, so a failure here is only logged."""
        try:
            self.transport.finish()
        except (TransportError, OSError) as error:
            log.info("%s: job %s confirmed, then the connection closed badly: %s", self.printer_id, job_id, error)

    def _lost(self, job_id: int, error: str) -> bool:
        """Bytes of the job went out and the printer did not confirm them: what may be sent again, and when."""
        with self._lock:
            job = self._jobs[job_id]
            if job_id not in self._queue:
                return True
            _body, cut = split_cut(self._data[job_id])
            if not self.transport.has_status or (job.phase is not Phase.FINISHING and not cut):
                # No answer, or no cut held back: how much printed cannot be told, so it is never sent again.
                self._set_dirty(True)
                log.warning("%s: job %s may have printed in part, not sent again: %s", self.printer_id, job_id, error)
                self._queue.remove(job_id)
                self._finish(replace(job, uncertain=True), JobState.FAILED, f"may have printed in part: {error}")
                done = True
            elif job.phase is Phase.FINISHING:
                log.warning(
                    "%s: job %s body confirmed, cut not: the cut is sent again (%s)", self.printer_id, job_id, error
                )
                self._update(replace(job, state=JobState.QUEUED, last_error=error))
                done = False
            else:
                # Its cut was held back: the printer has at most an uncut part, cut off and voided by the resync.
                log.warning("%s: job %s not confirmed, sent again whole (%s)", self.printer_id, job_id, error)
                self._set_dirty(True)
                self._update(replace(job, state=JobState.QUEUED, phase=Phase.NEW, last_error=error))
                done = False
        self._set_status(PrinterState.UNREACHABLE, error, None)
        return done

    def _done(self, job_id: int, after: DeviceStatus | None) -> bool:
        with self._lock:
            if job_id in self._queue:
                self._queue.remove(job_id)
            self._finish(self._jobs[job_id], JobState.DONE, None, confirmed=after is not None)
        if after is not None:
            self._set_status(after.state, "", after)
        elif not self.transport.has_status:
            self._set_status(PrinterState.UNKNOWN, "sent; this printer does not report status", None)
        else:
            self._changed()
        return True

    def _poll(self) -> None:
        try:
            self.transport.open()
            status = self.transport.status()
            self.transport.finish()
        except (TransportError, StatusReplyError, OSError) as error:
            self._set_status(PrinterState.UNREACHABLE, str(error), None)
            return
        finally:
            self.transport.close()
        if status is not None:
            self._set_status(status.state, "", status)

    def _requeue(self, job_id: int, error: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job_id in self._queue:  # not cancelled or expired meanwhile
                self._update(replace(job, state=JobState.QUEUED, last_error=error))
        self._changed()

    def _expire(self) -> bool:
        """Fail queued jobs past their expiry (caller holds the lock); True if any did.

        A job whose body the printer confirmed only waits for its cut: it is finished, not expired.
        """
        now = self._clock()
        expired = False
        for job_id in list(self._queue):
            job = self._jobs[job_id]
            if job.phase is Phase.FINISHING:
                continue
            if job.expires_at is not None and now >= job.expires_at:
                self._queue.remove(job_id)
                self._finish(job, JobState.FAILED, f"not printed in time ({job.last_error or 'waiting'})")
                expired = True
        return expired

    def _update(self, job: Job) -> None:
        """Change a job and journal it (caller holds the lock)."""
        self._jobs[job.id] = job
        if self._journal is not None:
            self._journal.update(job)

    def _set_dirty(self, dirty: bool) -> None:
        with self._lock:
            if dirty != self._dirty:
                self._dirty = dirty
                if self._journal is not None:
                    self._journal.set_dirty(dirty)

    def _finish(self, job: Job, state: JobState, error: str | None, confirmed: bool = False) -> None:
        """Record a finished job and keep only the last `history` of them (caller holds the lock)."""
        last_error = (error or job.last_error) if state is JobState.FAILED else job.last_error
        self._update(replace(job, state=state, last_error=last_error, finished_at=self._clock(), confirmed=confirmed))
        self._finished.append(job.id)
        dropped = []
        while len(self._finished) > self._history:
            old = self._finished.popleft()
            self._jobs.pop(old, None)
            self._data.pop(old, None)
            dropped.append(old)
        if self._journal is not None:
            self._journal.forget(dropped)
        self._lock.notify_all()

    def _set_status(self, state: PrinterState, detail: str, device: DeviceStatus | None) -> None:
        with self._lock:
            near_end = device.paper_near_end if device else self._snapshot.paper_near_end
            self._snapshot = replace(
                self._snapshot, state=state, detail=detail, checked_at=self._clock(), paper_near_end=near_end
            )
        self._changed()

    def _changed(self) -> None:
        """Refresh the counts; tell listeners if anything they show has changed."""
        with self._lock:
            queued = len(self._queue)
            failed = sum(1 for job in self._jobs.values() if job.state is JobState.FAILED)
            fresh = replace(self._snapshot, queued=queued, failed=failed)
            self._snapshot = fresh
            old = self._shown
            if old is not None and replace(fresh, checked_at=None) == replace(old, checked_at=None):
                return
            self._shown = fresh
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(fresh)
            except Exception:  # a broken display must not stop printing
                log.exception("%s: status listener failed", self.printer_id)
