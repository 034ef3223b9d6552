"""The demo's server processes: `bianmin serve` children on loopback ports, each stopped with all it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import queue_server

START_S = 90.0  # a first start migrates the database: slow on a busy machine, never endless
STOP_S = 10.0
SOURCE_ROOT = Path(queue_server.__file__).resolve().parent.parent  # so `-m queue_server.cli` runs from a checkout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    """`bianmin serve --config CONFIG --db DB` on 127.0.0.1:port, its output in `log`."""

    name: str
    config: Path
    db: str
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and return once it answers `/healthz` (a RuntimeError with its log's end if it does not)."""
        argv = [sys.executable, "-m", "queue_server.cli", "serve", "--config", str(self.config), "--db", self.db,
                "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        path = os.pathsep.join(p for p in (str(SOURCE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            # A session of its own: the terminal's Ctrl-C reaches the demo only, which stops its children in order.
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env, cwd=self.log.parent, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + START_S
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start (see {self.log}):\n{self.tail()}")
            time.sleep(0.1)

    def exit_code(self) -> int | None:
        """None while it runs (or before it started); its exit code once it ended (negative: the signal)."""
        return None if self.process is None else self.process.poll()

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """SIGTERM to its process group (the server and anything it forked), then SIGKILL after STOP_S."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of its group outlived it

    def tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"
