"""The kiosk's resident memory over many tickets: does it grow per ticket?

Method
------
- Server: `bianmin serve` as a child process on 127.0.0.1 on a fresh SQLite file, with a copy of the
  demo hall whose caps are 9,999 and whose printer-1 writes to a file (every ticket also renders
  and spools its receipt, as at a hall). The kiosk token comes from `bianmin device add`.
- Kiosk: the real Kivy app offscreen (SDL offscreen, Mesa llvmpipe) in a child process
  (tests/kiosk/window_driver.py), touched like a finger, against that server.
- Measured path: home → 计生服务 → 不确定办哪一项？直接取号 → (the number on screen) → 完成, N times.
- Baseline in the same run: home → 计生服务 → 生育登记 → 取号 → 完成 (the item path), in a second
  kiosk process, M times.
- Each process first issues `--warm` tickets (the first screens build their widgets, textures and
  caches), then VmRSS is read after a full garbage collection every `--every` tickets. The figure is
  the growth per ticket after the warm-up (a least-squares slope over the checkpoints, and last − first).

Target: growth per ticket on the measured path ≤ 10 KiB (500 tickets a day for a year: under 2 GiB
would still be far too much; the point is that it does not grow with the tickets, only with noise).

    .venv/bin/python bench/kiosk_memory.py [--tickets 1000] [--baseline-tickets 200] [--every 100]
        [--warm 20] [--size 1080x1920] [--trace]

A run of 1,000 + 200 tickets takes about 15–20 minutes on a 2-core machine without a GPU; use
`--tickets 100 --every 25 --baseline-tickets 50` for a quick look. `--trace` adds tracemalloc over
the measured path and prints where the memory that stayed was allocated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    HALL,
    bianmin_cli,
    bianmin_server,
    code_version,
    config_with_caps,
    free_port,
    machine_load,
    table,
    verdict,
)
from bench.kiosk_tap import printer_to_file, run_window

TARGET_KIB = 10.0
DIRECT = [["tap", "计生服务"], ["wait_screen", "category"], ["take", "不确定办哪一项？直接取号"], ["tap", "完 成"],
          ["wait_screen", "home"]]  # fmt: skip
ITEM = [["tap", "计生服务"], ["wait_screen", "category"], ["tap", "生育登记"], ["wait_screen", "item"],
        ["take", "取 号"], ["tap", "完 成"], ["wait_screen", "home"]]  # fmt: skip


def script(one: list[Any], tickets: int, every: int, warm: int, trace: bool) -> list[Any]:
    steps: list[Any] = [["wait_live"], ["repeat", warm, one], ["rss", "0"]]
    if trace:
        steps.append(["trace", "start"])
    done = 0
    while done < tickets:
        block = min(every, tickets - done)
        steps += [["repeat", block, one], ["rss", str(done + block)]]
        done += block
    if trace:
        steps.append(["trace", "top"])
    return steps


def slope(points: list[tuple[int, float]]) -> float:
    """The least-squares KiB per ticket through the checkpoints."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def growth(result: dict[str, Any]) -> tuple[list[tuple[int, float]], float, float]:
    """Checkpoints (tickets after the warm-up, VmRSS KiB), the least-squares KiB per ticket, and last − first."""
    points = sorted((int(label), float(rss["VmRSS"])) for label, rss in result["rss"].items())
    overall = (points[-1][1] - points[0][1]) / points[-1][0] if points[-1][0] else 0.0
    return points, slope(points), overall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=1000, help="measured tickets, category → 直接取号")
    parser.add_argument("--baseline-tickets", type=int, default=200, help="tickets of the item path (0: none)")
    parser.add_argument("--every", type=int, default=100, help="tickets between two memory readings")
    parser.add_argument("--warm", type=int, default=20, help="tickets before the first reading")
    parser.add_argument("--size", default="1080x1920", help="the kiosk's window (default portrait 1080x1920)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc over the measured path: where it grew")
    args = parser.parse_args()

    print(f"kiosk memory per ticket; {code_version()}; {machine_load()}")
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-kiosk-memory-") as folder:
        work = Path(folder)
        config = config_with_caps(work / "config", 9999)
        printer_to_file(config, work / "printer.bin")
        db = work / "bench.db"
        token = bianmin_cli("device", "add", HALL, "kiosk-1", "--db", str(db), "--config", str(config)).strip()
        port = free_port()
        with bianmin_server(db, port, work / "server.log", config):
            url = f"http://127.0.0.1:{port}"
            paths = [("category → 直接取号", DIRECT, args.tickets, args.trace)]
            if args.baseline_tickets:
                paths.append(("category → item → 取号 (baseline)", ITEM, args.baseline_tickets, False))
            for number, (name, one, tickets, trace) in enumerate(paths):
                steps = script(one, tickets, min(args.every, tickets), args.warm, trace)
                runs[name] = run_window(url, token, steps, work / f"kiosk-{number}", args.size)
    rows = []
    slopes: dict[str, float] = {}
    for name, result in runs.items():
        points, fit, overall = growth(result)
        slopes[name] = fit
        readings = ", ".join(f"{x}: {y / 1024:.1f}" for x, y in points)
        late = slope(points[len(points) // 2 :]) if len(points) >= 4 else fit
        rows.append([name, points[-1][0], points[0][1] / 1024, points[-1][1] / 1024, fit, late, overall])
        print(f"{name}: VmRSS MiB by tickets after the warm-up: {readings}")
    headers = ["path", "tickets", "RSS start MiB", "RSS end MiB", "KiB/ticket (fit)", "(fit, 2nd half)",
               "(end − start)"]  # fmt: skip
    print(table(headers, rows))
    for result in runs.values():
        if "types" in result:
            print("  objects that grew in number: " + ", ".join(f"{kind} +{n}" for kind, n in result["types"]))
        for stat in result.get("trace", []):
            print(f"  traced {stat['kib']:>9.1f} KiB {stat['count']:>7} blocks  {' < '.join(reversed(stat['where']))}")
    measured = slopes[paths[0][0]]
    print(f"category → 直接取号 grows {measured:.1f} KiB per ticket; target ≤ {TARGET_KIB:.0f}: "
          f"{verdict(measured <= TARGET_KIB)}")  # fmt: skip
    print(f"after: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
