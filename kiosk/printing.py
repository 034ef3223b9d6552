"""The kiosk's printer: receipts and one-time notices, rendered and sent off the UI thread.

The screen never waits for the printer. `print_receipt`/`print_notice` return a handle at once;
a small render thread draws the ESC/POS bytes (printer/layout, pure) and hands them to the
printer's `Spooler`, whose worker thread talks to the device. Every change of the printer or of a
job is handed to the UI thread through `post` (the Kivy shell passes `Clock.schedule_once`), where
`on_progress(handle, PrintProgress)` and `on_state(PrinterState)` run.

The queue is journaled in `data_dir/spool-<printer>.sqlite3` (printer/journal.py): after a restart a
waiting receipt is printed once, and one that was being sent is handled as a lost connection is.

A receipt that cannot be printed within `expires_after_s` (no paper, cover open) is dropped: the
citizen has long left with the number on screen, and a receipt printed later for nobody would
only confuse the next one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

from config.schema import Hall, PrinterDevice, ServiceItem
from kiosk import texts
from kiosk.state import PrintProgress, PrintState
from printer.journal import SpoolJournal
from printer.layout.render import Rendered, render_notice, render_receipt, render_resync
from printer.model import notice_data, receipt_data
from printer.spooler import Job, JobState, RetryPolicy, Spooler, SpoolerSnapshot
from printer.status import PrinterState
from printer.transports import DEFAULT_VIRTUAL_ROOT, Transport, transport_for
from queue_server.protocol import IssuedTicket

log = logging.getLogger(__name__)

RECEIPT_EXPIRES_S = 120.0
NOTICE_EXPIRES_S = 120.0

Post = Callable[[Callable[[], None]], None]


SPOOL_HISTORY = 20
"""Finished jobs the spooler keeps with their bytes (a receipt is ~50 KB): the kiosk follows only the
job of the screen it shows, so a short history keeps its memory flat (200 were ~10 MB)."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def progress_of(job: Job, printer: PrinterState) -> PrintProgress:
    """How a job stands, as the kiosk says it: printing, done, waiting for the printer, or given up.

    "Printed" only when the printer confirmed the whole job; "sent" when it cannot confirm; a job that
    may have printed in part says so.
    """
    if job.state is JobState.DONE:
        return PrintProgress(PrintState.DONE if job.confirmed else PrintState.SENT)
    if job.state is JobState.FAILED and job.uncertain:
        return PrintProgress(PrintState.UNCONFIRMED)
    if job.state is JobState.FAILED:
        return PrintProgress(PrintState.FAILED, None if printer.can_print else printer)
    if not printer.can_print:
        return PrintProgress(PrintState.WAITING, printer)
    return PrintProgress(PrintState.PRINTING)


class KioskPrinter:
    """One kiosk's printer. Thread-safe; `close()` stops its threads."""

    def __init__(
        self,
        hall: Hall,
        device: PrinterDevice,
        *,
        post: Post,
        on_progress: Callable[[int, PrintProgress], None],
        on_state: Callable[[PrinterState], None],
        transport: Transport | None = None,
        virtual_root: Path = DEFAULT_VIRTUAL_ROOT,
        retry: RetryPolicy | None = None,
        poll_interval_s: float = 15.0,
        expires_after_s: float = RECEIPT_EXPIRES_S,
        now: Callable[[], dt.datetime] = utc_now,
        data_dir: Path | None = None,
    ) -> None:
        self.hall, self.device = hall, device
        self._post, self._on_progress, self._on_state = post, on_progress, on_state
        self._expires_after_s, self._now = expires_after_s, now
        self._handles = itertools.count(1)
        self._lock = threading.Lock()
        self._tracked: dict[int, int] = {}  # handle -> spooler job id, until the job is done or failed
        self._renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-render")
        journal = SpoolJournal(data_dir / f"spool-{device.id}.sqlite3") if data_dir is not None else None
        self.spooler = Spooler(
            device.id,
            transport or transport_for(device, virtual_root),
            retry=retry,
            poll_interval_s=poll_interval_s,
            on_change=self._on_snapshot,
            journal=journal,
            resync=render_resync(device.paper_mm, device.text_mode),
            history=SPOOL_HISTORY,
        )

    # -- asked by the view-model (UI thread): return at once -----------------------------------

    def print_receipt(self, ticket: IssuedTicket, track_url: str) -> int:
        def make() -> Rendered:
            data = receipt_data(
                self.hall,
                number=ticket.number,
                category=ticket.category,
                item_id=ticket.item_id,
                ahead=ticket.ahead,
                estimated_wait_s=ticket.estimated_wait_s,
                wait_span_s=texts.span(ticket.estimated_wait_low_s, ticket.estimated_wait_high_s),
                wait_rough=ticket.estimate_rough,
                issued_at=ticket.issued_at,
                priority=ticket.priority,
                track_url=track_url,
            )
            return render_receipt(
                data, self.device.paper_mm, self.device.text_mode, self.device.qr_mode, self.device.receipt_layout
            )

        return self._queue(make, f"receipt {ticket.number}")

    def print_notice(self, item: ServiceItem) -> int:
        def make() -> Rendered:
            today = self._now().astimezone(ZoneInfo(self.hall.timezone)).date()
            data = notice_data(item, self.hall, today)
            return render_notice(data, self.device.paper_mm, self.device.text_mode, self.device.qr_mode)

        return self._queue(make, f"notice {item.id}")

    def state(self) -> PrinterState:
        return self.spooler.snapshot().state

    def snapshot(self) -> SpoolerSnapshot:
        return self.spooler.snapshot()

    def close(self) -> None:
        self._renderer.shutdown(wait=True, cancel_futures=True)
        self.spooler.close()

    # -- the render thread and the spooler's worker --------------------------------------------

    def _queue(self, make: Callable[[], Rendered], title: str) -> int:
        handle = next(self._handles)
        self._renderer.submit(self._render_and_submit, handle, make, title)
        return handle

    def _render_and_submit(self, handle: int, make: Callable[[], Rendered], title: str) -> None:
        try:
            rendered = make()
            job = self.spooler.submit(rendered.data, title, self._expires_after_s)
        except Exception:  # a layout bug or a closed spooler: the ticket on screen still counts
            log.exception("kiosk: %s could not be queued for printing", title)
            self._tell(handle, PrintProgress(PrintState.FAILED))
            return
        with self._lock:
            self._tracked[handle] = job.id
        self._report(handle, job.id)

    def _on_snapshot(self, snapshot: SpoolerSnapshot) -> None:
        state = snapshot.state
        self._post(lambda: self._on_state(state))
        with self._lock:
            tracked = list(self._tracked.items())
        for handle, job_id in tracked:
            self._report(handle, job_id)

    def _report(self, handle: int, job_id: int) -> None:
        # Reading the job and posting its progress under one lock keeps the posts in the order of the
        # reads: the render thread and the spooler's worker both report, and the last word must be the newest.
        with self._lock:
            try:
                job = self.spooler.job(job_id)
            except KeyError:  # left the spooler's history
                self._tracked.pop(handle, None)
                return
            progress = progress_of(job, self.spooler.snapshot().state)
            if progress.state in (PrintState.DONE, PrintState.SENT, PrintState.FAILED, PrintState.UNCONFIRMED):
                self._tracked.pop(handle, None)
            self._tell(handle, progress)

    def _tell(self, handle: int, progress: PrintProgress) -> None:
        self._post(lambda: self._on_progress(handle, progress))
