"""A reminder to one citizen's phone (快到您了, or the call), and the webhook's JSON body of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["soon", "call"]


@dataclass(frozen=True)
class Notice:
    """One message for one phone. `id` is the same for every try: a gateway may drop a repeat by it."""

    id: str
    hall: str
    hall_name_zh: str
    kind: Kind
    phone: str = field(repr=False)  # never in a log line (the repr leaves it out)
    number: str
    window: int | None
    ahead: int | None
    text_zh: str
    text_en: str
    at: dt.datetime

    def body(self) -> dict[str, Any]:
        """The webhook's JSON body (docs/notify.md)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "hall": self.hall,
            "hall_name_zh": self.hall_name_zh,
            "phone": self.phone,
            "number": self.number,
            "window": self.window,
            "ahead": self.ahead,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "at": self.at.isoformat(),
        }


def soon_texts(hall_name_zh: str, number: str, ahead: int) -> tuple[str, str]:
    """快到您了: the words of the reminder when `ahead` people are before the citizen."""
    return (
        f"【{hall_name_zh}】快到您了：{number}号前面还有{ahead}人，请回到大厅留意叫号。",
        f"Nearly your turn: {ahead} ahead of number {number}. Please come back to the hall.",
    )


def call_texts(hall_name_zh: str, number: str, window: int) -> tuple[str, str]:
    """The call: the words the hall says, on the phone."""
    return (
        f"【{hall_name_zh}】请{number}号到{window}号窗口办理。",
        f"Number {number}, please go to window {window}.",
    )


class Notifier(Protocol):
    """Delivers one notice, or raises (the sender retries); an adapter per way of reaching a phone."""

    async def send(self, notice: Notice) -> None: ...

    async def aclose(self) -> None: ...
