"""The spooler over many jobs with random printer faults: no truncated job reported printed, none printed twice.

Method: one `Spooler` with a `NetworkTransport` sends N jobs to the fake network printer of
tests/printer/fake_printer.py on 127.0.0.1, which answers DLE EOT wherever it appears (image data
included), reads one connection at a time, and keeps its command parser across connections, as a
printer does; tests/printer/paper.py records the cut pieces of paper. Each connection gets a random
fault: none, a reset (RST) after a random number of bytes (the unread rest is lost), no answers from
a random byte on, slow answers (some slower than the spooler waits), or slow answers and a reset.
The printer's receive buffer is small (4 KB) and it reads at 8 MB/s, so most of a job waits in the
kiosk's socket, as with a real printer (whose reset then loses it). The jobs: compact receipts
(raster and native, 58 and 80 mm, each made unique by a line with its number) and, one in three, a
foreign raster image whose dots hold DLE EOT 1/2/4. At the end every job must be done; counted: jobs
reported printed (done) whose whole printout is not on the paper (truncated: must be 0), jobs whose
whole printout is on the paper more than once (printed twice: must be 0), cut-off parts cut away and
marked void by the resync, and blank pieces (a cut sent again).
Exits 1 when either count is not 0. `--jobs 1000` by default (about 2-4 minutes here).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from printer.layout import commands  # noqa: E402
from printer.layout.render import render_receipt  # noqa: E402
from printer.spooler import JobState, RetryPolicy, Spooler  # noqa: E402
from printer.transports import NetworkTransport  # noqa: E402
from tests.printer.conftest import sample_receipt  # noqa: E402
from tests.printer.fake_printer import FakePrinter, Fault, wait_for  # noqa: E402
from tests.printer.paper import blank, piece_of  # noqa: E402

FAULTS = ("none", "reset", "no answer", "slow", "slow + reset")
WEIGHTS = (50, 18, 10, 12, 10)


@dataclass
class Result:
    jobs: int
    done: int
    confirmed: int
    truncated_reported_printed: int
    printed_twice: int
    voided_pieces: int
    blank_pieces: int
    attempts: int
    faults: Counter[str]
    resets: int
    seconds: float


def templates() -> list[bytes]:
    out = []
    for paper in (58, 80):
        for mode in ("raster", "native"):
            out.append(render_receipt(sample_receipt(), paper, mode).data)  # type: ignore[arg-type]
    return out


def foreign_image(rng: random.Random) -> bytes:
    """A raster image from elsewhere whose dots hold DLE EOT n (sent without the renderer's care)."""
    rows = rng.randint(20, 200)
    row = bytearray(rng.getrandbits(8) & 0x11 for _ in range(72))
    for at in rng.sample(range(0, 69), 3):
        row[at : at + 3] = b"\x10\x04" + bytes([rng.choice((1, 2, 4))])
    return commands.GS + b"v0\x00" + bytes([72, 0, rows & 0xFF, rows >> 8]) + bytes(row) * rows


def make_job(number: int, rng: random.Random, bases: list[bytes]) -> bytes:
    mark = commands.INITIALIZE + f"job {number:05d}\n".encode()
    if rng.random() < 1 / 3:
        return mark + foreign_image(rng) + commands.feed_lines(4) + commands.PARTIAL_CUT
    base = rng.choice(bases)
    return mark + base[len(commands.INITIALIZE) :]


def random_fault(rng: random.Random) -> tuple[str, Fault]:
    kind = rng.choices(FAULTS, WEIGHTS)[0]
    if kind == "reset":
        return kind, Fault(reset_at=rng.randint(1, 40_000))
    if kind == "no answer":
        return kind, Fault(mute_from=rng.randint(0, 40_000))
    if kind == "slow":
        return kind, Fault(delay_s=rng.uniform(0.01, 0.3))
    if kind == "slow + reset":
        return kind, Fault(delay_s=rng.uniform(0.01, 0.2), reset_at=rng.randint(1, 40_000))
    return kind, Fault()


def run(jobs: int = 1000, seed: int = 16, timeout_s: float = 1800.0) -> Result:
    rng = random.Random(seed)
    bases = templates()
    printer = FakePrinter(rcvbuf=4096, bytes_per_s=8_000_000)  # a printer's small buffer, read as it prints
    kinds: list[str] = []
    for _ in range(jobs * 6):
        kind, fault = random_fault(rng)
        kinds.append(kind)
        printer.faults.append(fault)
    printer.start()
    transport = NetworkTransport("127.0.0.1", printer.port, timeout_s=0.5, status_timeout_s=0.15)
    retry = RetryPolicy(initial_s=0.005, factor=2.0, max_s=0.02, confirm_timeout_s=0.25)
    spooler = Spooler("bench", transport, retry=retry, poll_interval_s=3600, history=jobs + 10)
    started = time.monotonic()
    try:
        payloads = [make_job(n, rng, bases) for n in range(jobs)]
        submitted = [spooler.submit(data, f"job {n}") for n, data in enumerate(payloads)]
        sent = getattr(spooler, "data", None)  # the bytes the spooler sends (a spooler without it: as submitted)
        if not spooler.wait_idle(timeout_s):
            raise SystemExit(f"not finished in {timeout_s:.0f} s")
        seconds = time.monotonic() - started
        settled = len(printer.faults)
        wait_for(lambda: printer.received() and not printer.paper.inside_command, 5)  # late readers finish
        final = [spooler.job(job.id) for job in submitted]
        pieces = Counter(printer.pieces())
        truncated = twice = 0
        for job, data in zip(final, payloads, strict=True):
            count = pieces[piece_of(sent(job.id) if sent else data)]
            truncated += job.state is JobState.DONE and count == 0
            twice += count > 1
        used = Counter(kinds[: len(kinds) - settled])
        return Result(
            jobs=jobs,
            done=sum(job.state is JobState.DONE for job in final),
            confirmed=sum(bool(job.confirmed) for job in final),
            truncated_reported_printed=truncated,
            printed_twice=twice,
            voided_pieces=sum(n for piece, n in pieces.items() if b"VOID" in piece),
            blank_pieces=sum(n for piece, n in pieces.items() if blank(piece)),
            attempts=sum(job.attempts for job in final),
            faults=used,
            resets=printer.resets,
            seconds=seconds,
        )
    finally:
        spooler.close()
        printer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the spooler logs every lost connection as a warning
    result = run(args.jobs, args.seed)
    connections = sum(result.faults.values())
    print(f"{result.jobs} jobs in {result.seconds:.1f} s, {result.attempts} attempts, {connections} connections")
    print("faults per connection: " + ", ".join(f"{kind} {result.faults[kind]}" for kind in FAULTS))
    print(f"printer resets: {result.resets}")
    print(f"done {result.done} (confirmed {result.confirmed}) of {result.jobs}")
    print(f"truncated jobs reported printed: {result.truncated_reported_printed}")
    print(f"jobs printed twice: {result.printed_twice}")
    print(f"cut-off parts cut away and marked void: {result.voided_pieces}; blank pieces (a cut sent again): "
          f"{result.blank_pieces}")  # fmt: skip
    return 0 if result.truncated_reported_printed == 0 and result.printed_twice == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
