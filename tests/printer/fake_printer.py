"""A fake network printer on 127.0.0.1: records bytes, answers DLE EOT n with scripted status bytes."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

STATUS_QUERY = (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04")
ONLINE = 0x12  # the fixed bits of every status reply, nothing wrong


class FakePrinter:
    """A printer port that can be online, silent (accepts, never reads), or gone (connection refused)."""

    def __init__(self, rcvbuf: int | None = None) -> None:
        self.rcvbuf = rcvbuf
        self.lock = threading.Lock()
        self.connections: list[bytearray] = []
        self.replies = {1: ONLINE, 2: ONLINE, 3: ONLINE, 4: ONLINE}
        self.silent = False
        self.paper_out_after_jobs: int | None = None
        self.port = 0
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._stop = threading.Event()

    # -- scripting -----------------------------------------------------------------------------

    def paper_out(self) -> None:
        with self.lock:
            self.replies[2] = ONLINE | 0x20 | 0x08
            self.replies[4] = ONLINE | 0x60
            self.replies[1] = ONLINE | 0x08

    def paper_near_end(self) -> None:
        with self.lock:
            self.replies[4] = ONLINE | 0x0C

    def cover_open(self) -> None:
        with self.lock:
            self.replies[1] = ONLINE | 0x08
            self.replies[2] = ONLINE | 0x04

    def all_well(self) -> None:
        with self.lock:
            self.replies = {1: ONLINE, 2: ONLINE, 3: ONLINE, 4: ONLINE}

    # -- what arrived --------------------------------------------------------------------------

    def jobs(self) -> list[bytes]:
        """The bytes of each connection that carried more than status queries, queries stripped off the ends."""
        with self.lock:
            received = [bytes(data) for data in self.connections]
        out = []
        for data in received:
            data = _strip_queries(data)
            if data:
                out.append(data)
        return out

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> FakePrinter:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stop.clear()
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Go away: close the port and every connection (clients then get 'connection refused')."""
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self._threads.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            with self.lock:
                record = bytearray()
                self.connections.append(record)
            if self.silent:
                continue  # keep it open, never read, never answer
            thread = threading.Thread(target=self._serve, args=(conn, record), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, record: bytearray) -> None:
        conn.settimeout(0.05)
        pending = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                record += chunk
            pending += chunk
            # Answer each DLE EOT n as a real printer does, wherever it appears in the stream.
            while (at := pending.find(b"\x10\x04")) >= 0 and at + 2 < len(pending):
                n = pending[at + 2]
                pending = pending[at + 3 :]
                with self.lock:
                    reply = self.replies.get(n)
                if reply is not None:
                    with contextlib.suppress(OSError):
                        conn.sendall(bytes([reply]))
            pending = pending[-2:]
        with contextlib.suppress(OSError):
            conn.close()
        with self.lock:
            carried = _strip_queries(bytes(record))
            if carried and self.paper_out_after_jobs is not None:
                self.paper_out_after_jobs -= 1
                done = self.paper_out_after_jobs <= 0
                if done:
                    self.paper_out_after_jobs = None  # once: reloading the paper fixes it
            else:
                done = False
        if done:
            self.paper_out()


def _strip_queries(data: bytes) -> bytes:
    changed = True
    while changed:
        changed = False
        for query in STATUS_QUERY:
            if data.startswith(query):
                data, changed = data[len(query) :], True
            if data.endswith(query):
                data, changed = data[: -len(query)], True
    return data


def wait_for(predicate, timeout_s: float = 5.0, interval_s: float = 0.01) -> bool:
    """Poll predicate until it is true or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
