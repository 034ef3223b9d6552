"""Call → frame on screen at the Kivy hall board, next to the websocket receipt of the same call.

Method
------
- Server: `bianmin serve` as a child process on 127.0.0.1 on a fresh SQLite file (the demo hall), a
  clerk of the window serving the most categories logged in and the window open, tickets pre-issued
  (bench/call_latency.py's set-up).
- Board: the real Kivy hall board (display_board/) offscreen (SDL offscreen, Mesa llvmpipe) at 1920×1080
  in a child process (bench/kivy_board_driver.py); each frame is finished (glFinish) when drawn, as a
  display's swap would. It reports the end of the first frame drawn after a call's number was set on the
  board (CLOCK_MONOTONIC, one clock for both processes).
- Baseline in the same run: a bare `websockets` subscriber of the same board feed in this process, the time
  its `recv()` returns the call message (what a web board's socket receives; the web board then draws
  in ~1 frame of a GPU browser: bench/call_latency.py measures the web path at 1,000 subscribers).
- Calls: `call-next`, then `no-show` 0.5 s later, every `--spacing` seconds, `--calls` times.
- `--busy N`: N processes spinning on the CPU during the run (the "under load" of the issue).

Target: call → frame p95 ≤ 2 frames of this renderer + the websocket receipt p95.

    .venv/bin/python bench/kivy_board_frame.py [--calls 20] [--spacing 1.5] [--busy 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.call_latency import setup_bianmin, trigger_bianmin
from bench.common import HALL, PYTHON, ROOT, code_version, machine_load, median, percentile, table, verdict

BUSY = "while True: pass"


async def subscriber(port: int, seen: dict[str, int], ready: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/ws/halls/{HALL}/board", compression=None) as ws:
        ready.set()
        async for text in ws:
            message = json.loads(text)
            if message.get("type") == "call":
                seen.setdefault(message["ticket"]["number"], time.monotonic_ns())


async def measure(calls: int, spacing: float, work: Path, size: str) -> dict[str, list[float]]:
    target = await setup_bianmin(work, calls)
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "KIVY_NO_ARGS": "1",
           "KIVY_HOME": str(work / "kivy-home"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    url = f"http://127.0.0.1:{target.server.port}"
    with (work / "board.log").open("w") as log:
        board = subprocess.Popen([PYTHON, str(ROOT / "bench" / "kivy_board_driver.py"), "--server", url, "--size",
                                  size], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=log, text=True)  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in board.stdout or []], daemon=True).start()
    shown: dict[str, int] = {}
    frames: list[float] = []

    def drain(until: float) -> bool:
        ready = False
        while time.monotonic() < until:
            try:
                line = lines.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            kind, _, rest = line.partition(" ")
            if kind == "READY":
                ready = True
                break
            if kind == "SHOWN":
                number, ns = rest.split()
                shown.setdefault(number, int(ns))
            elif kind == "FRAME":
                frames.append(float(rest))
        return ready

    try:
        if not await asyncio.to_thread(drain, time.monotonic() + 120):
            raise RuntimeError(f"the Kivy board did not start; see {work / 'board.log'}")
        seen: dict[str, int] = {}
        ready = asyncio.Event()
        listening = asyncio.create_task(subscriber(target.server.port, seen, ready))
        await ready.wait()
        frames.clear()
        triggers, _http = await trigger_bianmin(target, calls, spacing / 2)
        await asyncio.to_thread(drain, time.monotonic() + 5)
        listening.cancel()
    finally:
        if board.stdin:
            board.stdin.close()
        try:
            board.wait(timeout=20)
        except subprocess.TimeoutExpired:
            board.kill()
        target.server.stop()
    missing = [number for number, _t0 in triggers if number not in shown]
    if missing:  # a call the board skipped or drew more than 5 s after the last call
        print(f"NOT SHOWN on the Kivy board within 5 s of the last call: {len(missing)} of {len(triggers)}: {missing}")
    return {
        "socket": [(seen[number] - t0) / 1e6 for number, t0 in triggers if number in seen],
        "frame": [(shown[number] - t0) / 1e6 for number, t0 in triggers if number in shown],
        "frame_cost": frames,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=1.5, help="seconds from one call to the next")
    parser.add_argument("--busy", type=int, default=0, help="processes spinning on the CPU meanwhile")
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    print(f"Kivy board call → frame; {code_version()}; {machine_load()}")
    hogs = [subprocess.Popen([PYTHON, "-c", BUSY]) for _ in range(args.busy)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-board-frame-") as folder:
            result = asyncio.run(measure(args.calls, args.spacing, Path(folder), args.size))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()

    def row(name: str, values: list[float]) -> list[object]:
        return [name, len(values), median(values), percentile(values, 95), percentile(values, 99), max(values)]

    rows = [row("websocket receipt of the call (baseline)", result["socket"]),
            row("Kivy board: call → frame showing the number", result["frame"]),
            row("Kivy board: time from one frame to the next", result["frame_cost"])]  # fmt: skip
    print(table(["ms", "n", "p50", "p95", "p99", "max"], rows))
    frame = median(result["frame_cost"])
    limit = percentile(result["socket"], 95) + 2 * frame
    p95 = percentile(result["frame"], 95)
    print(f"call → frame p95 {p95:.0f} ms; target ≤ socket p95 + 2 frames ({limit:.0f} ms): "
          f"{verdict(p95 <= limit)}; with {args.busy} busy processes")  # fmt: skip
    print(f"after: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
