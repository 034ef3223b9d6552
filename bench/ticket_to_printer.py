"""Ticket issued → receipt bytes at a network printer: the kiosk's real print path against a local server.

Method: `bianmin serve` runs as a child process on a copy of the demo hall whose printer-1 is a network
printer at a fake ESC/POS printer on 127.0.0.1 (the test double of tests/printer/fake_printer.py: it
records the bytes and answers DLE EOT status queries). The kiosk's own client issues a ticket over HTTP,
then its KioskPrinter renders the receipt (raster, 80 mm) and its spooler sends it. Measured per ticket:
from the moment the issuance answer is in the kiosk's hands to the moment the printer has received the
whole receipt (the spooler confirmed the job). Baseline in the same run: the same receipt bytes written
to the same fake printer over a fresh socket, with nothing else. Target (issue 4): ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    bianmin_cli,
    bianmin_server,
    code_version,
    config_with_caps,
    free_port,
    machine_load,
    median,
    percentile,
    table,
    verdict,
)
from tests.printer.fake_printer import FakePrinter, wait_for  # noqa: E402

HALL = "qingshan"
TARGET_MS = 300.0


def point_printer_at(config: Path, port: int) -> None:
    """Make printer-1 of the copied demo hall a network printer at the fake printer's port."""
    text = config.read_text(encoding="utf-8")
    changed, n = re.subn(
        r'(id = "printer-1"\nname = "[^"]*"\n)transport = "virtual"',
        rf'\1transport = "network"\nhost = "127.0.0.1"\nport = {port}\ntimeout_s = 2.0',
        text,
    )
    if n != 1:
        raise RuntimeError(f"no virtual printer-1 in {config}")
    config.write_text(changed, encoding="utf-8")


async def print_tickets(url: str, token: str, fake: FakePrinter, tickets: int) -> tuple[list[float], bytes]:
    from kiosk.client import KioskClient
    from kiosk.printing import KioskPrinter
    from queue_server.protocol import IssueRequest

    times: list[float] = []
    loop = asyncio.get_running_loop()
    async with KioskClient(url, token) as client:
        setup = await client.setup("kiosk-1")
        assert setup.printer is not None and setup.printer.transport.value == "network"
        printer = KioskPrinter(
            setup.hall, setup.printer, post=lambda callback: loop.call_soon_threadsafe(callback) and None,
            on_progress=lambda *_: None, on_state=lambda *_: None, virtual_root=Path(tempfile.gettempdir()),
        )  # fmt: skip
        try:
            for n in range(tickets + 2):
                before = len(fake.jobs())
                issued = await client.issue(setup.hall.id, IssueRequest(category="jisheng"), f"bench-{n}-{time.time()}")
                ticket = issued.ticket
                start = time.perf_counter()
                printer.print_receipt(ticket, f"{url}/t/{ticket.track_token}")
                await asyncio.to_thread(printer.spooler.wait_idle, 30)
                if not wait_for(lambda b=before: len(fake.jobs()) > b, 5):
                    raise RuntimeError("the receipt never reached the printer")
                if n >= 2:  # the first receipts load fonts
                    times.append((time.perf_counter() - start) * 1000)
        finally:
            await asyncio.to_thread(printer.close)
    return times, fake.jobs()[-1]


def bare_writes(fake: FakePrinter, data: bytes, count: int) -> list[float]:
    import socket

    times = []
    for _ in range(count):
        before = len(fake.jobs())
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
            sock.sendall(data)
        wait_for(lambda b=before: len(fake.jobs()) > b and len(fake.jobs()[-1]) >= len(data), 5, 0.0005)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=20)
    args = parser.parse_args()
    print(f"ticket → receipt at a network printer; {code_version()}; {machine_load()}")
    fake = FakePrinter()
    fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-printer-") as folder:
            work = Path(folder)
            config = config_with_caps(work / "config", 9999)
            point_printer_at(config, fake.port)
            db = work / "bench.db"
            token = bianmin_cli("device", "add", HALL, "kiosk-1", "--db", str(db), "--config", str(config)).strip()
            port = free_port()
            with bianmin_server(db, port, work / "server.log", config):
                times, receipt = asyncio.run(print_tickets(f"http://127.0.0.1:{port}", token, fake, args.tickets))
        bare = bare_writes(fake, receipt, args.tickets)
    finally:
        fake.stop()
    rows = [
        ["bare socket write of the same receipt (baseline)", len(bare), median(bare), percentile(bare, 95), max(bare)],
        ["ticket answer → receipt at the printer (kiosk path)", len(times), median(times), percentile(times, 95),
         max(times)],
    ]  # fmt: skip
    print(table(["path (ms)", "n", "median", "p95", "max"], rows))
    print(f"receipt {len(receipt):,} bytes; ratio to baseline (median) {median(times) / median(bare):.1f}; "
          f"target ≤ {TARGET_MS:.0f} ms at p95: {verdict(percentile(times, 95) <= TARGET_MS)}")  # fmt: skip
    print(f"after: {machine_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
