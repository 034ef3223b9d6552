"""Server memory per idle board subscriber, next to a bare Starlette websocket server.

Method
------
- bianmin: `bianmin serve` (child process, one uvicorn worker, per-message deflate off) on a fresh
  SQLite file with the bundled demo hall. baseline: `bench/baselines/bare_broadcast.py`, a bare
  uvicorn + Starlette websocket endpoint that sends one hello message of the size of bianmin's
  snapshot and then only waits for the client to leave.
- Subscribers: `websockets` client connections to `/ws/halls/qingshan/board` held by 4 child processes
  (see common.SubscriberPool); a level counts once every subscriber has received its first message
  (the snapshot, or the hello). They then stay idle: no pings, no traffic.
- Memory: the server's VmRSS (/proc/PID/status). First 20 subscribers connect and leave (so that code
  paths loaded on first use, caches and pools are in the baseline), then RSS with 0 subscribers,
  with 1,000 and with 2,000 (`--levels`), each read after 1 s of quiet. KiB per subscriber =
  (RSS(N) − RSS(0)) / N; "marginal" is the growth between the last two levels per added subscriber.
- Runs: 3 rounds × (baseline, bianmin), interleaved; the medians are compared. Target: bianmin <= 64 KiB
  per idle subscriber at every level.

`--quick`: one round at 200 and 400 subscribers.

    .venv/bin/python bench/ws_memory.py [--quick] [--levels 1000,2000] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH,
    HALL,
    PYTHON,
    ServerProcess,
    SubscriberPool,
    bianmin_server,
    code_version,
    free_port,
    machine_load,
    median,
    raise_nofile,
    table,
    verdict,
)

TARGET_KIB = 64.0
BOARD_PATH = f"/ws/halls/{HALL}/board"
WARMUP_SUBSCRIBERS = 20
SETTLE_S = 1.0


@dataclass
class Run:
    server: str
    round: int
    rss0: int
    rss: list[int]  # KiB at each level
    first_size: int


def measure(server: ServerProcess, pool: SubscriberPool, levels: list[int]) -> tuple[int, list[int], int]:
    url = f"ws://127.0.0.1:{server.port}{BOARD_PATH}"
    pool.connect(url, WARMUP_SUBSCRIBERS)
    pool.close_connections()
    time.sleep(SETTLE_S)
    rss0 = server.rss_kib()
    rss: list[int] = []
    connected = 0
    first_size = 0
    for level in levels:
        answer = pool.connect(url, level - connected)
        first_size = max(first_size, answer["first_size"])
        connected = level
        time.sleep(SETTLE_S)
        rss.append(server.rss_kib())
    pool.close_connections()
    return rss0, rss, first_size


def main() -> int:
    parser = argparse.ArgumentParser(description="Server memory per idle board subscriber.")
    parser.add_argument("--quick", action="store_true", help="one round at 200 and 400 subscribers")
    parser.add_argument("--levels", default="1000,2000", help="subscriber counts, comma-separated, increasing")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=4, help="subscriber processes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, server logs)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    if args.quick:
        args.rounds, levels = 1, [200, 400]
    if levels != sorted(set(levels)) or levels[0] <= 0:
        parser.error("--levels must be increasing positive counts")
    raise_nofile(max(levels) + 4096)

    work = Path(tempfile.mkdtemp(prefix="bench-wsmem-"))
    started = time.monotonic()
    print(f"ws memory: idle subscribers at {', '.join(map(str, levels))} in {args.processes} processes,"
          f" {args.rounds} round(s); {os.cpu_count()} CPUs; {machine_load()}")  # fmt: skip
    print(f"  {code_version()}")
    runs: list[Run] = []
    hello_size = 0
    try:
        with SubscriberPool(args.processes, -(-max(levels) // args.processes)) as pool:
            for round_no in range(1, args.rounds + 1):
                # bianmin first in each round: the baseline's hello takes the size of bianmin's snapshot.
                port = free_port()
                folder = work / f"bianmin-{round_no}"
                with bianmin_server(folder / "bianmin.db", port, folder / "server.log") as server:
                    rss0, rss, hello_size = measure(server, pool, levels)
                runs.append(Run("bianmin board", round_no, rss0, rss, hello_size))
                port = free_port()
                bare = ServerProcess(
                    "bare_broadcast",
                    [PYTHON, str(BENCH / "baselines" / "bare_broadcast.py"), "--port", str(port),
                     "--hello-size", str(hello_size)],
                    port, work / f"bare-{round_no}" / "server.log",
                )  # fmt: skip
                with bare:
                    rss0, rss, size = measure(bare, pool, levels)
                runs.append(Run("bare Starlette", round_no, rss0, rss, size))
                print(f"  round {round_no} done", flush=True)
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    def per_sub(run: Run) -> list[float]:
        figures = [(kib - run.rss0) / level for kib, level in zip(run.rss, levels, strict=True)]
        if len(levels) > 1:
            figures.append((run.rss[-1] - run.rss[-2]) / (levels[-1] - levels[-2]))
        return figures

    level_heads = [f"KiB/sub @{n}" for n in levels] + (["marginal"] if len(levels) > 1 else [])
    headers = ["server", "run", "first msg B", "RSS0 MiB", *[f"RSS @{n} MiB" for n in levels], *level_heads]
    rows: list[list[object]] = []
    for run in runs:
        rows.append([run.server, str(run.round), run.first_size, run.rss0 / 1024, *(k / 1024 for k in run.rss),
                     *per_sub(run)])  # fmt: skip
    medians: dict[str, list[float]] = {}
    for name in ("bare Starlette", "bianmin board"):
        group = [r for r in runs if r.server == name]
        columns = list(zip(*(per_sub(r) for r in group), strict=True))
        medians[name] = [median(list(c)) for c in columns]
        level_rss = [median([r.rss[i] / 1024 for r in group]) for i in range(len(levels))]
        rss0_mib = median([r.rss0 / 1024 for r in group])
        rows.append([name, "median", group[0].first_size, rss0_mib, *level_rss, *medians[name]])
    print()
    print(table(headers, rows))
    worst = max(medians["bianmin board"][: len(levels)])
    bare_worst = max(medians["bare Starlette"][: len(levels)])
    ok = verdict(worst <= TARGET_KIB)
    print(f"\nbianmin: {worst:.1f} KiB per idle subscriber (worst level; bare Starlette {bare_worst:.1f},"
          f" ratio {worst / bare_worst:.2f})  (target <= {TARGET_KIB:.0f} KiB: {ok})")  # fmt: skip
    print(f"\nnow {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; every server and subscriber process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
