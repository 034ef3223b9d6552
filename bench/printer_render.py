"""Render time and size of a ticket receipt and a long one-time notice, per text mode and paper width.

Prints the median over N runs (after one warm-up render that loads the fonts) and the byte size,
with python-escpos's bare `Dummy().text()` of the same text as the baseline. Target: a receipt in
at most 20 ms.

    .venv/bin/python bench/printer_render.py [--runs 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escpos.printer import Dummy

from config.loader import default_config_path, load_config
from config.schema import ServiceItem
from printer.layout import raster
from printer.layout.blocks import Badge, CheckItem, Document, Text
from printer.layout.notice import notice
from printer.layout.receipt import receipt
from printer.layout.render import render
from printer.model import Paper, TextMode, notice_data, receipt_data

PROFILES = {58: "POS-5890", 80: "TM-T20II"}  # python-escpos profiles 384 and 576 dots wide
PAPERS: tuple[Paper, ...] = (58, 80)
MODES: tuple[TextMode, ...] = ("raster", "native")


def median_ms(actions: Sequence[Callable[[], object]], runs: int, before: Callable[[], None] | None = None) -> float:
    """Median time of runs calls, cycling through actions; `before` runs untimed ahead of each call."""
    actions[0]()  # warm-up: fonts, cmaps
    times = []
    for run in range(runs):
        if before:
            before()
        started = time.perf_counter()
        actions[run % len(actions)]()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def plain_text(document: Document) -> str:
    """The document's text as python-escpos's text() would get it."""
    lines = []
    for block in document.blocks:
        if isinstance(block, Text):
            lines.append(block.prefix + block.text)
        elif isinstance(block, CheckItem):
            lines += ["□ " + block.text, block.detail]
        elif isinstance(block, Badge):
            lines.append(block.text)
    return "\n".join(lines) + "\n"


def baseline(document: Document, paper: Paper) -> bytes:
    printer = Dummy(profile=PROFILES[paper])
    for line in plain_text(document).splitlines():
        printer.text(line + "\n")
    printer.cut()
    return bytes(printer.output)


def longest_item(items: list[ServiceItem]) -> ServiceItem:
    def size(item: ServiceItem) -> int:
        texts = [*item.conditions, *item.procedure, *item.legal_basis, *(m.name + m.notes for m in item.materials)]
        return sum(len(text) for text in texts)

    return max(items, key=size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    hall = load_config(default_config_path()).halls[0]
    tz = ZoneInfo(hall.timezone)
    item_id = next(i.id for i in hall.items if i.category == "laobao")

    def ticket(n: int) -> Document:
        # Each run a new number, queue and time, as at the kiosk: the static lines repeat, these do not.
        data = receipt_data(
            hall,
            number=f"E{n:03d}",
            category="laobao",
            item_id=item_id,
            ahead=n % 17,
            estimated_wait_s=60 * (n % 90),
            issued_at=dt.datetime(2025, 3, 4, 9, 0, tzinfo=tz) + dt.timedelta(minutes=n),
            priority="green" if n % 5 == 0 else "ordinary",
            track_url=f"https://bianmin.example.cn/t/{n:010d}",
        )
        return receipt(data)

    tickets = [ticket(n) for n in range(1, 1 + max(args.runs, 1))]
    item = longest_item(hall.items)
    long_notice = notice(
        notice_data(item, hall, dt.date(2025, 3, 4), guide_base_url="https://bianmin.example.cn/guide")
    )

    first = time.perf_counter()
    render(tickets[0], 80, "raster")
    print(f"first receipt after start (loads fonts and cmaps): {(time.perf_counter() - first) * 1000:.0f} ms")
    print(f"median of {args.runs} runs; baseline = python-escpos Dummy().text() of the same text")
    print("receipt: a new number, queue and time each run; notice (cold): every line drawn afresh\n")
    header = (
        f"{'document':36} {'paper':>5} {'mode':>7} {'ms':>7} {'bytes':>7} {'base ms':>7} {'base B':>6}"
        f" {'x time':>7} {'x size':>6}"
    )
    print(header)
    print("-" * len(header))
    cases: list[tuple[str, list[Document], Callable[[], None] | None]] = [
        ("receipt", tickets, None),
        ("receipt (cold)", tickets, raster.clear_caches),
        (f"notice (cold) {item.id}", [long_notice], raster.clear_caches),
    ]
    for name, documents, before in cases:
        for paper in PAPERS:
            base_ms = median_ms([lambda d=d, p=paper: baseline(d, p) for d in documents], args.runs)
            base_size = len(baseline(documents[0], paper))
            for mode in MODES:
                actions = [lambda d=d, p=paper, m=mode: render(d, p, m) for d in documents]
                ms = median_ms(actions, args.runs, before if mode == "raster" else None)
                size = len(render(documents[0], paper, mode).data)
                print(
                    f"{name:36} {paper:>5} {mode:>7} {ms:7.2f} {size:7d} {base_ms:7.2f} {base_size:6d}"
                    f" {ms / base_ms:7.1f} {size / base_size:6.1f}"
                )
    preview_ms = median_ms([lambda d=d: render(d, 80, "native").preview for d in tickets], max(5, args.runs // 5))
    print(f"\nnative receipt with its preview (the emulated printout, 80 mm): {preview_ms:.1f} ms")


if __name__ == "__main__":
    main()
