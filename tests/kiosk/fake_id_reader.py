"""A fake GA 467 ID card reader on a TCP port of 127.0.0.1 (as behind a serial-to-Ethernet converter)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from kiosk.idcard.ga467 import FIND, HEADER, READ, SELECT, TEXT_FIELDS, frame


@dataclass
class Card:
    name: str = "张美丽"
    sex: str = "2"
    nation: str = "01"
    birth: str = "19610302"
    address: str = "青山镇青山村三组18号"
    number: str = "36010219610302432X"
    issuer: str = "青山县公安局"
    valid_from: str = "20160101"
    valid_to: str = "长期"


def text_block(card: Card) -> bytes:
    block = b""
    for name, size in TEXT_FIELDS:
        value = getattr(card, name).encode("utf-16-le")
        block += value + " ".encode("utf-16-le") * ((size - len(value)) // 2)
    return block + b"\x20\x00" * 18  # 36 reserved bytes


def read_answer(card: Card) -> bytes:
    text, photo = text_block(card), bytes(1024)
    data = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo
    return frame(b"\x00\x00\x90" + data)


class FakeReader:
    """Answers find / select / read like a reader; `card`, `corrupt` and `hang_up_in_read` steer it."""

    def __init__(self) -> None:
        self.card: Card | None = None
        self.corrupt = False  # the next read answer has a wrong checksum
        self.hang_up_in_read = False  # the next read answer stops half-way and the connection closes
        self.commands: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self, port: int = 0) -> FakeReader:
        """Listen (again, on the same port when given: plugged back in)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:  # the cable pulled: every connection drops
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while True:
                request = await reader.readexactly(10)
                assert request.startswith(HEADER), request
                code = (request[7], request[8])
                self.commands.append(bytes(code))
                answer, unplug = self._answer(code)
                writer.write(answer)
                await writer.drain()
                if unplug:  # half an answer, then the cable is pulled
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def _answer(self, code: tuple[int, int]) -> tuple[bytes, bool]:
        if code == FIND:
            return (frame(b"\x00\x00\x9f" + bytes(4)) if self.card else frame(b"\x00\x00\x80")), False
        if code == SELECT:
            return (frame(b"\x00\x00\x90" + bytes(8)) if self.card else frame(b"\x00\x00\x81")), False
        if code == READ and self.card is not None:
            answer = read_answer(self.card)
            if self.hang_up_in_read:
                self.hang_up_in_read = False
                return answer[: len(answer) // 2], True
            if self.corrupt:
                self.corrupt = False
                return answer[:-1] + bytes([answer[-1] ^ 0xFF]), False
            return answer, False
        return frame(b"\x00\x00\x41"), False


def birth_of(years: int, today: dt.date) -> str:
    return f"{today.year - years:04d}{today.month:02d}{today.day:02d}"
