"""A fake network printer on 127.0.0.1: records bytes, answers DLE EOT n with scripted status bytes.

Like a real one it answers every DLE EOT n wherever it appears in the stream, image data included,
and its command parser (tests/printer/paper.py) lives across connections: what a cut-off job leaves
half done, the next connection's bytes finish. Faults can be scripted per connection: a reset after
so many bytes (the unread rest is lost, as on a printer), no answers from some byte on, slow answers.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass

from tests.printer.paper import Paper

STATUS_QUERY = (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04")
STATUS_TRIPLET = b"".join(STATUS_QUERY)


def _only_queries(data: bytes) -> bool:
    return len(data) % 3 == 0 and all(data[i : i + 3] in STATUS_QUERY for i in range(0, len(data), 3))


ONLINE = 0x12  # the fixed bits of every status reply, nothing wrong


@dataclass(frozen=True)
class Fault:
    """What goes wrong on one connection."""

    reset_at: int | None = None
    """Read this many bytes, then reset the connection (RST): what was not read is lost."""
    mute_from: int | None = None
    """Do not answer DLE EOT found at or after this byte of the connection."""
    delay_s: float = 0.0
    """Wait this long before each answer."""
    stall_at: int | None = None
    """Stop reading after this many bytes for stall_s (a printer busy printing), then go on."""
    stall_s: float = 0.0


class FakePrinter:
    """A printer port that can be online, silent (accepts, never reads), or gone (connection refused).

    Connections are read one at a time, in the order they came, as a printer's port does: the next
    one waits (its queries unanswered) until the one before is closed.
    """

    def __init__(self, rcvbuf: int | None = None, bytes_per_s: float | None = None) -> None:
        self.rcvbuf = rcvbuf
        self.bytes_per_s = bytes_per_s
        """Read no faster than this, as a printer takes data only as fast as it prints (None: at once)."""
        self.lock = threading.Lock()
        self.connections: list[bytearray] = []
        self.replies = {1: ONLINE, 2: ONLINE, 3: ONLINE, 4: ONLINE}
        self.silent = False
        self.mute = False
        """Reads everything, never answers a status query (a printer without status replies)."""
        self.paper_out_after_jobs: int | None = None
        self.faults: deque[Fault] = deque()
        """Faults for the next connections, one each, in order."""
        self.paper = Paper()
        self.resets = 0
        self.answers = 0
        self.port = 0
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._port = threading.Lock()
        """Held while a connection is served: like a JetDirect port, one connection at a time is read."""

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
        """The bytes of each connection that carried more than status queries, the spooler's queries taken out."""
        with self.lock:
            received = [bytes(data) for data in self.connections]
        out = []
        for data in received:
            data = data.replace(STATUS_TRIPLET, b"")
            if data and not _only_queries(data):  # a status poll caught halfway through its three queries
                out.append(data)
        return out

    def pieces(self) -> list[bytes]:
        """The cut pieces of paper that came out, as tests/printer/paper.py records them."""
        with self.lock:
            return list(self.paper.pieces)

    def received(self) -> int:
        with self.lock:
            return sum(len(data) for data in self.connections)

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
                fault = self.faults.popleft() if self.faults else Fault()
            if self.silent:
                continue  # keep it open, never read, never answer
            thread = threading.Thread(target=self._serve, args=(conn, record, fault), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, record: bytearray, fault: Fault) -> None:
        while not self._port.acquire(timeout=0.05):
            if self._stop.is_set():
                return
        try:
            self._serve_one(conn, record, fault)
        finally:
            self._port.release()

    def _serve_one(self, conn: socket.socket, record: bytearray, fault: Fault) -> None:
        conn.settimeout(0.05)
        pending = b""
        offset = 0  # bytes of this connection scanned for DLE EOT so far (pending starts there)
        reset = False
        stalled = False
        while not self._stop.is_set():
            want = 65536 if fault.reset_at is None else min(65536, fault.reset_at - len(record))
            if self.bytes_per_s:
                want = min(want, 4096)
            if fault.stall_at is not None and not stalled:
                if len(record) >= fault.stall_at:
                    stalled = True
                    time.sleep(fault.stall_s)
                else:
                    want = min(want, fault.stall_at - len(record))
            if want <= 0:
                reset = True
                break
            try:
                chunk = conn.recv(want)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            if self.bytes_per_s:
                time.sleep(len(chunk) / self.bytes_per_s)
            with self.lock:
                record += chunk
                self.paper.feed(chunk)
            pending += chunk
            # Answer each DLE EOT n as a real printer does, wherever it appears in the stream.
            while (at := pending.find(b"\x10\x04")) >= 0 and at + 2 < len(pending):
                n = pending[at + 2]
                where = offset + at
                pending, offset = pending[at + 3 :], offset + at + 3
                with self.lock:
                    reply = self.replies.get(n)
                if reply is None or self.mute or (fault.mute_from is not None and where >= fault.mute_from):
                    continue
                if fault.delay_s:
                    time.sleep(fault.delay_s)
                with contextlib.suppress(OSError):
                    conn.sendall(bytes([reply]))
                    with self.lock:
                        self.answers += 1
            keep = pending[-2:]
            offset += len(pending) - len(keep)
            pending = keep
        if reset:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with self.lock:
                self.resets += 1
        with contextlib.suppress(OSError):
            conn.close()
        with self.lock:
            carried = bytes(record).replace(STATUS_TRIPLET, b"")
            if carried and self.paper_out_after_jobs is not None:
                self.paper_out_after_jobs -= 1
                done = self.paper_out_after_jobs <= 0
                if done:
                    self.paper_out_after_jobs = None  # once: reloading the paper fixes it
            else:
                done = False
        if done:
            self.paper_out()


def wait_for(predicate, timeout_s: float = 5.0, interval_s: float = 0.01) -> bool:
    """Poll predicate until it is true or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
