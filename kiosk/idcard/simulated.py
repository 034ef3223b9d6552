"""A reader for demos and tests: a card is put on it (`present`) and lifted (`remove`) by hand."""

from __future__ import annotations

from kiosk.idcard.reader import IdCard, ReaderGone


class SimulatedReader:
    def __init__(self) -> None:
        self.card: IdCard | None = None
        self.plugged = True

    def present(self, card: IdCard) -> None:
        self.card = card

    def remove(self) -> None:
        self.card = None

    async def open(self) -> None:
        if not self.plugged:
            raise ReaderGone("the simulated reader is unplugged")

    async def read_card(self) -> IdCard | None:
        if not self.plugged:
            raise ReaderGone("the simulated reader is unplugged")
        return self.card

    async def close(self) -> None:
        return None
