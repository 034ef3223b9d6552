"""远程取号 issue latency: `POST .../remote-tickets` from a phone, next to the kiosk's `POST .../tickets` on the same
server in the same run.

Method: a real server (the demo hall with a remote quota of 5,000 a category, a fresh SQLite file, in a thread of
this process as the tests start it, its clock a working Monday at 09:00), one HTTP client on loopback. Each round
sends one remote ticket (a new phone each: a new device id) and one kiosk ticket (a new Idempotency-Key), in
turn, so both see the same queue (the per-address limit of remote tickets is raised: one client plays
every phone); the time is from just before the request to its answer. Both commit durably
before they answer (the same store, the same group commit).

    .venv/bin/python bench/remote_ticket.py [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from config.loader import default_config_path, load_config
from queue_server.api import ratelimit
from tests.support.clock import FakeClock
from tests.support.server import HALL, start_server


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    n = parser.parse_args().requests
    # One client plays every phone: the per-address limit (10, then one a minute) would refuse it at once.
    ratelimit.RULES["remote"] = ratelimit.Rule(per_ip=ratelimit.Rate(100_000, 1000.0))
    config = load_config(default_config_path())
    hall = config.hall(HALL)
    remote = hall.remote.model_copy(update={"enabled": True, "quota": 5000})
    config = config.model_copy(update={"halls": [hall.model_copy(update={"remote": remote})]})
    server = start_server(Path(tempfile.mkdtemp(prefix="bianmin-remote-bench-")) / "bench.db", FakeClock(), config)
    base = f"{server.url}/api/v1/halls/{HALL}"
    kiosk = {"Authorization": f"Bearer {server.add_device('kiosk-1')}"}
    categories = [c.code for c in hall.categories]
    remote_ms: list[float] = []
    kiosk_ms: list[float] = []
    try:
        with httpx.Client(trust_env=False, timeout=10) as http:
            for i in range(n + 10):  # the first 10 of each warm up
                category = categories[i % len(categories)]
                started = time.perf_counter()
                body = {"category": category, "device_id": f"bench-{i:016d}"}
                answer = http.post(f"{base}/remote-tickets", json=body)
                took = (time.perf_counter() - started) * 1000
                assert answer.status_code == 201, answer.text
                if i >= 10:
                    remote_ms.append(took)
                started = time.perf_counter()
                answer = http.post(
                    f"{base}/tickets", json={"category": category}, headers={**kiosk, "Idempotency-Key": f"k-{i}"}
                )
                took = (time.perf_counter() - started) * 1000
                assert answer.status_code == 201, answer.text
                if i >= 10:
                    kiosk_ms.append(took)
    finally:
        server.stop()
    print(f"远程取号 remote ticket vs kiosk ticket, {n} each, SQLite, one client (ms):")
    print(f"{'request':<24} {'p50':>7} {'p95':>7} {'p99':>7} {'mean':>7}")
    for name, values in (("POST remote-tickets", remote_ms), ("POST tickets (kiosk)", kiosk_ms)):
        row = f"{name:<24} {pct(values, 50):7.2f} {pct(values, 95):7.2f} {pct(values, 99):7.2f}"
        print(f"{row} {statistics.fmean(values):7.2f}")
    print(f"ratio p50 {pct(remote_ms, 50) / pct(kiosk_ms, 50):.2f}, p95 {pct(remote_ms, 95) / pct(kiosk_ms, 95):.2f}")


if __name__ == "__main__":
    main()
