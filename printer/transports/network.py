"""Raw TCP to a network printer (port 9100), with short timeouts and DLE EOT status."""

from __future__ import annotations

import contextlib
import socket
import time

from printer.status import DeviceStatus, query
from printer.transports.base import Transport, TransportError

CHUNK = 4096


class NetworkTransport(Transport):
    """A JetDirect-style printer port. A connection lasts one job, so other kiosks can print too."""

    has_status = True

    def __init__(self, host: str, port: int = 9100, timeout_s: float = 3.0, status_timeout_s: float = 1.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.status_timeout_s = status_timeout_s
        self.description = f"{host}:{port}"
        self._socket: socket.socket | None = None

    def open(self) -> None:
        self.close()
        try:
            self._socket = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as error:
            raise TransportError(f"cannot connect to {self.description}: {error}") from error
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        """Send in chunks; the timeout bounds each wait for progress, not the whole job.

        A printer takes a long notice only as fast as it prints it, so a total limit would cut
        long jobs short; a printer that stops reading is still caught within timeout_s.
        """
        sock = self._connected()
        sock.settimeout(self.timeout_s)
        view = memoryview(data)
        try:
            while view:
                sent = sock.send(view[:CHUNK])
                view = view[sent:]
        except OSError as error:
            raise TransportError(f"writing to {self.description} failed: {error}") from error

    def status(self, timeout_s: float | None = None, stale: int = 0) -> DeviceStatus:
        sock = self._connected()
        timeout = self.status_timeout_s if timeout_s is None else timeout_s
        sock.settimeout(timeout)
        try:
            for _ in range(stale):  # replies to DLE EOT inside the job's bytes come first, in order
                if not sock.recv(1):
                    raise TransportError(f"{self.description} closed the connection")
        except TimeoutError:
            pass  # a printer that ignores DLE EOT inside image data: nothing stale is left to read
        except OSError as error:
            raise TransportError(f"status query to {self.description} failed: {error}") from error
        self._drain(sock)
        sock.settimeout(timeout)

        def send(request: bytes) -> None:
            sock.sendall(request)

        def receive_one() -> int | None:
            try:
                reply = sock.recv(1)
            except TimeoutError:
                return None
            return reply[0] if reply else None

        try:
            return query(send, receive_one)
        except OSError as error:
            raise TransportError(f"status query to {self.description} failed: {error}") from error

    def finish(self) -> None:
        """Half-close, then read (and drop) until the printer closes its side or timeout_s passes."""
        sock = self._connected()
        deadline = time.monotonic() + self.timeout_s
        try:
            sock.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(256):
                    return
        except TimeoutError:
            return  # the printer keeps its side open: our bytes and our FIN are sent, nothing is unread
        except OSError as error:
            raise TransportError(f"closing {self.description} failed: {error}") from error

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _connected(self) -> socket.socket:
        if self._socket is None:
            raise TransportError(f"{self.description} is not open")
        return self._socket

    @staticmethod
    def _drain(sock: socket.socket) -> None:
        """Drop replies left over (a printer may answer DLE EOT bytes that occur inside image data)."""
        sock.setblocking(False)
        try:
            while sock.recv(256):
                pass
        except OSError:
            pass
        finally:
            sock.setblocking(True)
