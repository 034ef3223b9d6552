"""A swipe of the ID card, as methods of the kiosk's view-model (mixed into KioskViewModel).

The card becomes a `CardHolder` at once (the keyed hash, the masked name, the senior flag) and the card
itself is dropped: nothing of it is kept, logged or sent in clear. Then, by the screen it is swiped on:
- a category's or an item's screen (to take a ticket): that ticket, for this card; a senior is first
  offered the green channel (绿色通道: the categories, the item kept), 返回 for an ordinary ticket;
- the start screen (or any other): the card is kept for the ticket chosen next; a senior is offered the
  green channel at once.
A card kept is forgotten when the kiosk goes home (完成, the idle timeout) or once its ticket is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kiosk.idcard.reader import IdCard, holder
from kiosk.state import Purpose, Screen

if TYPE_CHECKING:
    import datetime as dt

    from kiosk.client import KioskSetup
    from kiosk.state import KioskState


class IdCardActions:
    id_card_key: bytes | None = None  # the hall's key of the hashes (GET devices/me/id-card-key); None: no reader
    if TYPE_CHECKING:
        state: KioskState
        setup: KioskSetup | None
        _now: Callable[[], dt.datetime]

        def _go(self, screen: Screen) -> None: ...
        def _changed(self) -> None: ...
        def touch(self) -> None: ...
        def go_home(self, *, reset_language: bool = False) -> None: ...
        async def take_ticket(self) -> None: ...

    def set_reader(self, present: bool) -> None:
        """The reader answers (or stopped answering: the banner says so; tickets are still taken by taps)."""
        if present != self.state.reader:
            self.state.reader = present
            self._changed()

    def card_hash(self) -> str | None:
        return self.state.card.id_hash if self.state.card is not None else None

    async def card_read(self, card: IdCard) -> None:
        state, key = self.state, self.id_card_key
        if key is None or state.hall is None or self.setup is None or state.busy:
            return
        if state.screen is Screen.STARTING:
            return
        today = self._now().astimezone(ZoneInfo(state.hall.timezone)).date()
        read = holder(card, key, today, state.hall.id_card.senior_age)
        del card
        choosing = state.purpose is Purpose.TICKET and state.screen in (Screen.CATEGORY, Screen.ITEM)
        if not choosing and state.screen not in (Screen.HOME, Screen.GREEN):
            self.go_home()
        self.touch()
        state.card = read
        if read.senior and state.screen is not Screen.GREEN:
            self._go(Screen.GREEN)  # the offer; 返回 goes back to the ordinary ticket
        elif choosing:
            await self.take_ticket()
        else:
            self._changed()
