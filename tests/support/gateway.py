"""A fake SMS gateway on 127.0.0.1 for the phone reminders' webhook (real HTTP)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Gateway:
    """A fake SMS gateway: records each POST (headers and JSON body); fails the first `failures` with 503."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.tries = 0
        self.failures = 0
        self.delay_s = 0.0
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the standard library's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                with gateway._lock:
                    gateway.tries += 1
                    failing = gateway.tries <= gateway.failures
                    if not failing:
                        gateway.received.append((dict(self.headers), body))
                if failing:
                    time.sleep(gateway.delay_s)
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bianmin"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, body in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.bodies()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
