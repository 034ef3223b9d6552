"""Fake devices speaking `bianmin-text`, for tests and for trying the bridge without hardware.

`FakeTcpDevice` listens on a loopback TCP port as a strip or a serial-to-Ethernet caller would;
`FakePtyDevice` is the far end of a pseudo-terminal whose other end the bridge opens as a serial port
(through a symlink, as udev's /dev/serial/by-id/... names a USB adapter). Both run in a thread of their
own, record every frame they get, answer each with `OK`, and send key presses when told.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from pathlib import Path

from queue_server.devices.protocol import frame


class _Recorder:
    def __init__(self) -> None:
        self.frames: list[bytes] = []  # every complete line received, CR LF removed
        self.answer = True  # False: a device that stopped acknowledging
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def _received(self, line: bytes) -> None:
        with self._changed:
            self.frames.append(line)
            self._changed.notify_all()

    def wait_for(self, predicate: object, timeout_s: float = 10.0) -> bytes:
        """The first frame (from the oldest) for which predicate(frame) is true; AssertionError after the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for line in self.frames:
                    if predicate(line):  # type: ignore[operator]
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such frame within {timeout_s} s; got {self.frames[-5:]!r}")
                self._changed.wait(left)

    def shows(self) -> list[bytes]:
        with self._lock:
            return [line for line in self.frames if line.startswith(b"SHOW|")]


class FakeTcpDevice(_Recorder):
    """A device on 127.0.0.1:port; `unplug()` closes it (and refuses connections), `plug()` opens it again."""

    def __init__(self, port: int = 0) -> None:
        super().__init__()
        self.port = port
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.plug()

    def plug(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(1)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener, self._stop = listener, threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(listener, self._stop), daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def send(self, data: bytes) -> None:
        """Raw bytes to the bridge (a key press is `press(key)`)."""
        deadline = time.monotonic() + 10
        while self._client is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self._client is not None, "the bridge never connected"
        self._client.sendall(data)

    def press(self, key: str) -> None:
        self.send(frame(f"KEY|{key}".encode("ascii")))

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _serve(self, listener: socket.socket, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.settimeout(0.1)
                self._client = client
                self._talk(client, stop)
                self._client = None
                client.close()
        finally:
            listener.close()

    def _talk(self, client: socket.socket, stop: threading.Event) -> None:
        buffer = b""
        while not stop.is_set():
            try:
                data = client.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self._received(line.rstrip(b"\r"))
                if self.answer:
                    with contextlib.suppress(OSError):
                        client.sendall(frame(b"OK"))


class FakePtyDevice(_Recorder):
    """A serial device on a pseudo-terminal; the bridge opens `path` (a symlink to the pty's slave end)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._master: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        name = os.ttyname(slave)
        os.close(slave)  # the bridge opens it by name
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.path.symlink_to(name)
        self._master, self._stop = master, threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(master, self._stop), daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """As pulling the USB adapter: the port disappears."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def send(self, data: bytes) -> None:
        assert self._master is not None
        os.write(self._master, data)

    def press(self, key: str) -> None:
        self.send(frame(f"KEY|{key}".encode("ascii")))

    def _serve(self, master: int, stop: threading.Event) -> None:
        buffer = b""
        try:
            while not stop.is_set():
                ready, _, _ = select.select([master], [], [], 0.1)
                if not ready:
                    continue
                try:
                    data = os.read(master, 4096)
                except OSError:  # nobody has the slave end open (EIO): wait for the bridge
                    time.sleep(0.05)
                    continue
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._received(line.rstrip(b"\r"))
                    if self.answer:
                        os.write(master, frame(b"OK"))
        finally:
            os.close(master)
            self._master = None
