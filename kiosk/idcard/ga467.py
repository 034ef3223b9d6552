"""The public serial protocol of second-generation ID card readers with the SAM inside (GA 467-2013 frames).

Most readers sold for halls (华视 CVR-100, 神思 SS628, 精伦 iDR210 …) answer it on their serial port (USB
readers: a CDC/ACM or CH340 port), 115200 baud 8N1. A frame is

    AA AA AA 96 69 | length (2 bytes, big-endian) | body | checksum

the length counting the body and the checksum, the checksum the XOR of the length bytes and the body.
A command's body is its command and parameter bytes (20 01 find the card, 20 02 select it, 30 01 read
the text and the photo); an answer's body is three status bytes (SW1 SW2 SW3: 00 00 90 done, 00 00 9F
card found, 00 00 80 no card, 00 00 81 select failed, others errors) and its data. The answer to 30 01
is the text length (2 bytes), the photo length (2 bytes), the text (256 bytes, UCS-2 little-endian, fields
padded with spaces) and the photo (wlt, ignored here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from kiosk.idcard.reader import IdCard, ReaderGone
from queue_server.devices.settings import Serial, Tcp
from queue_server.devices.transports import Connection, DeviceGone, open_connection

log = logging.getLogger(__name__)

HEADER = bytes.fromhex("AAAAAA9669")
FIND, SELECT, READ = (0x20, 0x01), (0x20, 0x02), (0x30, 0x01)
DONE, FOUND, NO_CARD = 0x90, 0x9F, 0x80
MAX_LENGTH = 4096  # the longest answer (text, photo, fingerprints) is under 3 kB
# The text block: (field, bytes) in order; 36 reserved bytes follow.
TEXT_FIELDS = (("name", 30), ("sex", 2), ("nation", 4), ("birth", 16), ("address", 70), ("number", 36),
               ("issuer", 30), ("valid_from", 16), ("valid_to", 16))  # fmt: skip
TEXT_BYTES = 256


class BadFrame(Exception):
    """An answer that is not a well-formed frame (checksum, length, status): the read gives no card."""


def checksum(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(body: bytes) -> bytes:
    """A whole frame around a body (a command's, or in tests an answer's)."""
    length = (len(body) + 1).to_bytes(2, "big")
    return HEADER + length + body + bytes([checksum(length + body)])


def command(code: tuple[int, int]) -> bytes:
    return frame(bytes(code))


@dataclass(frozen=True)
class Answer:
    status: bytes  # SW1 SW2 SW3
    data: bytes

    @property
    def code(self) -> int:
        return self.status[2] if self.status[:2] == b"\x00\x00" else -1


def split_frame(buffer: bytes) -> tuple[Answer | None, bytes]:
    """The first answer in `buffer` and what follows it; (None, buffer) while the frame is incomplete."""
    start = buffer.find(HEADER)
    if start < 0:
        return None, buffer[-(len(HEADER) - 1) :]  # noise: keep only what may begin a header
    buffer = buffer[start:]
    if len(buffer) < len(HEADER) + 2:
        return None, buffer
    length = int.from_bytes(buffer[5:7], "big")
    if not 4 <= length <= MAX_LENGTH:
        raise BadFrame(f"frame length {length} out of range")
    end = len(HEADER) + 2 + length
    if len(buffer) < end:
        return None, buffer
    body, check = buffer[5 : end - 1], buffer[end - 1]
    if checksum(body) != check:
        raise BadFrame("bad checksum")
    return Answer(body[2:5], body[5:]), buffer[end:]


def parse_text(data: bytes) -> IdCard:
    """The card from the answer to 30 01 (text length, photo length, text, photo)."""
    if len(data) < 4:
        raise BadFrame("read answer too short")
    text_len = int.from_bytes(data[0:2], "big")
    if text_len < TEXT_BYTES - 36 or len(data) < 4 + text_len:
        raise BadFrame(f"text block of {text_len} bytes")
    text, values, at = data[4 : 4 + text_len], {}, 0
    for name, size in TEXT_FIELDS:
        try:
            values[name] = text[at : at + size].decode("utf-16-le").strip(" \x00")
        except UnicodeDecodeError:
            raise BadFrame(f"text field {name} is not UCS-2") from None
        at += size
    try:
        birth = dt.datetime.strptime(values.pop("birth"), "%Y%m%d").date()
    except ValueError:
        raise BadFrame("birth date is not YYYYMMDD") from None
    if not values["number"] or not values["name"]:
        raise BadFrame("no name or number in the text block")
    return IdCard(birth=birth, **values)


class Ga467Reader:
    """A GA 467 reader on a serial port or a serial-to-TCP converter (the device bridge's transports)."""

    def __init__(self, transport: Serial | Tcp, timeout_s: float = 1.0) -> None:
        self.transport, self.timeout_s = transport, timeout_s
        self._conn: Connection | None = None
        self._buffer = b""

    async def open(self) -> None:
        await self.close()
        try:
            self._conn = await open_connection(self.transport, self.timeout_s)
        except DeviceGone as error:
            raise ReaderGone(str(error)) from error
        self._buffer = b""

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def read_card(self) -> IdCard | None:
        """The card on the reader, or None; BadFrame for a garbled answer, ReaderGone when it does not answer."""
        found = await self._ask(FIND)
        if found.code == NO_CARD:
            return None
        if found.code != FOUND:
            raise BadFrame(f"find card answered {found.status.hex()}")
        selected = await self._ask(SELECT)
        if selected.code != DONE:
            return None  # lifted meanwhile
        read = await self._ask(READ)
        if read.code != DONE:
            raise BadFrame(f"read answered {read.status.hex()}")
        return parse_text(read.data)

    async def _ask(self, code: tuple[int, int]) -> Answer:
        conn = self._conn
        if conn is None:
            raise ReaderGone("the reader is not open")
        self._buffer = b""  # a late answer of an earlier command is not this one's
        try:
            await conn.write(command(code))
            async with asyncio.timeout(self.timeout_s):
                return await self._answer(conn)
        except TimeoutError:
            raise ReaderGone(f"no answer to {bytes(code).hex()} within {self.timeout_s} s") from None
        except DeviceGone as error:
            raise ReaderGone(str(error)) from error
        except BadFrame:
            self._buffer = b""
            raise

    async def _answer(self, conn: Connection) -> Answer:
        while True:
            answer, self._buffer = split_frame(self._buffer)
            if answer is not None:
                return answer
            chunk = await conn.read()
            if not chunk:
                raise ReaderGone("the reader went away (port closed)")
            self._buffer += chunk
