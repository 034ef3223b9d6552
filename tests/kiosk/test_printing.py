"""The kiosk's printer against a fake network printer: receipts and notices, progress, paper out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zxingcpp

from config.schema import PrinterDevice, PrinterTransport
from kiosk.printing import SPOOL_HISTORY, KioskPrinter, progress_of
from kiosk.state import PrintProgress, PrintState
from kiosk.views import print_line
from printer.layout.emulator import emulate
from printer.spooler import Job, JobState, RetryPolicy
from printer.status import PrinterState
from tests.kiosk.conftest import NOW, demo_setup, issued
from tests.printer.fake_printer import FakePrinter, Fault, wait_for
from tests.printer.paper import piece_of

TRACK_URL = "https://bianmin.example.cn/t/" + "T" * 32


class UiThread:
    """Collects what the printer posts to the UI thread; the test runs it with pump()."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[Callable[[], None]] = []
        self.progress: list[tuple[int, PrintProgress]] = []
        self.states: list[PrinterState] = []
        self.threads: set[str] = set()

    def post(self, callback: Callable[[], None]) -> None:
        with self.lock:
            self.pending.append(callback)

    def pump(self) -> None:
        with self.lock:
            callbacks, self.pending = self.pending, []
        for callback in callbacks:
            callback()

    def on_progress(self, handle: int, progress: PrintProgress) -> None:
        self.threads.add(threading.current_thread().name)
        self.progress.append((handle, progress))

    def last(self, handle: int) -> PrintProgress | None:
        self.pump()
        mine = [progress for h, progress in self.progress if h == handle]
        return mine[-1] if mine else None


@pytest.fixture
def ui() -> UiThread:
    return UiThread()


@pytest.fixture
def make_printer(ui: UiThread) -> Iterator[Callable[..., KioskPrinter]]:
    made: list[KioskPrinter] = []

    def make(
        fake: FakePrinter, expires_after_s: float = 60.0, data_dir: Path | None = None, **device_options: object
    ) -> KioskPrinter:
        device = PrinterDevice(
            kind="printer", id="printer-1", name="取号机热敏打印机", transport=PrinterTransport.NETWORK,
            host="127.0.0.1", port=fake.port, timeout_s=1.0, **device_options,  # type: ignore[arg-type]
        )  # fmt: skip
        printer = KioskPrinter(
            demo_setup().hall, device, post=ui.post, on_progress=ui.on_progress, on_state=ui.states.append,
            retry=RetryPolicy(initial_s=0.05, max_s=0.2, confirm_timeout_s=2), poll_interval_s=0.2,
            expires_after_s=expires_after_s, now=lambda: NOW, data_dir=data_dir,
        )  # fmt: skip
        made.append(printer)
        return printer

    yield make
    for printer in made:
        printer.close()


def test_a_receipt_reaches_the_printer_with_the_tracking_qr(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    printer = make_printer(fake_printer)
    handle = printer.print_receipt(issued("A012"), TRACK_URL)  # returns at once: rendering is not on this thread
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.DONE), 10)
    assert ui.threads == {threading.current_thread().name}  # progress reached the "UI thread" only via post
    (job,) = fake_printer.jobs()
    picture = emulate(job, 576).image
    assert [code.text for code in zxingcpp.read_barcodes(picture.convert("L"))] == [TRACK_URL]
    assert PrinterState.ONLINE in ui.states


def test_a_notice_prints_the_items_checklist(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    printer = make_printer(fake_printer)
    handle = printer.print_notice(demo_setup().hall.item("jisheng-birth-registration"))
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.DONE), 10)
    (job,) = fake_printer.jobs()
    assert emulate(job, 576).image.height > 1500  # a long checklist, not a receipt


def test_out_of_paper_the_receipt_waits_then_is_given_up(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    fake_printer.paper_out()
    printer = make_printer(fake_printer, expires_after_s=1.0)
    handle = printer.print_receipt(issued("A013"), TRACK_URL)
    waiting = PrintProgress(PrintState.WAITING, PrinterState.PAPER_OUT)
    assert wait_for(lambda: ui.last(handle) == waiting, 10)
    assert printer.state() is PrinterState.PAPER_OUT and PrinterState.PAPER_OUT in ui.states
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.FAILED, PrinterState.PAPER_OUT), 10)
    assert fake_printer.jobs() == []  # nothing printed for a citizen who has long left


def test_paper_reloaded_in_time_prints_the_waiting_receipt(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    fake_printer.paper_out()
    printer = make_printer(fake_printer)
    handle = printer.print_receipt(issued("A014"), TRACK_URL)
    assert wait_for(lambda: (ui.last(handle) or PrintProgress()).state is PrintState.WAITING, 10)
    fake_printer.all_well()
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.DONE), 10)
    assert len(fake_printer.jobs()) == 1


