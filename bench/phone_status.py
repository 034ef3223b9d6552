"""A phone's ticket status at 1k / 10k / 80k waiting tickets, next to `GET /healthz` on the same server.

Method
------
- Data: a fresh database (SQLite file, or `--backend postgresql`: a database of a throwaway cluster) with
  a temporary copy of the demo hall whose categories all have `daily_cap = 9999`. The queue is filled in
  this process, before the server starts, through the store and the issuing service exactly as the
  kiosk route runs them (`store.run(hall, issuing.issue_ticket(...))`, many at once, so they group-
  commit): every ticket stays waiting (nobody is called), categories round-robin over all 9. The levels
  are cumulative: the queue is filled to the first level, measured, filled to the next, measured again.
- Server: `bianmin serve` as a child process (one uvicorn worker, uvloop + httptools), restarted on the
  database at each level (so it loads the day's tickets as a restarted server would).
- Load: `--clients` keep-alive connections (default 1: each request alone, so the latency is the
  server's work, not queueing behind other requests; raw asyncio HTTP/1.1), each sending its next request
  as soon as the previous answer arrived; each alternates `GET /api/v1/halls/qingshan/tickets/{track_token}` for a
  token drawn at random from every waiting ticket (front, middle and back of the queue alike) and
  `GET /healthz` (the baseline: the same server, connection, time and load, with no work behind it).
  The status endpoint is rate-limited per client address and per token (a phone re-reads about once a
  second): each connection comes from its own loopback address (127.1.x.y) and moves to a fresh one
  every 400 status requests, and tokens are drawn from the whole queue, so no answer is a 429. Any
  answer other than 200 is reported and fails the run.
- Rounds: `--rounds` rounds of `--requests` status requests (and as many /healthz) per level, or
  `--seconds` (15 s) if that comes first, after 100 unmeasured warm-up pairs; the table shows each
  round's p50/p99 and the medians over rounds.
  Target: status p99 <= 2 ms at 80k waiting.

    .venv/bin/python bench/phone_status.py [--quick] [--levels 1000,10000,80000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CATEGORIES,
    HALL,
    HttpConnection,
    bianmin_server,
    build_request,
    client_address,
    code_version,
    config_with_caps,
    fill_queue,
    free_port,
    install_uvloop,
    machine_load,
    median,
    percentile,
    seed,
    start_postgres,
    table,
    verdict,
)

TARGET_P99_MS = 2.0
DAILY_CAP = 9999
PER_ADDRESS = 400  # status requests per client address before moving to a new one (the limit allows 600 + 20/s)
WARMUP_PAIRS = 100


@dataclass
class Round:
    level: int
    round: int
    status_p50: float
    status_p99: float
    health_p50: float
    health_p99: float
    requests: int
    bad: dict[int, int]


def fill(db: str, config: Path, up_to: int, tokens: list[str]) -> float:
    """Issue tickets in this process until `up_to` are waiting; their tracking tokens are appended. Seconds taken."""
    started = time.monotonic()
    tokens.extend(fill_queue(db, config, range(len(tokens), up_to), "fill"))
    return time.monotonic() - started


async def measure(
    port: int, tokens: list[str], clients: int, pairs: int, address_base: int, seconds: float
) -> tuple[list[float], list[float], dict[int, int]]:
    """Up to `pairs` (status, healthz) request pairs, for at most `seconds`, over `clients` connections.

    Returns their latencies (ms) and the count of each unexpected status.
    """
    status_ms: list[float] = []
    health_ms: list[float] = []
    bad: dict[int, int] = {}
    remaining = pairs
    addresses = iter(range(address_base, address_base + 1_000_000))
    health = build_request("GET", "/healthz", port)
    rng = random.Random(address_base)
    clock = time.perf_counter
    deadline = clock() + seconds

    async def client() -> None:
        nonlocal remaining
        conn = await HttpConnection.open(port, source=client_address(next(addresses)))
        used = 0
        try:
            while remaining > 0 and clock() < deadline:
                remaining -= 1
                if used >= PER_ADDRESS:
                    conn.close()
                    conn = await HttpConnection.open(port, source=client_address(next(addresses)))
                    used = 0
                path = f"/api/v1/halls/{HALL}/tickets/{rng.choice(tokens)}"
                raw = build_request("GET", path, port)
                t0 = clock()
                answer = await conn.request(raw)
                t1 = clock()
                used += 1
                reply = await conn.request(health)
                t2 = clock()
                status_ms.append((t1 - t0) * 1000)
                health_ms.append((t2 - t1) * 1000)
                for response in (answer, reply):
                    if response.status != 200:
                        bad[response.status] = bad.get(response.status, 0) + 1
        finally:
            conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return status_ms, health_ms, bad


def main() -> int:
    parser = argparse.ArgumentParser(description="Phone status latency against the waiting queue's length.")
    parser.add_argument("--quick", action="store_true", help="levels 300,2000; 1 round of 300 requests")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--levels", default="1000,10000,80000", help="waiting tickets, comma-separated, rising")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="status requests per round (and as many /healthz)")
    parser.add_argument("--clients", type=int, default=1,
                        help="connections at once (1: each request alone, latency without queueing)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=15.0, help="a round ends after this long at the latest")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server logs)")
    args = parser.parse_args()
    if args.quick:
        args.levels, args.rounds, args.requests = "300,2000", 1, 300
    levels = sorted(int(v) for v in args.levels.split(","))
    if levels[-1] > DAILY_CAP * len(CATEGORIES):
        raise SystemExit(f"at most {DAILY_CAP * len(CATEGORIES)} tickets fit in a day of the demo categories")
    install_uvloop()

    work = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    started = time.monotonic()
    print(f"phone status on {args.backend} at {', '.join(f'{n:,}' for n in levels)} waiting: {args.clients} clients,"
          f" {args.rounds} round(s) of {args.requests} status + {args.requests} /healthz requests per level;"
          f" {os.cpu_count()} CPUs; {machine_load()}")  # fmt: skip
    print(f"  {code_version()}")
    rounds: list[Round] = []
    cluster = None
    try:
        config = config_with_caps(work / "config", DAILY_CAP)
        if args.backend == "postgresql":
            cluster = start_postgres()
            db = str(cluster.create_database("phone"))
        else:
            db = str(work / "bianmin.db")
        seed(db, config)
        tokens: list[str] = []
        address = 0
        for level in levels:
            took = fill(db, config, level, tokens)
            print(f"  filled to {len(tokens):,} waiting ({took:.1f} s)", flush=True)
            port = free_port()
            with bianmin_server(db, port, work / f"server-{level}.log", config) as server:
                asyncio.run(measure(server.port, tokens, args.clients, WARMUP_PAIRS, address, args.seconds))
                address += 10_000
                for round_no in range(1, args.rounds + 1):
                    status_ms, health_ms, bad = asyncio.run(
                        measure(server.port, tokens, args.clients, args.requests, address, args.seconds)
                    )
                    address += 10_000
                    done = Round(level, round_no, percentile(status_ms, 50), percentile(status_ms, 99),
                                 percentile(health_ms, 50), percentile(health_ms, 99), len(status_ms), bad)  # fmt: skip
                    rounds.append(done)
                    print(f"  {level:,} waiting, round {round_no}: status p50 {done.status_p50:.2f} ms,"
                          f" p99 {done.status_p99:.2f} ms; /healthz p50 {done.health_p50:.2f} ms",
                          flush=True)  # fmt: skip
    finally:
        if cluster is not None:
            cluster.remove()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    rows: list[list[object]] = []
    for level in levels:
        group = [r for r in rounds if r.level == level]
        for r in group:
            rows.append([f"{level:,}", str(r.round), r.status_p50, r.status_p99, r.health_p50, r.health_p99,
                         r.status_p50 / r.health_p50, r.requests, "ok" if not r.bad else f"BAD {r.bad}"])  # fmt: skip
        s50, s99 = median([r.status_p50 for r in group]), median([r.status_p99 for r in group])
        h50, h99 = median([r.health_p50 for r in group]), median([r.health_p99 for r in group])
        rows.append([f"{level:,}", "median", s50, s99, h50, h99, s50 / h50, sum(r.requests for r in group), ""])
    print()
    print("GET .../tickets/{token} (status) and GET /healthz (baseline), ms:")
    headers = ["waiting", "round", "status p50", "status p99", "healthz p50", "healthz p99", "p50 ratio", "requests",
               "answers"]  # fmt: skip
    print(table(headers, rows))
    top = [r for r in rounds if r.level == levels[-1]]
    p99 = median([r.status_p99 for r in top])
    extra = median([r.status_p99 - r.health_p99 for r in top])
    print(f"\nstatus p99 at {levels[-1]:,} waiting: {p99:.2f} ms (target <= {TARGET_P99_MS:g} ms:"
          f" {verdict(p99 <= TARGET_P99_MS)}); over the /healthz p99: {extra:+.2f} ms")  # fmt: skip
    failed = [r for r in rounds if r.bad]
    print(f"\nnow {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; every server process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
