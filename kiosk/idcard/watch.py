"""Poll the reader; report each card once (until it is lifted), and whether the reader answers.

A reader that stops answering (unplugged mid-read, port gone) is closed, reported absent, and opened
again every `retry_s`; a garbled answer gives no card and is forgotten. Nothing of the card is logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

from config.schema import IdReader as ReaderConfig
from kiosk.idcard.ga467 import BadFrame, Ga467Reader
from kiosk.idcard.reader import IdCard, IdReader, ReaderGone
from kiosk.idcard.simulated import SimulatedReader
from queue_server.devices.settings import Serial, Tcp

log = logging.getLogger(__name__)

POLL_S = 0.3
RETRY_S = 2.0


def make_reader(config: ReaderConfig) -> IdReader:
    """The reader a kiosk's `id_reader` setting names."""
    if config.type == "simulated":
        return SimulatedReader()
    if config.type == "tcp":
        assert config.host is not None and config.tcp_port is not None  # the schema checked
        return Ga467Reader(Tcp(type="tcp", host=config.host, port=config.tcp_port))
    assert config.port is not None
    return Ga467Reader(Serial(type="serial", port=config.port, baudrate=config.baudrate))


class CardWatcher:
    def __init__(
        self,
        reader: IdReader,
        on_card: Callable[[IdCard], None],
        on_state: Callable[[bool], None],
        *,
        poll_s: float = POLL_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self.reader, self.on_card, self.on_state = reader, on_card, on_state
        self.poll_s, self.retry_s = poll_s, retry_s
        self.present: bool | None = None  # None: not known yet
        self._last: bytes | None = None  # a digest of the card still on the reader (not reported again)

    def _say(self, present: bool) -> None:
        if present != self.present:
            self.present = present
            log.info("kiosk: the ID card reader is %s", "ready" if present else "not answering")
            self.on_state(present)

    async def run(self) -> None:
        while True:
            try:
                await self.reader.open()
            except ReaderGone as error:
                log.debug("kiosk: ID card reader: %s", error)
                self._say(False)
                await asyncio.sleep(self.retry_s)
                continue
            self._say(True)
            try:
                await self._poll()
            except ReaderGone as error:
                log.warning("kiosk: the ID card reader went away: %s", error)
                self._last = None
                self._say(False)
                await self.reader.close()
                await asyncio.sleep(self.retry_s)

    async def poll_once(self) -> IdCard | None:
        """One poll: the card newly on the reader, or None (no card, the same card, a garbled answer)."""
        try:
            card = await self.reader.read_card()
        except BadFrame as error:
            log.warning("kiosk: the ID card reader's answer was garbled (%s): no card", error)
            return None
        if card is None:
            self._last = None
            return None
        digest = hashlib.sha256(card.number.encode()).digest()
        if digest == self._last:
            return None
        self._last = digest
        return card

    async def _poll(self) -> None:
        while True:
            card = await self.poll_once()
            if card is not None:
                self.on_card(card)
            await asyncio.sleep(self.poll_s)