@pytest.mark.parametrize(
    ("job", "printer", "expected"),
    [
        (JobState.DONE, PrinterState.UNKNOWN, PrintProgress(PrintState.SENT)),  # written, never confirmed
        (JobState.QUEUED, PrinterState.ONLINE, PrintProgress(PrintState.PRINTING)),
        (JobState.PRINTING, PrinterState.UNKNOWN, PrintProgress(PrintState.PRINTING)),
        (JobState.QUEUED, PrinterState.COVER_OPEN, PrintProgress(PrintState.WAITING, PrinterState.COVER_OPEN)),
        (JobState.QUEUED, PrinterState.UNREACHABLE, PrintProgress(PrintState.WAITING, PrinterState.UNREACHABLE)),
        (JobState.DONE, PrinterState.PAPER_NEAR_END, PrintProgress(PrintState.DONE)),
        (JobState.FAILED, PrinterState.ONLINE, PrintProgress(PrintState.FAILED)),
        (JobState.FAILED, PrinterState.PAPER_OUT, PrintProgress(PrintState.FAILED, PrinterState.PAPER_OUT)),
    ],
)
def test_progress_of_a_job(job: JobState, printer: PrinterState, expected: PrintProgress) -> None:
    confirmed = expected.state is PrintState.DONE
    assert progress_of(Job(1, "receipt", 10, job, 0.0, confirmed=confirmed), printer) == expected


def test_a_job_that_may_have_printed_in_part_says_so() -> None:
    job = Job(1, "receipt", 10, JobState.FAILED, 0.0, uncertain=True)
    assert progress_of(job, PrinterState.UNREACHABLE) == PrintProgress(PrintState.UNCONFIRMED)


def test_a_receipt_cut_off_by_a_reset_is_printed_again_and_only_then_reported_printed(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    printer = make_printer(fake_printer, paper_mm=58, receipt_layout="full")
    assert wait_for(lambda: PrinterState.ONLINE in (ui.pump() or ui.states))
    fake_printer.faults.append(Fault(reset_at=20_000))  # the printer resets 20 kB into the 53 kB receipt
    handle = printer.print_receipt(issued("A012"), TRACK_URL)
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.DONE), 10)
    (job,) = printer.spooler.jobs()
    assert job.attempts == 2 and job.confirmed and fake_printer.resets == 1
    void, whole = fake_printer.pieces()
    assert whole == piece_of(printer.spooler.data(job.id)) and "以上打印中断".encode("gb18030") not in void
    assert print_line(PrintProgress(PrintState.DONE), "print", "zh")[0] == "凭条已打印，请在出纸口取走"


def test_a_printer_without_status_replies_prints_and_the_kiosk_says_sent(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    fake_printer.mute = True  # never answers DLE EOT
    printer = make_printer(fake_printer, confirm="none")
    handle = printer.print_receipt(issued("A015"), TRACK_URL)
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.SENT), 10)
    assert len(fake_printer.pieces()) == 1
    assert print_line(PrintProgress(PrintState.SENT), "print", "zh") == ("凭条已发送到打印机，请在出纸口取走", "ok")
    assert print_line(PrintProgress(PrintState.SENT), "print", "en")[0].startswith("Your ticket was sent")


def test_a_receipt_that_may_have_printed_in_part_is_not_called_printed(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    fake_printer.mute = True
    fake_printer.faults.append(Fault(reset_at=20_000))
    printer = make_printer(fake_printer, confirm="none", paper_mm=58, receipt_layout="full")
    handle = printer.print_receipt(issued("A016"), TRACK_URL)
    assert wait_for(lambda: ui.last(handle) == PrintProgress(PrintState.UNCONFIRMED), 10)
    text, tone = print_line(PrintProgress(PrintState.UNCONFIRMED), "print", "zh")
    assert text == "凭条可能未打印完整。号码已生效：请记住号码或扫描二维码" and tone == "warn"
    assert fake_printer.pieces() == []  # nothing reached the knife: not sent again on its own


def test_a_waiting_receipt_is_printed_once_after_a_kiosk_restart(
    make_printer: Callable[..., KioskPrinter], ui: UiThread, tmp_path: Path
) -> None:
    fake = FakePrinter().start()
    port = fake.port
    fake.stop()  # the printer is off when the ticket is taken
    first = make_printer(fake, data_dir=tmp_path)
    handle = first.print_receipt(issued("A017"), TRACK_URL)
    assert wait_for(lambda: (ui.last(handle) or PrintProgress()).state is PrintState.WAITING, 10)
    first.close()
    assert (tmp_path / "spool-printer-1.sqlite3").exists()
    fake.port = port
    fake.start()  # the printer is back, the kiosk restarts
    try:
        second = make_printer(fake, data_dir=tmp_path)
        assert wait_for(lambda: len(fake.pieces()) == 1, 10)
        assert second.spooler.wait_idle(5) and second.spooler.jobs()[0].confirmed
        second.close()
        third = make_printer(fake, data_dir=tmp_path)
        assert third.spooler.wait_idle(5)
        assert len(fake.pieces()) == 1  # never twice
    finally:
        fake.stop()


def test_a_day_of_receipts_keeps_only_a_short_history_and_each_receipt_prints(
    fake_printer: FakePrinter, make_printer: Callable[..., KioskPrinter], ui: UiThread
) -> None:
    """A kiosk printed 500 receipts a day and kept the last 200 (~50 KB each) in memory: it keeps 20 now."""
    printer = make_printer(fake_printer)
    count = SPOOL_HISTORY + 15
    handles = [printer.print_receipt(issued(f"A{n:03d}"), TRACK_URL) for n in range(1, count + 1)]
    assert wait_for(lambda: all(ui.last(handle) == PrintProgress(PrintState.DONE) for handle in handles), 60)
    assert len(fake_printer.jobs()) == count
    kept = printer.spooler.jobs()
    assert len(kept) == SPOOL_HISTORY
    assert [job.title for job in kept][-1] == f"receipt A{count:03d}"
