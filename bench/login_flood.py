"""Kiosk issuance latency alone and during a flood of wrong-password logins, on one server.

Method
------
- Server: `bianmin serve` (child process, one uvicorn worker, uvloop + httptools) on a fresh database
  (SQLite file, or `--backend postgresql`: a database of a throwaway cluster) with a temporary copy of
  the demo hall whose categories all have `daily_cap = 9999`; a kiosk token and 8 clerk accounts are
  added in this process before the server starts.
- Issuing: `--kiosks` (4) kiosk connections, each posting a new ticket (new `Idempotency-Key`, categories
  round-robin), waiting for the answer, then `--think` (0.2 s) before the next: about 20 issues a second,
  a busy hall's morning, well below what the server can take; latency = send → last byte of the answer,
  any answer but 201 is counted as an error.
- Flood: `--flooders` (8) connections posting `POST /api/v1/auth/login` with a wrong password back to
  back (closed loop), each from its own loopback address. `--target unknown` (default) names a new user
  that does not exist at each attempt: the server still checks the password against a dummy hash, so each
  attempt the address's rate limit lets through costs a full password hash until the address has failed
  20 times (services/throttle.py: then it waits, answered 429 without hashing); `--target staff` names the
  8 real clerks: after a few failures each clerk is locked from that address and answered 429 without
  hashing. Answers 401 and 429 are expected.
- Phases: each round measures issuing alone for `--seconds` (10 s) and with the flood for as long (the
  flood starts 1 s before its phase is measured); the order alternates between rounds so the growing
  queue hits both alike. The table shows each phase and the medians over rounds. Target: issue p95
  with the flood <= 1.2 × issue p95 alone.

    .venv/bin/python bench/login_flood.py [--quick] [--rounds 3] [--seconds 10] [--target unknown|staff]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
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

TARGET_RATIO = 1.2
DAILY_CAP = 9999
CLERKS = [f"clerk{n}" for n in range(1, 9)]


@dataclass
class Phase:
    name: str
    round: int
    issued: int
    p50: float
    p95: float
    p99: float
    errors: dict[int, int]
    logins: int = 0  # login attempts answered per second
    login_statuses: dict[int, int] = field(default_factory=dict)


async def issuing(
    port: int, token: str, kiosks: int, think: float, seconds: float, tag: str
) -> tuple[list[float], dict[int, int]]:
    """Kiosks issuing with a pause after each answer, for `seconds`: latencies (ms) and unexpected statuses."""
    latencies: list[float] = []
    errors: dict[int, int] = {}
    clock = time.perf_counter
    end = clock() + seconds
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def kiosk(index: int) -> None:
        conn = await HttpConnection.open(port)
        n = 0
        try:
            while clock() < end:
                body = json.dumps({"category": CATEGORIES[(index + n) % len(CATEGORIES)]}).encode()
                headers = {**auth, "Idempotency-Key": f"{tag}-{index}-{n}"}
                raw = build_request("POST", f"/api/v1/halls/{HALL}/tickets", port, headers, body)
                n += 1
                t0 = clock()
                answer = await conn.request(raw)
                latencies.append((clock() - t0) * 1000)
                if answer.status != 201:
                    errors[answer.status] = errors.get(answer.status, 0) + 1
                await asyncio.sleep(think)
        finally:
            conn.close()

    await asyncio.gather(*(kiosk(i) for i in range(kiosks)))
    return latencies, errors


async def flood(port: int, flooders: int, target: str, stop: asyncio.Event, statuses: dict[int, int]) -> None:
    """Wrong-password logins back to back from `flooders` connections until `stop` is set."""

    async def one(index: int) -> None:
        conn = await HttpConnection.open(port, source=client_address(index))
        n = 0
        try:
            while not stop.is_set():
                user = CLERKS[index % len(CLERKS)] if target == "staff" else f"nobody{index}-{n}"
                body = json.dumps({"username": user, "password": f"wrong-{n}"}).encode()
                n += 1
                raw = build_request("POST", "/api/v1/auth/login", port, {"Content-Type": "application/json"}, body)
                answer = await conn.request(raw)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
        finally:
            conn.close()

    await asyncio.gather(*(one(i) for i in range(flooders)))


async def run_phase(port: int, token: str, args: argparse.Namespace, round_no: int, flooded: bool) -> Phase:
    stop = asyncio.Event()
    statuses: dict[int, int] = {}
    flooding = asyncio.create_task(flood(port, args.flooders, args.target, stop, statuses)) if flooded else None
    try:
        if flooding is not None:
            await asyncio.sleep(1.0)  # the flood is under way before anything is measured
            statuses.clear()
        tag = f"r{round_no}-{'flood' if flooded else 'alone'}"
        latencies, errors = await issuing(port, token, args.kiosks, args.think, args.seconds, tag)
        logins = sum(statuses.values())
    finally:
        stop.set()
        if flooding is not None:
            await flooding
    name = "with login flood" if flooded else "alone"
    return Phase(name, round_no, len(latencies), percentile(latencies, 50), percentile(latencies, 95),
                 percentile(latencies, 99), errors, int(logins / args.seconds), dict(statuses))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="Issue latency alone and during a wrong-password login flood.")
    parser.add_argument("--quick", action="store_true", help="one round of 3 s phases")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured phase")
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.2, help="seconds a kiosk waits after each answer")
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--target", choices=("unknown", "staff"), default="unknown",
                        help="wrong passwords for users that do not exist, or for the real clerks")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server log)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 3.0
    install_uvloop()

    work = Path(tempfile.mkdtemp(prefix="bench-login-"))
    started = time.monotonic()
    print(f"login flood on {args.backend}: {args.kiosks} kiosks ({args.think:g} s between issues), {args.flooders}"
          f" flooders ({args.target} users), {args.rounds} round(s) of 2 x {args.seconds:g} s; {os.cpu_count()} CPUs;"
          f" {machine_load()}")  # fmt: skip
    print(f"  {code_version()}")
    phases: list[Phase] = []
    cluster = None
    try:
        config = config_with_caps(work / "config", DAILY_CAP)
        if args.backend == "postgresql":
            cluster = start_postgres()
            db = str(cluster.create_database("login"))
        else:
            db = str(work / "bianmin.db")
        token = seed(db, config, staff=[(c, "clerk") for c in CLERKS]).kiosks["kiosk-1"]
        with bianmin_server(db, free_port(), work / "server.log", config) as server:
            asyncio.run(issuing(server.port, token, args.kiosks, args.think, 1.0, "warm"))
            for round_no in range(1, args.rounds + 1):
                order = (False, True) if round_no % 2 else (True, False)
                for flooded in order:
                    phase = asyncio.run(run_phase(server.port, token, args, round_no, flooded))
                    phases.append(phase)
                    print(
                        f"  round {round_no} {phase.name}: issue p50 {phase.p50:.1f} ms, p95 {phase.p95:.1f} ms"
                        + (f"; {phase.logins} logins/s {phase.login_statuses}" if flooded else ""),
                        flush=True,
                    )
    finally:
        if cluster is not None:
            cluster.remove()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    rows: list[list[object]] = []
    for p in sorted(phases, key=lambda p: (p.name != "alone", p.round)):
        rows.append([p.name, str(p.round), p.issued, p.p50, p.p95, p.p99, p.logins or "-",
                     " ".join(f"{k}:{v}" for k, v in sorted(p.login_statuses.items())) or "-",
                     "ok" if not p.errors else f"ERRORS {p.errors}"])  # fmt: skip
    groups = {name: [p for p in phases if p.name == name] for name in ("alone", "with login flood")}
    for name, group in groups.items():
        rows.append([name, "median", int(median([p.issued for p in group])), median([p.p50 for p in group]),
                     median([p.p95 for p in group]), median([p.p99 for p in group]),
                     int(median([p.logins for p in group])), "", ""])  # fmt: skip
    print()
    print("kiosk issue latency (ms), alone and while the flooders post wrong passwords:")
    print(table(["phase", "round", "issued", "p50", "p95", "p99", "logins/s", "login answers", "issues"], rows))
    alone, during = groups["alone"], groups["with login flood"]
    ratio = median([p.p95 for p in during]) / median([p.p95 for p in alone])
    p50_ratio = median([p.p50 for p in during]) / median([p.p50 for p in alone])
    print(f"\nissue p95 with the flood / alone: {ratio:.2f}  (target <= {TARGET_RATIO}:"
          f" {verdict(ratio <= TARGET_RATIO)}); p50: {p50_ratio:.2f}")  # fmt: skip
    failed = [p for p in phases if p.errors]
    print(f"\nnow {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; every server process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
