"""The plain, frozen inputs of every printed document, and builders from the hall configuration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from config.schema import CaseKind, Hall, Material, QueueRules, ServiceItem

Paper = Literal[58, 80]
TextMode = Literal["raster", "native"]
QrMode = Literal["image", "native"]
Priority = Literal["ordinary", "green", "appointment"]
ReceiptLayout = Literal["compact", "full"]

PAPER_PIXELS: dict[int, int] = {58: 384, 80: 576}
"""Printable dots across the paper at 203 dpi (the `media.width.pixels` of a printer profile)."""


@dataclass(frozen=True)
class WindowRef:
    """A service window as printed: its number and names."""

    number: int
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class ReceiptData:
    """Everything a ticket receipt shows; `issued_at` is aware and already in the hall's time zone."""

    hall_name_zh: str
    hall_name_en: str
    supervision_phone: str
    number: str
    category_zh: str
    category_en: str
    item_zh: str | None
    item_en: str | None
    windows: tuple[WindowRef, ...]
    ahead: int
    estimated_wait_s: int | None
    issued_at: dt.datetime
    priority: Priority
    track_url: str
    no_show_rule_zh: str
    no_show_rule_en: str
    wait_span_s: tuple[int, int] | None = None  # the 90% interval of the wait
    wait_rough: bool = False  # from the catalogue's typical times or the opening hours

    def __post_init__(self) -> None:
        if self.wait_span_s is not None and not 0 <= self.wait_span_s[0] <= self.wait_span_s[1]:
            raise ValueError(f"wait_span_s must be an interval of non-negative seconds, got {self.wait_span_s}")
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be an aware datetime (in the hall's time zone)")
        if self.ahead < 0:
            raise ValueError(f"ahead must not be negative, got {self.ahead}")
        if self.estimated_wait_s is not None and self.estimated_wait_s < 0:
            raise ValueError(f"estimated_wait_s must not be negative, got {self.estimated_wait_s}")
        if self.priority not in get_args(Priority):
            raise ValueError(f"priority must be one of {get_args(Priority)}, got {self.priority!r}")
        if not self.number:
            raise ValueError("a receipt needs a ticket number")


@dataclass(frozen=True)
class MaterialLine:
    """One required material as printed on a checklist."""

    name: str
    form_zh: str
    copies: int
    notes: str = ""

    @classmethod
    def of(cls, material: Material) -> MaterialLine:
        return cls(name=material.name, form_zh=material.form.label_zh, copies=material.copies, notes=material.notes)


@dataclass(frozen=True)
class NoticeData:
    """A one-time notice (一次性告知单) of a service item, printed on `date`."""

    hall_name_zh: str
    hall_name_en: str
    supervision_phone: str
    item_id: str
    item_name_zh: str
    item_name_en: str
    conditions: tuple[str, ...]
    materials: tuple[MaterialLine, ...]
    procedure: tuple[str, ...]
    promised_days: int
    """0: done on the spot (当场办结); otherwise the promised working days."""
    fee_free: bool
    fee_amount_yuan: Decimal | None
    fee_basis: str
    department: str
    legal_basis: tuple[str, ...]
    date: dt.date
    guide_url: str | None

    def __post_init__(self) -> None:
        if self.promised_days < 0:
            raise ValueError(f"promised_days must not be negative, got {self.promised_days}")
        if not self.fee_free and self.fee_amount_yuan is None:
            raise ValueError("a charged item needs fee_amount_yuan")


@dataclass(frozen=True)
class SupplementData:
    """A supplement notice (补正告知): the materials still missing for an item."""

    hall_name_zh: str
    hall_name_en: str
    supervision_phone: str
    item_name_zh: str
    item_name_en: str
    missing: tuple[MaterialLine, ...]
    window: WindowRef
    date: dt.date
    case_code: str | None = None  # the case (办件编号): typed or scanned at the kiosk on the return visit

    def __post_init__(self) -> None:
        if not self.missing:
            raise ValueError("a supplement notice needs at least one missing material")


def windows_serving(hall: Hall, category: str) -> tuple[WindowRef, ...]:
    """The hall's windows that serve a category, in window-number order."""
    return tuple(
        WindowRef(window.number, window.name_zh, window.name_en)
        for window in sorted(hall.windows, key=lambda window: window.number)
        if category in window.categories
    )


def no_show_rule(rules: QueueRules) -> tuple[str, str]:
    """The missed-call (过号) rule in Chinese and English, from the hall's queue rules."""
    behind = rules.no_show_requeue_behind
    if rules.recall_limit:
        when_zh = f"叫号后重呼{rules.recall_limit}次仍未到视为过号"
        when_en = f"a number not answered after {rules.recall_limit} recalls is skipped"
    else:
        when_zh = "叫号未到视为过号"
        when_en = "a number not answered when called is skipped"
    zh = f"过号：{when_zh}。过号后请到取号机重新排队，将排在{behind}位等候群众之后。"
    en = f"Missed call: {when_en}. Re-queue at the kiosk; you will go behind {behind} waiting people."
    return zh, en


def receipt_data(
    hall: Hall,
    *,
    number: str,
    category: str,
    item_id: str | None,
    ahead: int,
    estimated_wait_s: int | None,
    issued_at: dt.datetime,
    priority: Priority,
    track_url: str,
    wait_span_s: tuple[int, int] | None = None,
    wait_rough: bool = False,
) -> ReceiptData:
    """A receipt for a ticket of `hall`; `issued_at` (aware) is shown in the hall's time zone."""
    cat = hall.category(category)
    item = hall.item(item_id) if item_id is not None else None
    rule_zh, rule_en = no_show_rule(hall.queue)
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be an aware datetime")
    return ReceiptData(
        hall_name_zh=hall.name_zh,
        hall_name_en=hall.name_en,
        supervision_phone=hall.supervision_phone,
        number=number,
        category_zh=cat.name_zh,
        category_en=cat.name_en,
        item_zh=item.name_zh if item else None,
        item_en=item.name_en if item else None,
        windows=windows_serving(hall, category),
        ahead=ahead,
        estimated_wait_s=estimated_wait_s,
        issued_at=issued_at.astimezone(ZoneInfo(hall.timezone)),
        priority=priority,
        track_url=track_url,
        no_show_rule_zh=rule_zh,
        no_show_rule_en=rule_en,
        wait_span_s=wait_span_s,
        wait_rough=wait_rough,
    )


def guide_url(item: ServiceItem, hall: Hall, base_url: str | None = None) -> str | None:
    """The item's online guide: its own guide_url, else `base_url`/<item id>, else the hall's public page.

    The fallback page is `<hall.public_url>/halls/<hall id>/items/<item id>`; None when there is no URL at all.
    """
    if item.guide_url:
        return item.guide_url
    if base_url:
        return f"{base_url.rstrip('/')}/{item.id}"
    if hall.public_url:
        return f"{hall.public_url.rstrip('/')}/halls/{hall.id}/items/{item.id}"
    return None


def notice_data(item: ServiceItem, hall: Hall, date: dt.date, *, guide_base_url: str | None = None) -> NoticeData:
    """The one-time notice of `item` in `hall`, dated `date`."""
    return NoticeData(
        hall_name_zh=hall.name_zh,
        hall_name_en=hall.name_en,
        supervision_phone=item.supervision_phone or hall.supervision_phone,
        item_id=item.id,
        item_name_zh=item.name_zh,
        item_name_en=item.name_en,
        conditions=tuple(item.conditions),
        materials=tuple(MaterialLine.of(material) for material in item.materials),
        procedure=tuple(item.procedure),
        promised_days=item.promised_days if item.case_kind is CaseKind.PROMISED else 0,
        fee_free=item.fee.free,
        fee_amount_yuan=item.fee.amount_yuan,
        fee_basis=item.fee.basis,
        department=item.department,
        legal_basis=tuple(item.legal_basis),
        date=date,
        guide_url=guide_url(item, hall, guide_base_url),
    )


def supplement_data(
    item: ServiceItem,
    hall: Hall,
    *,
    missing: Sequence[Material],
    window_number: int,
    date: dt.date,
    case_code: str | None = None,
) -> SupplementData:
    """A supplement notice for `item`: `missing` materials, to be brought to window `window_number`."""
    window = hall.window(window_number)
    return SupplementData(
        hall_name_zh=hall.name_zh,
        hall_name_en=hall.name_en,
        supervision_phone=item.supervision_phone or hall.supervision_phone,
        item_name_zh=item.name_zh,
        item_name_en=item.name_en,
        missing=tuple(MaterialLine.of(material) for material in missing),
        window=WindowRef(window.number, window.name_zh, window.name_en),
        date=date,
        case_code=case_code,
    )
