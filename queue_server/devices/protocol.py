"""The wire protocols of LED strips and caller keypads: one small interface, and the generic text protocol.

A protocol turns what the bridge wants into bytes and the device's bytes into `Ack`s and `Key`s. It is
pure (no I/O, no clock): the bridge (queue_server/devices/links.py) owns the connection. A vendor's
protocol is one more class registered in PROTOCOLS (docs/devices.md).

The generic protocol `bianmin-text` (version 1), the same both ways:
- A frame is one line: PAYLOAD `*` CS CR LF. CS is the XOR of every PAYLOAD byte, as two upper-case hex
  digits (as NMEA 0183 does). Fields of PAYLOAD are separated by `|`. A frame is at most MAX_FRAME bytes.
- Bridge → strip: `SHOW|<window>|<number>|<text>` (number empty when the window shows its idle text),
  `PING` (a heartbeat). Text is in the strip's encoding (GB18030 or GB2312); `|`, `*`, CR and LF are
  never in it (replaced by spaces).
- Bridge → caller: `ACK|<key>|<result>|<number>` after each key (result OK, NONE: nobody waits,
  REFUSED: the server said no, e.g. the window is not open, ERROR: the server could not be asked), `PING`.
- Device → bridge: `OK` or `ERR|<reason>` acknowledges the bridge's frames in order (each SHOW, ACK and
  PING); a caller sends `KEY|<key>` (1–8 ASCII letters or digits) for a key press.
- Anything else (a bad checksum, a line over MAX_FRAME bytes, bytes outside printable ASCII from a caller,
  an unknown command) is dropped whole, with a log line; nothing else happens.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

log = logging.getLogger(__name__)

MAX_FRAME = 256
_KEY = re.compile(rb"[A-Za-z0-9]{1,8}")
_UNSAFE = str.maketrans({"|": " ", "*": " ", "\r": " ", "\n": " "})


@dataclass(frozen=True)
class Ack:
    """The device acknowledged the oldest frame not yet acknowledged (ok False: it refused it)."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class Key:
    """A key pressed on a caller keypad, by the name the keypad gives it."""

    key: str


Incoming = Ack | Key


class DeviceProtocol(Protocol):
    """What the bridge needs of a device's protocol; one instance per connection (it may keep a buffer)."""

    name: ClassVar[str]
    acknowledges: ClassVar[bool]  # True: every frame the bridge sends is answered (a missing answer = a dead link)

    def show(self, window: int, number: str | None, text: str) -> bytes: ...
    def ping(self) -> bytes | None: ...
    def answer(self, key: str, result: str, number: str | None) -> bytes: ...
    def feed(self, data: bytes) -> list[Incoming]: ...


def checksum(payload: bytes) -> str:
    value = 0
    for byte in payload:
        value ^= byte
    return f"{value:02X}"


def frame(payload: bytes) -> bytes:
    return payload + b"*" + checksum(payload).encode("ascii") + b"\r\n"


@dataclass
class TextProtocol:
    """The generic text protocol `bianmin-text` (see the module's description)."""

    name: ClassVar[str] = "bianmin-text"
    acknowledges: ClassVar[bool] = True
    encoding: str = "gb18030"
    device: str = "?"  # for log lines
    rejected: int = 0  # frames dropped as not understood
    _buffer: bytearray = field(default_factory=bytearray)
    _overlong: bool = False  # inside a line longer than MAX_FRAME: drop up to its end

    def show(self, window: int, number: str | None, text: str) -> bytes:
        safe = text.translate(_UNSAFE)
        body = f"SHOW|{window}|{number or ''}|".encode("ascii") + safe.encode(self.encoding, errors="replace")
        return frame(body[: MAX_FRAME - 5])

    def ping(self) -> bytes | None:
        return frame(b"PING")

    def answer(self, key: str, result: str, number: str | None) -> bytes:
        return frame(f"ACK|{key}|{result}|{number or ''}".encode("ascii"))

    def feed(self, data: bytes) -> list[Incoming]:
        """The complete frames in `data` (with what came before), parsed; the rest is kept for the next call."""
        found: list[Incoming] = []
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_FRAME:
                    self._reject(f"a line longer than {MAX_FRAME} bytes", bytes(self._buffer[:40]))
                    self._buffer.clear()
                    self._overlong = True
                return found
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if self._overlong:  # the end of a line already rejected
                self._overlong = False
                continue
            if len(line) + 2 > MAX_FRAME:
                self._reject(f"a line longer than {MAX_FRAME} bytes", line[:40])
                continue
            if line:
                parsed = self._parse(line)
                if parsed is not None:
                    found.append(parsed)

    def _parse(self, line: bytes) -> Incoming | None:
        payload, star, sent = line.rpartition(b"*")
        if not star or sent.upper() != checksum(payload).encode("ascii"):
            self._reject("no checksum or a wrong one", line[:40])
            return None
        if any(byte < 0x20 or byte > 0x7E for byte in payload):
            self._reject("bytes outside printable ASCII", line[:40])
            return None
        command, _, rest = payload.partition(b"|")
        if command == b"OK" and not rest:
            return Ack(True)
        if command == b"ERR":
            return Ack(False, rest.decode("ascii"))
        if command == b"KEY" and _KEY.fullmatch(rest):
            return Key(rest.decode("ascii"))
        self._reject("an unknown command", line[:40])
        return None

    def _reject(self, why: str, sample: bytes) -> None:
        self.rejected += 1
        log.warning("device %s: ignored %s: %r", self.device, why, sample)


# A vendor protocol: a class taking (encoding=..., device=...) with the methods of DeviceProtocol, added here.
PROTOCOLS: dict[str, Callable[..., DeviceProtocol]] = {TextProtocol.name: TextProtocol}
