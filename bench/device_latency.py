"""Call → LED strip latency through `bianmin devices`, next to call → board websocket receipt in the same run.

Method: a real server (the demo hall plus strip-1 and caller-1 at window 1, a fresh SQLite file, in a
thread of this process, as the tests start it), the bridge on its own event loop thread, the strip a
FakeTcpDevice on loopback (answering each frame with OK), and a plain `websockets` client of the board
stream as the baseline. For each of N calls the trigger time is taken just before `POST .../call-next`;
the baseline's receipt when its `recv()` returns the call message, the strip's when the fake device read
the SHOW frame with that number. Then `no-show`, a pause of 50 ms, and the next call.

    .venv/bin/python bench/device_latency.py [--calls 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from queue_server.devices.fake import FakeTcpDevice
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.queue_server.devices.bridge_support import hall_with_devices, running, settings
from tests.support.server import HALL, PASSWORD, start_server


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    calls = parser.parse_args().calls
    folder = Path(tempfile.mkdtemp(prefix="bianmin-devices-bench-"))
    server = start_server(folder / "bench.db", config=hall_with_devices())
    strip = FakeTcpDevice()
    arrived: dict[str, float] = {}
    base = f"{server.url}/api/v1/halls/{HALL}"
    server.store.run_global_sync(
        lambda conn, now: accounts.add_user(conn, to_us(now), "liuxia", "刘霞", accounts.Role.CLERK, PASSWORD)
    )
    kiosk = {"Authorization": f"Bearer {server.add_device('kiosk-1')}"}
    with httpx.Client(trust_env=False, timeout=10) as http:
        login = http.post(f"{server.url}/api/v1/auth/login", json={"username": "liuxia", "password": PASSWORD})
        clerk = {"Authorization": f"Bearer {login.json()['access_token']}"}
        http.post(f"{base}/windows/1/open", json={"post": "A"}, headers=clerk).raise_for_status()
        numbers = []
        for i in range(calls):
            answer = http.post(
                f"{base}/tickets", json={"category": "jisheng"}, headers={**kiosk, "Idempotency-Key": f"k{i}"}
            )
            numbers.append(answer.json()["number"])

        def listen(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
            async def go() -> None:
                async with connect(f"{server.ws_url}/ws/halls/{HALL}/board", compression=None) as ws:
                    await ws.recv()
                    ready.set()
                    while True:
                        message = json.loads(await ws.recv())
                        if message["type"] == "call":
                            arrived[message["ticket"]["number"]] = time.monotonic()

            with contextlib.suppress(ConnectionClosed):  # the server stops at the end
                loop.run_until_complete(go())

        ready = threading.Event()
        threading.Thread(target=listen, args=(asyncio.new_event_loop(), ready), daemon=True).start()
        ready.wait(10)
        tcp = {"type": "tcp", "host": "127.0.0.1", "port": strip.port}
        pty = {"type": "tcp", "host": "127.0.0.1", "port": 9}  # the caller is not measured (nothing listens)
        board_ms, strip_ms = [], []
        with running(settings(server, folder, tcp, pty)):
            strip.wait_for(lambda line: line.startswith(b"SHOW|1||"))
            for number in numbers:
                started = time.monotonic()
                http.post(f"{base}/windows/1/call-next", headers=clerk).raise_for_status()
                strip.wait_for(lambda line, n=number: line.startswith(f"SHOW|1|{n}|".encode()))
                shown = time.monotonic()
                deadline = time.monotonic() + 5
                while number not in arrived and time.monotonic() < deadline:
                    time.sleep(0.001)
                board_ms.append((arrived[number] - started) * 1000)
                strip_ms.append((shown - started) * 1000)
                http.post(f"{base}/windows/1/no-show", headers=clerk).raise_for_status()
                time.sleep(0.05)
    server.stop()
    print(f"{calls} calls, one board subscriber, one strip (fake, loopback TCP), SQLite")
    print(f"{'':32}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for name, values in (("call → board websocket (baseline)", board_ms), ("call → LED strip frame", strip_ms)):
        print(f"{name:32}{statistics.median(values):8.1f}{pct(values, 99):8.1f}{max(values):8.1f}")


if __name__ == "__main__":
    main()
