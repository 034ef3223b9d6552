"""Kiosk issue latency while 8 clients post wrong passwords, next to the same kiosk with nobody logging in.

Method
------
- Server: `bianmin serve` (child process, as `bianmin serve` runs) on a fresh SQLite file with a copy of the
  demo hall whose daily caps are 9999; `bianmin user add` makes one clerk (argon2 at its production cost)
  and `bianmin device add` a kiosk token before it starts.
- Kiosk: one keep-alive connection issuing a ticket every 20 ms (categories round-robin, a new
  `Idempotency-Key` each), latency from send to the answer's last byte; every answer must be 201.
- Phases of `--seconds` each, in one run: quiet (the baseline); 8 flood clients on one source address
  (127.0.0.1); 8 flood clients on 8 addresses (127.0.0.2–9), each posting wrong passwords for unknown
  usernames back to back — an unknown user costs a full hash and never locks. The login rate limit
  (per address) answers most of the flood 429 once an address's burst is spent; the hashes that do run
  are on the password checker's own thread, not the writer. The table shows the kiosk's p50/p95/max per
  phase, its ratio to the quiet phase, and how the flood was answered.
- Before the change (argon2 on the writer): p50 1,274 ms / p95 2,589 ms with 8 flood clients (issue 16).

    .venv/bin/python bench/login_flood.py [--seconds 8] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CATEGORIES,
    HALL,
    HOST,
    HttpConnection,
    bianmin_cli,
    bianmin_server,
    build_request,
    code_version,
    config_with_caps,
    free_port,
    machine_load,
    percentile,
    table,
)

FLOODERS = 8
ISSUE_EVERY_S = 0.02


async def open_from(port: int, address: str) -> HttpConnection:
    _, protocol = await asyncio.get_running_loop().create_connection(
        HttpConnection, HOST, port, local_addr=(address, 0)
    )
    return protocol


async def phase(port: int, kiosk: str, seconds: float, addresses: list[str], tag: str) -> list[object]:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    answers: dict[int, int] = {}
    wrong: list[str] = []

    async def issue() -> None:
        conn = await HttpConnection.open(port)
        n = 0
        try:
            while time.monotonic() < stop:
                n += 1
                body = b'{"category":"%s"}' % CATEGORIES[n % len(CATEGORIES)].encode()
                headers = {"Authorization": f"Bearer {kiosk}", "Idempotency-Key": f"{tag}-{n}",
                           "Content-Type": "application/json"}  # fmt: skip
                raw = build_request("POST", f"/api/v1/halls/{HALL}/tickets", port, headers, body)
                sent = time.perf_counter()
                response = await conn.request(raw)
                latencies.append((time.perf_counter() - sent) * 1000.0)
                if response.status != 201:
                    wrong.append(f"{response.status} {response.body[:200]!r}")
                await asyncio.sleep(ISSUE_EVERY_S)
        finally:
            conn.close()

    async def flood(client: int, address: str) -> None:
        conn = await open_from(port, address)
        n = 0
        try:
            while time.monotonic() < stop:
                n += 1
                body = b'{"username":"guess-%d-%d","password":"not the password"}' % (client, n)
                raw = build_request("POST", "/api/v1/auth/login", port, {"Content-Type": "application/json"}, body)
                response = await conn.request(raw)
                answers[response.status] = answers.get(response.status, 0) + 1
        finally:
            conn.close()

    await asyncio.gather(issue(), *(flood(i, a) for i, a in enumerate(addresses)))
    if wrong:
        raise SystemExit(f"the kiosk got wrong answers: {wrong[:3]}")
    flood_text = ", ".join(f"{count} × {status}" for status, count in sorted(answers.items())) or "-"
    return [len(latencies), percentile(latencies, 50), percentile(latencies, 95), max(latencies), flood_text]


async def run(port: int, kiosk: str, seconds: float) -> None:
    rows = []
    quiet = await phase(port, kiosk, seconds, [], "quiet")
    rows.append(["quiet (baseline)", *quiet])
    for name, addresses in (
        (f"{FLOODERS} flooders, 1 address", [HOST] * FLOODERS),
        (f"{FLOODERS} flooders, {FLOODERS} addresses", [f"127.0.0.{2 + i}" for i in range(FLOODERS)]),
    ):
        rows.append([name, *await phase(port, kiosk, seconds, addresses, name.replace(" ", "-"))])
    base_p50, base_p95 = float(quiet[1]), float(quiet[2])  # type: ignore[arg-type]
    print(
        table(
            ["phase", "issues", "p50 ms", "p95 ms", "max ms", "x p50", "x p95", "login answers"],
            [
                [r[0], r[1], f"{r[2]:.1f}", f"{r[3]:.1f}", f"{r[4]:.1f}",
                 f"{float(r[2]) / base_p50:.2f}", f"{float(r[3]) / base_p95:.2f}", r[5]]  # type: ignore[arg-type]
                for r in rows
            ],
        )
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server log)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bianmin-login-flood-"))
    print(code_version())
    print(machine_load())
    try:
        config = config_with_caps(work / "config", 9999)
        db = work / "bianmin.db"
        password = secrets.token_urlsafe(12)
        bianmin_cli("user", "add", "liuxia", "--name", "刘霞", "--role", "clerk", "--db", str(db), "--config",
                    str(config), stdin=password + "\n")  # fmt: skip
        kiosk = bianmin_cli("device", "add", HALL, "kiosk-1", "--db", str(db), "--config", str(config)).strip()
        port = free_port()
        server = bianmin_server(db, port, work / "server.log", config).start()
        try:
            asyncio.run(run(port, kiosk, args.seconds))
        finally:
            server.stop()
    finally:
        print(machine_load())
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
