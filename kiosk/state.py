"""What the kiosk knows and which screen it is on: plain data, changed only by the view-model."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from config.schema import Category, Hall, ServiceItem
from kiosk.idcard.reader import CardHolder
from kiosk.texts import Lang
from printer.status import PrinterState
from queue_server.protocol import IssuedTicket, IssueRequest, PublicCase, QueueSummary


class Screen(StrEnum):
    STARTING = "starting"  # connecting, loading the hall's settings and catalogue
    HOME = "home"  # a tile per category, 绿色通道, 预约签到, 办事指南
    CATEGORY = "category"  # a category's items (and a ticket for the category itself)
    ITEM = "item"  # an item's eight published facts, 取号 and 打印告知单
    TICKET = "ticket"  # the number, very large, with the tracking QR
    GUIDE = "guide"  # 办事指南: categories to read about
    GREEN = "green"  # 绿色通道: who may use it, and the categories
    CHECKIN = "checkin"  # 预约签到: the booking code on big keys, then 签到
    RETURN_VISIT = "return_visit"  # 补办 / 补交材料: the case code typed or scanned (kiosk/return_visit.py)
    CASE_LOOKUP = "case_lookup"  # 办件查询 · 投诉: a case's public facts by its code, the QR of /q/{hall}
    ERROR = "error"  # a tap that gave no ticket: why, and what to do


class Purpose(StrEnum):
    """Why the citizen is browsing categories and items: to take a ticket, or to read (办事指南)."""

    TICKET = "ticket"
    GUIDE = "guide"


class Problem(StrEnum):
    UNREACHABLE = "unreachable"  # no answer after every retry: the same tap can be retried
    CATEGORY_FULL = "category_full"
    REFUSED = "refused"  # the server does not accept this kiosk's token
    CHECKIN_REFUSED = "checkin_refused"  # the server refused the check-in (ErrorInfo.detail: its code)
    ID_TICKET_OPEN = "id_ticket_open"  # the card has a ticket open in the category (detail: its number)
    FAILED = "failed"  # any other refusal


class PrintState(StrEnum):
    NONE = "none"  # nothing asked
    PRINTING = "printing"  # queued or being sent
    DONE = "done"  # the printer confirmed the whole job
    SENT = "sent"  # every byte written, but this printer cannot confirm (confirm = "none", a file)
    WAITING = "waiting"  # the printer cannot print now (no paper, cover open, unreachable): the job waits
    FAILED = "failed"  # given up (expired): the ticket on screen still counts
    UNCONFIRMED = "unconfirmed"  # bytes went out, then the connection failed: it may have printed in part
    NO_PRINTER = "no_printer"  # this kiosk has no printer


@dataclass(frozen=True)
class PrintProgress:
    state: PrintState = PrintState.NONE
    printer: PrinterState | None = None  # why it waits or failed


@dataclass(frozen=True)
class PendingIssue:
    """A tap whose answer has not arrived: retrying it (or the same request soon after) reuses its key."""

    request: IssueRequest
    key: str
    since: float


@dataclass(frozen=True)
class ErrorInfo:
    problem: Problem
    request: IssueRequest | None = None
    category: Category | None = None  # for category_full
    detail: str = ""
    checkin: str | None = None  # the booking code of a check-in that failed (what 重试 sends again)
    when: str = ""  # for a refused check-in: the time it opens (too_early) or the appointment's day (not today)


@dataclass
class KioskState:
    screen: Screen = Screen.STARTING
    lang: Lang = "zh"
    hall: Hall | None = None
    starting_problem: Problem | None = None  # why the kiosk cannot start yet (unreachable, refused)
    online: bool = False  # the live feed of queue lengths
    queues: dict[str, QueueSummary] = field(default_factory=dict)
    printer: PrinterState | None = None  # None: this kiosk has no printer
    purpose: Purpose = Purpose.TICKET
    category: str | None = None
    item: str | None = None
    history: list[Screen] = field(default_factory=list)  # where 返回 goes
    busy: bool = False  # a ticket is being taken: taps are ignored until it is answered
    busy_shown: bool = False  # ... and it takes long enough to say "please wait"
    ticket: IssuedTicket | None = None
    track_url: str = ""
    receipt: PrintProgress = field(default_factory=PrintProgress)
    notice: PrintProgress = field(default_factory=PrintProgress)
    error: ErrorInfo | None = None
    checkin_code: str = ""  # what is typed on the 预约签到 screen
    return_code: str = ""  # what is typed (or scanned) on the 补办 or the 办件查询 screen (the same keypad)
    return_problem: str | None = None  # why its last try gave nothing (the server's code, or "unreachable")
    return_key: tuple[str, str] | None = None  # (code, Idempotency-Key) of that try: retried, the same key
    looked_up: PublicCase | None = None  # the case the 办件查询 screen shows (the public lookup's answer)
    supervision_url: str = ""  # what its QR encodes: the hall's public supervision page /q/{hall}
    pending: PendingIssue | None = None
    last_touch: float = 0.0
    card: CardHolder | None = None  # the ID card swiped by the citizen at the kiosk now (kiosk/idcard/), until home
    reader: bool | None = None  # the ID card reader answers (None: this kiosk has no reader)

    def category_config(self) -> Category | None:
        if self.hall is None or self.category is None:
            return None
        try:
            return self.hall.category(self.category)
        except KeyError:
            return None

    def item_config(self) -> ServiceItem | None:
        if self.hall is None or self.item is None:
            return None
        try:
            return self.hall.item(self.item)
        except KeyError:
            return None
