"""A real queue server on a loopback port, in a thread of the test process (or as a child process)."""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from config.loader import default_config_path, load_config
from config.schema import HallConfig
from queue_server.api.app import create_app
from queue_server.api.state import ConfigSource
from queue_server.server import open_store
from queue_server.services import accounts
from queue_server.store.writer import Store, to_us

HALL = "qingshan"
PASSWORD = "correct horse 42"
STARTUP_S = 20.0
SPAWN_STARTUP_S = 60.0


@functools.cache
def demo_config() -> HallConfig:
    """The bundled demo hall, loaded once per test session (the model is immutable)."""
    return load_config(default_config_path())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    store: Store
    config: HallConfig
    _server: uvicorn.Server
    _thread: threading.Thread
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        """The FastAPI application this server runs (to walk its routes)."""
        return self._server.config.app

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def add_staff(self, username: str, role: str = "clerk", name: str | None = None, point: str | None = None) -> str:
        """Create an account and return a fresh login token for it (a village agent: of `point` in HALL)."""
        halls = [HALL] if point is not None else None
        self.store.run_global_sync(
            lambda conn, now: accounts.add_user(
                conn, to_us(now), username, name or username, accounts.Role(role), PASSWORD, halls, point=point
            )
        )
        return self.login(username)

    def login(self, username: str) -> str:
        answer = httpx.post(f"{self.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        self.tokens[username] = token
        return token

    def add_device(self, device: str = "kiosk-1", hall: str = HALL) -> str:
        return self.store.run_global_sync(lambda conn, now: accounts.add_device(conn, to_us(now), hall, device))

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.store.close()


def start_server(
    db: str | Path,
    clock: Callable[[], object] | None = None,
    config: HallConfig | None = None,
    port: int | None = None,
    config_source: ConfigSource | None = None,
) -> RunningServer:
    """Start a server on `db` (a SQLite path or a database URL); on a free port unless `port` is given.

    The test binds the listening socket itself and hands it to uvicorn: no other test (another xdist
    worker, an outgoing connection) can take the port between choosing it and listening on it.
    """
    config = config or demo_config()
    listener = socket.socket()
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart on the port it had
        listener.bind(("127.0.0.1", port or 0))
    except OSError:
        listener.close()
        raise
    port = int(listener.getsockname()[1])
    store = open_store(config, db, clock) if clock else open_store(config, db)  # type: ignore[arg-type]
    store.check_runtime = True
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(store, config_source=config_source),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws_per_message_deflate=False,
            timeout_keep_alive=15,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="test-server")
    thread.start()
    deadline = time.monotonic() + STARTUP_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            listener.close()
            store.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    # FastAPI builds an app's routes on its first request; two apps of one process (tests that run a county
    # and a township, or two servers on one database) building them at once race on the routers' shared
    # parameter objects, which pydantic warns about (an error here) and answers with a 500. Build them now.
    assert httpx.get(f"{url}/no-such-page", timeout=10, trust_env=False).status_code == 404
    return RunningServer(url, store, config, server, thread)


@dataclass
class ServerProcess:
    """`bianmin serve` as a child process: for tests that kill it."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.process.wait()


def spawn_server(
    db: str | Path, log: Path, port: int | None = None, attempts: int = 3, cwd: Path | None = None
) -> ServerProcess:
    """Start `bianmin serve` on `db` (a SQLite path or a database URL); return once this very child listens.

    Its own log line must say so; any answer on the port is not enough: a server of a test running beside
    this one may have taken the port between free_port() and the bind. A child that does not make it is
    reaped, and another port tried. `cwd`: where the child runs (on a database URL, the demo's first
    start writes its accounts to ./var/ there).
    """
    port = port or free_port()
    for _attempt in range(attempts):
        offset = log.stat().st_size if log.exists() else 0
        command = [sys.executable, "-m", "queue_server.cli", "serve", "--db", str(db), "--port", str(port)]
        with log.open("ab") as out:
            child = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=cwd
            )
        process = ServerProcess(f"http://127.0.0.1:{port}", child)
        if _listening(child, log, offset, f"Uvicorn running on http://127.0.0.1:{port}".encode()):
            return process
        process.stop()
        port = free_port()
    raise RuntimeError(f"bianmin serve did not start; see {log}:\n{log.read_text()[-2000:]}")


def _listening(child: subprocess.Popen[bytes], log: Path, offset: int, line: bytes) -> bool:
    # A first start on a busy machine hashes every demo password: allow it time.
    deadline = time.monotonic() + SPAWN_STARTUP_S
    while time.monotonic() < deadline and child.poll() is None:
        with log.open("rb") as text:
            text.seek(offset)
            if line in text.read():
                return child.poll() is None
        time.sleep(0.02)
    return False
