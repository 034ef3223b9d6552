"""Call-to-receipt latency at 1,000 board subscribers, next to a bare Starlette broadcast baseline.

Method
------
- bianmin: `bianmin serve` (child process, one uvicorn worker, uvloop + httptools, per-message deflate
  off) on a fresh SQLite file with the bundled demo hall. Before it starts, `bianmin user add` creates
  the A-post clerk of the demo window that serves the most categories (window 10) and
  `bianmin device add` a kiosk token. The clerk logs in and opens the window; the kiosk pre-issues
  every ticket the run will call (round-robin over the window's categories, within the demo caps)
  before any subscriber connects.
- baseline: `bench/baselines/bare_broadcast.py`, a bare uvicorn + Starlette websocket endpoint whose
  `POST /broadcast` sends one pre-serialized message to all subscribers in a plain loop. Its messages
  have the byte size of bianmin's call message, and its hello the size of bianmin's snapshot, both
  measured by a probe subscriber at the start of the run.
- Subscribers: 1,000 `websockets` (asyncio) client connections to `/ws/halls/qingshan/board`, spread
  over 4 child processes of 250 (`--processes`), each on uvloop, without compression or keep-alive
  pings; a run starts once every subscriber received its snapshot (or hello). A subscriber process
  takes the receive time in its connection's `data_received` (when the event loop read the bytes from
  the socket, before the library parses them) — the "socket" columns — and again when `recv()`
  returned the message to the application — the "app" column.
- Trigger: the controller (this process) takes `time.monotonic_ns()` just before it sends
  `POST .../windows/10/call-next` (bianmin) or `POST /broadcast` (baseline) on a keep-alive
  connection; CLOCK_MONOTONIC is one clock for all processes of the machine. Then it waits 50 ms, sends
  `no-show` (bianmin; a `ticket` message to every board) or a second, non-call broadcast of the same
  size (baseline), and waits 50 ms again. Latency = receive time − trigger time, for every
  (call, subscriber) pair; a call message that never arrives is counted as missing.
- Runs: 3 rounds × (baseline, bianmin), interleaved, 40 calls each; subscribers reconnect for every
  run. The table shows each run and the medians of the per-run figures. Targets: bianmin p99 <= 1.5 ×
  the baseline's p99, and <= 100 ms.

All processes share the machine's cores (server, subscribers, controller). `--quick`: one round of
20 calls at 300 subscribers.

    .venv/bin/python bench/call_latency.py [--quick] [--subscribers N] [--processes P] [--calls K]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
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
    HttpConnection,
    ServerProcess,
    SubscriberPool,
    bianmin_cli,
    bianmin_server,
    code_version,
    free_port,
    install_uvloop,
    machine_load,
    median,
    percentile,
    raise_nofile,
    request_json,
    table,
    verdict,
)

TARGET_RATIO = 1.5
TARGET_P99_MS = 100.0
BOARD_PATH = f"/ws/halls/{HALL}/board"


@dataclass
class Run:
    server: str
    round: int
    p50: float
    p99: float
    max: float
    app_p99: float
    last_p50: float  # median over calls of the time until the last subscriber had it
    http_p50: float  # the trigger request's own answer time
    missing: int
    samples: int


@dataclass
class Bianmin:
    server: ServerProcess
    window: int
    categories: list[str]
    staff: str
    kiosk: str


def pick_window() -> tuple[int, str, list[str], int]:
    """The demo window serving the most categories: its number, A-post clerk, categories, their summed cap."""
    from config.loader import default_config_path, load_config

    hall = load_config(default_config_path()).hall(HALL)
    window = max(hall.windows, key=lambda w: (len(w.categories), -w.number))
    if not window.a_post:
        raise RuntimeError(f"window {window.number} has no A-post clerk in the demo configuration")
    caps = {c.code: c.daily_cap for c in hall.categories}
    capacity = len(window.categories) * min(caps[c] for c in window.categories)  # tickets go round-robin
    return window.number, window.a_post, list(window.categories), capacity


async def setup_bianmin(work: Path, tickets: int) -> Bianmin:
    number, clerk, categories, capacity = pick_window()
    if tickets > capacity:
        raise SystemExit(f"{tickets} calls need more tickets than window {number}'s demo caps allow ({capacity})")
    db = work / "bianmin" / "bianmin.db"
    password = secrets.token_urlsafe(12)
    bianmin_cli("user", "add", clerk, "--name", "叫号测试", "--role", "clerk", "--db", str(db), stdin=password + "\n")
    kiosk = bianmin_cli("device", "add", HALL, "kiosk-1", "--db", str(db)).strip()
    port = free_port()
    server = bianmin_server(db, port, work / "bianmin" / "server.log").start()
    conn = await HttpConnection.open(port)
    try:
        status, answer = await request_json(
            conn, port, "POST", "/api/v1/auth/login", {"username": clerk, "password": password}
        )
        if status != 200:
            raise RuntimeError(f"login failed: {status} {answer}")
        staff = answer["access_token"]  # type: ignore[index]
        auth = {"Authorization": f"Bearer {staff}"}
        status, answer = await request_json(
            conn, port, "POST", f"/api/v1/halls/{HALL}/windows/{number}/open", {"post": "A"}, auth
        )
        if status != 200:
            raise RuntimeError(f"opening window {number} failed: {status} {answer}")
        kiosk_auth = {"Authorization": f"Bearer {kiosk}"}
        for i in range(tickets):
            headers = {**kiosk_auth, "Idempotency-Key": f"pre-{i}"}
            body = {"category": categories[i % len(categories)]}
            status, answer = await request_json(conn, port, "POST", f"/api/v1/halls/{HALL}/tickets", body, headers)
            if status != 201:
                raise RuntimeError(f"pre-issuing failed: {status} {answer}")
    finally:
        conn.close()
    return Bianmin(server, number, categories, staff, kiosk)


async def probe_sizes(target: Bianmin, spacing: float) -> tuple[int, int]:
    """Snapshot and call message sizes, from one subscriber and one call (then a no-show)."""
    from websockets.asyncio.client import connect

    port = target.server.port
    url = f"ws://127.0.0.1:{port}{BOARD_PATH}"
    conn = await HttpConnection.open(port)
    auth = {"Authorization": f"Bearer {target.staff}"}
    async with connect(url, compression=None, ping_interval=None) as ws:
        snapshot = await ws.recv()
        status, _ = await request_json(
            conn, port, "POST", f"/api/v1/halls/{HALL}/windows/{target.window}/call-next", None, auth
        )
        if status != 200:
            raise RuntimeError(f"call-next answered {status}")
        while True:
            message = await asyncio.wait_for(ws.recv(), 10)
            if json.loads(message)["type"] == "call":
                break
        await request_json(conn, port, "POST", f"/api/v1/halls/{HALL}/windows/{target.window}/no-show", None, auth)
        await asyncio.sleep(spacing)
    conn.close()
    return len(str(snapshot).encode()), len(str(message).encode())


async def trigger_bianmin(target: Bianmin, calls: int, spacing: float) -> tuple[list[tuple[str, int]], list[float]]:
    port = target.server.port
    conn = await HttpConnection.open(port)
    auth = {"Authorization": f"Bearer {target.staff}"}
    base = f"/api/v1/halls/{HALL}/windows/{target.window}"
    triggers: list[tuple[str, int]] = []
    http_ms: list[float] = []
    try:
        for _ in range(calls):
            t0 = time.monotonic_ns()
            status, answer = await request_json(conn, port, "POST", f"{base}/call-next", None, auth)
            http_ms.append((time.monotonic_ns() - t0) / 1e6)
            if status != 200:
                raise RuntimeError(f"call-next answered {status}: {answer}")
            triggers.append((answer["ticket"]["number"], t0))  # type: ignore[index]
            await asyncio.sleep(spacing)
            status, answer = await request_json(conn, port, "POST", f"{base}/no-show", None, auth)
            if status != 200:
                raise RuntimeError(f"no-show answered {status}: {answer}")
            await asyncio.sleep(spacing)
    finally:
        conn.close()
    return triggers, http_ms


async def trigger_bare(
    port: int, first: int, calls: int, size: int, spacing: float
) -> tuple[list[tuple[str, int]], list[float]]:
    conn = await HttpConnection.open(port)
    triggers: list[tuple[str, int]] = []
    http_ms: list[float] = []
    try:
        for n in range(first, first + calls):
            t0 = time.monotonic_ns()
            status, answer = await request_json(conn, port, "POST", "/broadcast", {"n": n, "size": size})
            http_ms.append((time.monotonic_ns() - t0) / 1e6)
            if status != 200:
                raise RuntimeError(f"broadcast answered {status}: {answer}")
            triggers.append((f"X{n:05d}", t0))
            await asyncio.sleep(spacing)
            await request_json(conn, port, "POST", "/broadcast", {"n": n, "size": size, "type": "ticket"})
            await asyncio.sleep(spacing)
    finally:
        conn.close()
    return triggers, http_ms


def summarize(
    name: str, round_no: int, subscribers: int, triggers: list[tuple[str, int]], http_ms: list[float],
    stamps: dict[str, list[tuple[int, int]]],
) -> Run:  # fmt: skip
    socket_ms: list[float] = []
    app_ms: list[float] = []
    last_ms: list[float] = []
    missing = 0
    for number, t0 in triggers:
        got = stamps.get(number, [])
        missing += subscribers - len(got)
        these = [(rx - t0) / 1e6 for rx, _ in got]
        socket_ms += these
        app_ms += [(app - t0) / 1e6 for _, app in got]
        if these:
            last_ms.append(max(these))
    return Run(
        name, round_no, percentile(socket_ms, 50), percentile(socket_ms, 99), max(socket_ms, default=float("nan")),
        percentile(app_ms, 99), median(last_ms), median(http_ms), missing, len(socket_ms),
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="Call-to-receipt latency at N board subscribers.")
    parser.add_argument("--quick", action="store_true", help="one round of 20 calls at 300 subscribers")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4, help="subscriber processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=40, help="calls per run")
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between requests")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server logs)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.calls, args.subscribers = 1, 20, 300
    install_uvloop()
    raise_nofile(args.subscribers + 4096)

    work = Path(tempfile.mkdtemp(prefix="bench-call-"))
    started = time.monotonic()
    per_process = -(-args.subscribers // args.processes)
    print(f"call latency: {args.subscribers} subscribers in {args.processes} processes, {args.rounds} round(s) of"
          f" {args.calls} calls {args.spacing * 1000:.0f} ms apart; {os.cpu_count()} CPUs;"
          f" {machine_load()}")  # fmt: skip
    print(f"  {code_version()}")
    runs: list[Run] = []
    bare: ServerProcess | None = None
    target: Bianmin | None = None
    try:
        with SubscriberPool(args.processes, per_process) as pool:
            target = asyncio.run(setup_bianmin(work, args.rounds * args.calls + 1))
            snapshot_size, call_size = asyncio.run(probe_sizes(target, args.spacing))
            print(f"  bianmin snapshot {snapshot_size} B, call message {call_size} B;"
                  f" the baseline sends messages of the same sizes")  # fmt: skip
            port = free_port()
            bare = ServerProcess(
                "bare_broadcast",
                [PYTHON, str(BENCH / "baselines" / "bare_broadcast.py"), "--port", str(port),
                 "--hello-size", str(snapshot_size)],
                port, work / "bare" / "server.log",
            ).start()  # fmt: skip
            for round_no in range(1, args.rounds + 1):
                for name in ("bare broadcast", "bianmin call"):
                    server_port = port if name == "bare broadcast" else target.server.port
                    pool.connect(f"ws://127.0.0.1:{server_port}{BOARD_PATH}", args.subscribers)
                    time.sleep(0.5)
                    if name == "bare broadcast":
                        triggers, http_ms = asyncio.run(
                            trigger_bare(port, round_no * 10_000, args.calls, call_size, args.spacing)
                        )
                    else:
                        triggers, http_ms = asyncio.run(trigger_bianmin(target, args.calls, args.spacing))
                    time.sleep(0.5)
                    run = summarize(name, round_no, args.subscribers, triggers, http_ms, pool.report())
                    pool.close_connections()
                    runs.append(run)
                    print(f"  round {round_no} {name}: p50 {run.p50:.1f} ms, p99 {run.p99:.1f} ms", flush=True)
    finally:
        if bare is not None:
            bare.stop()
        if target is not None:
            target.server.stop()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    rows: list[list[object]] = [
        [r.server, str(r.round), r.p50, r.p99, r.max, r.app_p99, r.last_p50, r.http_p50, r.samples, r.missing]
        for r in runs
    ]
    groups = {name: [r for r in runs if r.server == name] for name in ("bare broadcast", "bianmin call")}
    for name, group in groups.items():
        rows.append([
            name, "median", *(median([getattr(r, f) for r in group]) for f in ("p50", "p99", "max", "app_p99",
                                                                                "last_p50", "http_p50")),
            sum(r.samples for r in group), sum(r.missing for r in group),
        ])  # fmt: skip
    print()
    print(f"trigger -> receipt at {args.subscribers} subscribers (ms; socket = read from the socket, app = recv()"
          f" returned; last = all subscribers had it; trigger = the HTTP request's own answer time):")  # fmt: skip
    headers = ["server", "run", "p50", "p99", "max", "app p99", "last p50", "trigger p50", "receipts", "missing"]
    print(table(headers, rows))
    bare_p99 = median([r.p99 for r in groups["bare broadcast"]])
    real_p99 = median([r.p99 for r in groups["bianmin call"]])
    ratio = real_p99 / bare_p99
    missing = sum(r.missing for r in runs)
    print(f"\nbianmin / baseline p99: {ratio:.2f}  (target <= {TARGET_RATIO}: {verdict(ratio <= TARGET_RATIO)})")
    print(f"bianmin p99: {real_p99:.1f} ms  (target <= {TARGET_P99_MS:.0f} ms: {verdict(real_p99 <= TARGET_P99_MS)})")
    real, bare_runs = groups["bianmin call"], groups["bare broadcast"]
    p50_ratio = median([r.p50 for r in real]) / median([r.p50 for r in bare_runs])
    last_ratio = median([r.last_p50 for r in real]) / median([r.last_p50 for r in bare_runs])
    print(f"bianmin / baseline p50: {p50_ratio:.2f}; time until all subscribers had it (last p50): {last_ratio:.2f}"
          " (steadier than p99 on a busy machine)")  # fmt: skip
    if missing:
        print(f"MISSING: {missing} call messages never reached a subscriber")
    print(f"\nnow {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 1 if missing else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; every server and subscriber process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
