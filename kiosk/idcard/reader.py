"""What a reader gives the kiosk, and what the kiosk keeps of it: never the ID number nor the name in clear.

A reader (`IdReader`) is polled: `read_card()` answers the card on it, or None when there is none, and
raises `ReaderGone` when the reader cannot be reached (unplugged). An adapter for a vendor's SDK
implements the same three methods (docs/id-card.md). The photo is never read out of a reader's answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Protocol


class ReaderGone(Exception):
    """The reader does not answer (unplugged, port gone) or answers nonsense; the kiosk tries again later."""


@dataclass(frozen=True)
class IdCard:
    """The text block of a card, as read. Never logged: its repr says nothing of the person."""

    name: str = field(repr=False)
    sex: str = field(repr=False)  # "1" male, "2" female (GB/T 2261.1)
    nation: str = field(repr=False)  # "01" 汉 … (GB 3304)
    birth: dt.date = field(repr=False)
    address: str = field(repr=False)
    number: str = field(repr=False)
    issuer: str = field(repr=False)
    valid_from: str = field(repr=False)
    valid_to: str = field(repr=False)  # YYYYMMDD, or 长期

    def __repr__(self) -> str:
        return "IdCard(…)"


@dataclass(frozen=True)
class CardHolder:
    """What the kiosk keeps of a card until the citizen's ticket is taken: the hash, a masked name, a flag."""

    id_hash: str  # HMAC-SHA256(hall key, ID number), hex: what the server's one-open-ticket rule compares
    masked_name: str  # 张*丽
    senior: bool  # age from the birth date ≥ the hall's id_card.senior_age (the date itself is dropped)


class IdReader(Protocol):
    async def open(self) -> None: ...
    async def read_card(self) -> IdCard | None: ...
    async def close(self) -> None: ...


def mask_name(name: str) -> str:
    """张*丽 (three characters or more: the first and the last), 张* (two)."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def id_hash(key: bytes, number: str) -> str:
    """The keyed hash of an ID number (upper case, so a final x and X are one card)."""
    return hmac.new(key, number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


def holder(card: IdCard, key: bytes, today: dt.date, senior_age: int) -> CardHolder:
    return CardHolder(id_hash(key, card.number), mask_name(card.name), age_on(card.birth, today) >= senior_age)
