"""The spool queue survives a restart: a waiting job is printed once, a job cut off by a crash once (point 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from PIL import Image

from printer.journal import SpoolJournal
from printer.layout import commands
from printer.layout.render import render_receipt
from printer.realtime import split_cut
from printer.spool_jobs import Job
from printer.spooler import JobState, Phase, RetryPolicy, Spooler
from printer.transports import NetworkTransport
from tests.printer.conftest import sample_receipt
from tests.printer.fake_printer import FakePrinter, Fault, wait_for
from tests.printer.paper import piece_of

FAST = RetryPolicy(initial_s=0.02, factor=2.0, max_s=0.1, confirm_timeout_s=1.0)
ROOT = Path(__file__).resolve().parents[2]


def network(printer: FakePrinter) -> NetworkTransport:
    return NetworkTransport("127.0.0.1", printer.port, 1.0, 0.5)


def test_a_waiting_job_is_printed_once_after_a_restart(tmp_path: Path) -> None:
    printer = FakePrinter().start()
    printer.stop()  # unreachable: the job waits
    data = render_receipt(sample_receipt(), 80).data
    spooler = Spooler("p1", network(printer), retry=FAST, journal=SpoolJournal(tmp_path / "spool.sqlite3"))
    job = spooler.submit(data, "A012")
    assert wait_for(lambda: spooler.job(job.id).attempts >= 1)
    spooler.close()
    printer.start()
    try:
        for _restart in range(2):  # the second restart finds the job done: nothing more is printed
            again = Spooler("p1", network(printer), retry=FAST, journal=SpoolJournal(tmp_path / "spool.sqlite3"))
            assert wait_for(lambda s=again: s.job(job.id).state is JobState.DONE, 5)
            assert again.job(job.id).title == "A012" and [j.id for j in again.jobs()] == [job.id]
            assert again.wait_idle(5)
            again.close()
        assert printer.pieces() == [piece_of(data)]
    finally:
        printer.stop()


def test_a_restart_while_only_the_cut_was_owed_sends_only_the_cut(tmp_path: Path, fake_printer: FakePrinter) -> None:
    data = render_receipt(sample_receipt(), 80).data
    journal = SpoolJournal(tmp_path / "spool.sqlite3")
    # The journal of a run stopped after the printer confirmed the body and before it confirmed the cut:
    stuck = Job(1, "A012", len(data), JobState.PRINTING, 0.0, attempts=1, phase=Phase.FINISHING)
    journal.add(stuck, data)
    spooler = Spooler("p1", network(fake_printer), retry=FAST, journal=journal)
    try:
        assert wait_for(lambda: spooler.job(1).state is JobState.DONE)
        assert spooler.job(1).confirmed
        assert fake_printer.jobs() == [b"\x00\x00" + split_cut(data)[1]]  # the body is never sent twice
    finally:
        spooler.close()


def test_a_kiosk_killed_mid_job_prints_the_receipt_once_after_the_restart(tmp_path: Path) -> None:
    printer = FakePrinter()
    tall = Image.new("1", (576, 30_000), 1)  # 2 MB of image: the kill comes while it is being sent
    tall.paste(0, (100, 0, 476, 30_000))
    data = commands.INITIALIZE + commands.raster(tall) + commands.feed_lines(4) + commands.PARTIAL_CUT
    (tmp_path / "job.bin").write_bytes(data)
    printer.faults.append(Fault(stall_at=200_000, stall_s=3.0))  # busy printing: it stops reading for a while
    printer.start()
    child = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from printer.journal import SpoolJournal
        from printer.spooler import Spooler
        from printer.transports import NetworkTransport
        spooler = Spooler("p1", NetworkTransport("127.0.0.1", {printer.port}, 30.0, 5.0),
                          journal=SpoolJournal(Path({str(tmp_path)!r}) / "spool.sqlite3"), poll_interval_s=3600)
        spooler.submit(Path({str(tmp_path)!r}, "job.bin").read_bytes(), "A012")
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert wait_for(lambda: printer.received() >= 200_000, 20)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert printer.pieces() == []  # a part of the image lies in the printer, uncut
        journal = SpoolJournal(tmp_path / "spool.sqlite3")
        assert [job.phase for job, _data in journal.load().jobs] == [Phase.SENDING]  # journaled before sending
        spooler = Spooler("p1", network(printer), retry=RetryPolicy(confirm_timeout_s=10), journal=journal)
        try:
            assert wait_for(lambda: spooler.job(1).state is JobState.DONE, 30)
            assert spooler.job(1).confirmed
            pieces = printer.pieces()
            assert pieces.count(piece_of(data)) == 1 and len(pieces) == 2  # the cut-off part (voided), then the job
            assert b"VOID" in pieces[0]
        finally:
            spooler.close()
    finally:
        if process.poll() is None:
            process.kill()
        printer.stop()
