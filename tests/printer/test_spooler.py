"""The spooler against a fake printer on a loopback port: delivery, outages, paper out, silence."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from printer.spooler import JobState, RetryPolicy, Spooler, SpoolerSnapshot
from printer.status import PrinterState
from printer.transports import NetworkTransport, TransportError, VirtualTransport
from printer.transports.files import FileTransport
from tests.printer.fake_printer import FakePrinter, wait_for

FAST = RetryPolicy(initial_s=0.02, factor=2.0, max_s=0.2, confirm_timeout_s=1.0)
JOB = b"\x1b@\x1c&\xc7\xe0\xc9\xbd\n\x1c.\x1dV\x01"


def network(printer: FakePrinter, timeout_s: float = 0.5, status_timeout_s: float = 0.3) -> NetworkTransport:
    return NetworkTransport("127.0.0.1", printer.port, timeout_s, status_timeout_s)


@pytest.fixture
def spooler_for(fake_printer: FakePrinter) -> Iterator[object]:
    made: list[Spooler] = []

    def make(printer: FakePrinter | None = None, **options: object) -> Spooler:
        spooler = Spooler("printer-1", network(printer or fake_printer), retry=FAST, poll_interval_s=0.2, **options)  # type: ignore[arg-type]
        made.append(spooler)
        return spooler

    yield make
    for spooler in made:
        spooler.close()


def test_a_job_arrives_intact(fake_printer: FakePrinter, spooler_for) -> None:
    spooler: Spooler = spooler_for()
    big = JOB + bytes(range(256)) * 400  # 100 KB, with DLE EOT byte pairs inside the data
    job = spooler.submit(big, "A012")
    assert wait_for(lambda: spooler.job(job.id).state is JobState.DONE)
    assert fake_printer.jobs() == [big]
    done = spooler.job(job.id)
    assert done.confirmed and done.attempts == 1 and done.finished_at is not None
    assert wait_for(lambda: spooler.snapshot().state is PrinterState.ONLINE)


def test_jobs_print_in_order(fake_printer: FakePrinter, spooler_for) -> None:
    spooler: Spooler = spooler_for()
    jobs = [spooler.submit(JOB + bytes([n]), f"job {n}") for n in range(5)]
    assert spooler.wait_idle(10)
    assert fake_printer.jobs() == [JOB + bytes([n]) for n in range(5)]
    assert all(spooler.job(job.id).state is JobState.DONE for job in jobs)


def test_offline_printer_keeps_the_job_and_delivers_it_when_back() -> None:
    printer = FakePrinter().start()
    printer.stop()  # the port is now closed: connection refused
    seen: list[SpoolerSnapshot] = []
    spooler = Spooler("printer-1", network(printer), retry=FAST, poll_interval_s=0.2, on_change=seen.append)
    try:
        job = spooler.submit(JOB, "A001")
        assert wait_for(lambda: spooler.snapshot().state is PrinterState.UNREACHABLE)
        assert wait_for(lambda: spooler.job(job.id).attempts >= 2)
        assert spooler.job(job.id).state is JobState.QUEUED
        assert spooler.snapshot().queued == 1
        printer.start()  # back on the same port
        assert wait_for(lambda: spooler.job(job.id).state is JobState.DONE)
        assert printer.jobs() == [JOB]
        assert wait_for(lambda: spooler.snapshot().state is PrinterState.ONLINE)
        states = [snapshot.state for snapshot in seen]
        assert PrinterState.UNREACHABLE in states and states[-1] is PrinterState.ONLINE
    finally:
        spooler.close()
        printer.stop()


def test_paper_out_mid_queue_holds_the_rest(fake_printer: FakePrinter, spooler_for) -> None:
    fake_printer.paper_out_after_jobs = 1
    spooler: Spooler = spooler_for()
    jobs = [spooler.submit(JOB + bytes([n]), f"job {n}") for n in range(3)]
    assert wait_for(lambda: spooler.snapshot().state is PrinterState.PAPER_OUT)
    time.sleep(0.3)  # several retries while the paper is out
    assert fake_printer.jobs() == [JOB + b"\x00"]
    assert [spooler.job(job.id).state for job in jobs] == [JobState.DONE, JobState.QUEUED, JobState.QUEUED]
    assert spooler.snapshot().queued == 2
    fake_printer.all_well()  # paper loaded
    assert spooler.wait_idle(5)
    assert fake_printer.jobs() == [JOB + bytes([n]) for n in range(3)]
    assert wait_for(lambda: spooler.snapshot().state is PrinterState.ONLINE)


def test_cover_open_and_paper_near_end_are_reported(fake_printer: FakePrinter, spooler_for) -> None:
    fake_printer.cover_open()
    spooler: Spooler = spooler_for()
    job = spooler.submit(JOB)
    assert wait_for(lambda: spooler.snapshot().state is PrinterState.COVER_OPEN)
    assert spooler.job(job.id).state is JobState.QUEUED
    fake_printer.all_well()
    fake_printer.paper_near_end()  # near end still prints
    assert wait_for(lambda: spooler.job(job.id).state is JobState.DONE)
    assert wait_for(lambda: spooler.snapshot().state is PrinterState.PAPER_NEAR_END)
    assert spooler.snapshot().paper_near_end


def test_printer_that_accepts_but_never_answers_costs_bounded_time_and_keeps_the_job() -> None:
    printer = FakePrinter()
    printer.silent = True
    printer.start()
    spooler = Spooler("printer-1", network(printer, 0.5, 0.3), retry=FAST, poll_interval_s=0.2)
    try:
        started = time.monotonic()
        job = spooler.submit(JOB)
        assert wait_for(lambda: spooler.job(job.id).attempts >= 2, timeout_s=5)
        assert time.monotonic() - started < 3  # each attempt is bounded by the short status timeout
        assert spooler.job(job.id).state in (JobState.QUEUED, JobState.PRINTING)
        assert wait_for(lambda: spooler.snapshot().state is PrinterState.UNREACHABLE)
        assert printer.jobs() == []  # the job was never sent to a printer that does not answer
    finally:
        started = time.monotonic()
        spooler.close()
        assert time.monotonic() - started < 2
        printer.stop()


def test_write_to_a_printer_that_stops_reading_times_out() -> None:
    printer = FakePrinter(rcvbuf=4096)
    printer.silent = True
    printer.start()
    transport = network(printer, timeout_s=0.3)
    try:
        transport.open()
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"writing to 127\.0\.0\.1"):
            transport.write(bytes(32 * 1024 * 1024))
        assert time.monotonic() - started < 5
    finally:
        transport.close()
        printer.stop()


def test_failed_job_can_be_reprinted(fake_printer: FakePrinter) -> None:
    clock = [1000.0]
    fake_printer.cover_open()
    spooler = Spooler("printer-1", network(fake_printer), retry=FAST, poll_interval_s=0.2, clock=lambda: clock[0])
    try:
        job = spooler.submit(JOB, "A001", expires_after_s=60)
        assert wait_for(lambda: spooler.job(job.id).attempts >= 1)
        clock[0] += 61  # the ticket is a minute old: printing it now would only confuse
        assert wait_for(lambda: spooler.job(job.id).state is JobState.FAILED)
        assert "not printed in time" in (spooler.job(job.id).last_error or "")
        assert spooler.snapshot().failed == 1
        fake_printer.all_well()
        again = spooler.reprint(job.id)
        assert again.id != job.id and again.title == "A001"
        assert wait_for(lambda: spooler.job(again.id).state is JobState.DONE)
        assert fake_printer.jobs() == [JOB]
    finally:
        spooler.close()


def test_cancel_keeps_the_job_as_failed(tmp_path) -> None:
    gate = threading.Event()

    class Slow(VirtualTransport):
        def write(self, data: bytes) -> None:
            gate.wait(5)
            super().write(data)

    spooler = Spooler("printer-1", Slow(tmp_path), retry=FAST)
    try:
        first = spooler.submit(JOB, "first")
        second = spooler.submit(JOB, "second")
        assert wait_for(lambda: spooler.job(first.id).state is JobState.PRINTING)
        with pytest.raises(ValueError, match="only a queued job"):
            spooler.cancel(first.id)
        with pytest.raises(ValueError, match="only a done or failed"):
            spooler.reprint(first.id)
        cancelled = spooler.cancel(second.id)
        assert cancelled.state is JobState.FAILED and cancelled.last_error == "cancelled"
        gate.set()
        assert spooler.wait_idle(5)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["1.bin", "1.png"]
        assert [job.state for job in spooler.jobs()] == [JobState.DONE, JobState.FAILED]
        with pytest.raises(KeyError):
            spooler.reprint(99)
    finally:
        gate.set()
        spooler.close()


def test_virtual_printer_writes_bin_and_png(tmp_path) -> None:
    spooler = Spooler("printer-1", VirtualTransport(tmp_path / "p", 58), retry=FAST)
    try:
        spooler.submit(JOB, "one")
        spooler.submit(JOB, "two")
        assert spooler.wait_idle(5)
    finally:
        spooler.close()
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["1.bin", "1.png", "2.bin", "2.png"]
    assert (tmp_path / "p" / "2.bin").read_bytes() == JOB


def test_file_transport_has_no_status_and_prints(tmp_path) -> None:
    target = tmp_path / "lp0"
    spooler = Spooler("printer-1", FileTransport(target), retry=FAST)
    try:
        job = spooler.submit(JOB)
        assert spooler.wait_idle(5)
        assert spooler.job(job.id).state is JobState.DONE and not spooler.job(job.id).confirmed
        assert spooler.snapshot().state is PrinterState.UNKNOWN
    finally:
        spooler.close()
    assert target.read_bytes() == JOB


def test_close_stops_the_worker_and_keeps_queued_jobs() -> None:
    printer = FakePrinter().start()
    printer.stop()
    spooler = Spooler("printer-1", network(printer), retry=RetryPolicy(initial_s=5, max_s=5))
    job = spooler.submit(JOB)
    assert wait_for(lambda: spooler.job(job.id).attempts >= 1)
    started = time.monotonic()
    spooler.close()
    assert time.monotonic() - started < 1  # the back-off wait is interrupted
    assert not spooler._thread.is_alive()
    assert spooler.job(job.id).state is JobState.QUEUED
    with pytest.raises(RuntimeError, match="closed"):
        spooler.submit(JOB)


def test_a_failing_listener_does_not_stop_printing(fake_printer: FakePrinter) -> None:
    def broken(snapshot: SpoolerSnapshot) -> None:
        raise RuntimeError("display gone")

    spooler = Spooler("printer-1", network(fake_printer), retry=FAST, on_change=broken)
    try:
        job = spooler.submit(JOB)
        assert wait_for(lambda: spooler.job(job.id).state is JobState.DONE)
    finally:
        spooler.close()
