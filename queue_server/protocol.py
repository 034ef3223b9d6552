"""Typed messages shared by the server and its Python clients (kiosk, boards); no FastAPI here.

Everything in this module is public: it goes to boards, kiosks and citizens' phones, so it never
carries personal data (no names of citizens, no tracking tokens of other tickets).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from queue_server.domain.cases import CaseState

PROTOCOL_VERSION = 1


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSummary(Message):
    """Waiting tickets of one category and the estimated wait of a ticket taken now."""

    category: str
    prefix: str
    waiting: int
    wait_s: int | None  # None: no window lists this category
    wait_low_s: int | None = None  # the 90% interval of the wait
    wait_high_s: int | None = None
    rough: bool = False  # from the catalogue's typical times or the opening hours, not the day's own


class WindowView(Message):
    """A window as a board shows it: its state, who is on duty, what it serves now."""

    number: int
    name_zh: str
    name_en: str
    state: Literal["closed", "open", "paused"]
    post: Literal["A", "B"] | None
    clerk_name: str | None
    current_number: str | None
    current_state: Literal["called", "serving"] | None
    paused_reason: str | None


class CallView(Message):
    """One call, for the board's list of recent calls."""

    number: str
    window: int
    at: dt.datetime


class Announcement(Message):
    """What the hall says aloud for a call."""

    text_zh: str
    text_en: str
    repeat: int = 2
    audio_url: str | None = None


class BoardState(Message):
    """Everything a display board shows."""

    hall: str
    name_zh: str
    name_en: str
    notice_zh: str
    notice_en: str
    supervision_phone: str
    day: dt.date | None
    windows: list[WindowView]
    queues: list[QueueSummary]
    recent_calls: list[CallView]


class Snapshot(Message):
    type: Literal["snapshot"] = "snapshot"
    seq: int
    board: BoardState


class TicketRef(Message):
    """The public face of a ticket: its number and category, nothing personal."""

    number: str
    category: str
    priority: Literal["ordinary", "green", "appointment"]


class CallMessage(Message):
    """A ticket is called (or recalled) to a window: boards show it and say it aloud."""

    type: Literal["call"] = "call"
    seq: int
    at: dt.datetime
    ticket: TicketRef
    window: int
    window_name_zh: str
    window_name_en: str
    recall: int  # 0 for the first call, then 1, 2, ...
    announcement: Announcement
    queues: list[QueueSummary]


class TicketMessage(Message):
    """A ticket changed state (issued, started, finished, no-show, transferred, re-queued, returned)."""

    type: Literal["ticket"] = "ticket"
    seq: int
    at: dt.datetime
    event: Literal["issued", "started", "finished", "no_show", "transferred", "requeued", "returned"]
    ticket: TicketRef
    state: str
    window: int | None
    queues: list[QueueSummary]


class WindowMessage(Message):
    """A window opened, paused, resumed, changed post or closed."""

    type: Literal["window"] = "window"
    seq: int
    at: dt.datetime
    event: Literal["opened", "paused", "resumed", "taken_over", "closed"]
    window: WindowView
    queues: list[QueueSummary]


class DayMessage(Message):
    """The service day closed: waiting tickets expired, windows closed."""

    type: Literal["day_closed"] = "day_closed"
    seq: int
    at: dt.datetime
    day: dt.date
    expired: int
    queues: list[QueueSummary]


class RatingMessage(Message):
    """A citizen rated a finished ticket (好差评), or a manager followed up a bad rating.

    Only what a board may show: the level, never the ticket, the text or who was rated.
    """

    type: Literal["rating"] = "rating"
    seq: int
    at: dt.datetime
    event: Literal["rated", "followed_up", "called_back", "reviewed", "defaulted"]
    level: Literal["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"] | None


class AppointmentMessage(Message):
    """An appointment (办事预约) was booked, cancelled, checked in or missed: the slot and category only."""

    type: Literal["appointment"] = "appointment"
    seq: int
    at: dt.datetime
    event: Literal["booked", "cancelled", "checked_in", "missed"]
    day: dt.date
    slot_start: str
    category: str


class CaseMessage(Message):
    """A case (办件) moved: opened, started, handed on, extended, linked to a return visit (or the agent's
    resubmission), asked for missing materials (补办), closed, or its result handed back by the village agent.

    Only what a board may show: the event and the category, never the case code, the citizen or the clerk.
    """

    type: Literal["case"] = "case"
    seq: int
    at: dt.datetime
    event: Literal[
        "opened", "handed", "extended", "linked", "supplement", "completed", "returned", "rejected", "delivered"
    ]
    category: str


class ComplaintMessage(Message):
    """A complaint (投诉举报) was filed, taken up or answered: nothing else, never its text, code or contact."""

    type: Literal["complaint"] = "complaint"
    seq: int
    at: dt.datetime
    event: Literal["filed", "handling", "answered"]


class Pong(Message):
    type: Literal["pong"] = "pong"
    seq: int


ServerMessage = Annotated[
    Snapshot
    | CallMessage
    | TicketMessage
    | WindowMessage
    | DayMessage
    | RatingMessage
    | AppointmentMessage
    | CaseMessage
    | ComplaintMessage
    | Pong,
    Field(discriminator="type"),
]
server_message_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


class Ping(Message):
    """The only message a board client sends: a keep-alive that answers with the current seq."""

    type: Literal["ping"]


ClientMessage = Annotated[Ping, Field(discriminator="type")]
client_message_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_server_message(text: str | bytes) -> ServerMessage:
    """Parse one websocket message from the server (used by the Python clients)."""
    return server_message_adapter.validate_json(text)


# --- HTTP bodies the kiosk uses -------------------------------------------------------------


class IssueRequest(Message):
    """Body of POST /api/v1/halls/{hall}/tickets: an item or a category, and an optional priority."""

    item_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    category: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    priority: Literal["ordinary", "green"] = "ordinary"
    id_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        None,
        description="a ticket by ID card: HMAC-SHA256 (hex) of the ID number with the hall's key"
        " (GET devices/me/id-card-key), computed by the kiosk; never the number itself (docs/id-card.md)",
    )


class IssuedTicket(Message):
    """The answer to an issuance: everything the kiosk shows and prints."""

    id: int
    number: str
    category: str
    category_name_zh: str
    category_name_en: str
    item_id: str | None
    item_name_zh: str | None
    item_name_en: str | None
    priority: Literal["ordinary", "green", "appointment"]
    state: str
    ahead: int
    estimated_wait_s: int | None
    estimated_wait_low_s: int | None = None  # the 90% interval of the wait
    estimated_wait_high_s: int | None = None
    estimate_rough: bool = False  # from the catalogue's typical times or the opening hours: say so
    windows: list[int]
    issued_at: dt.datetime
    track_token: str
    track_path: str


class TicketStatus(Message):
    """A ticket's public status, looked up by its tracking token."""

    number: str
    category: str
    category_name_zh: str
    category_name_en: str
    item_id: str | None
    item_name_zh: str | None
    priority: Literal["ordinary", "green", "appointment"]
    state: str
    state_label_zh: str
    state_label_en: str
    ahead: int | None
    estimated_wait_s: int | None
    estimated_wait_low_s: int | None = None  # the 90% interval of the wait
    estimated_wait_high_s: int | None = None
    estimate_rough: bool = False  # from the catalogue's typical times or the opening hours: say so
    window: int | None
    window_name_zh: str | None
    issued_at: dt.datetime
    called_at: dt.datetime | None
    day: dt.date


class PublicCase(BaseModel):
    """GET /api/v1/halls/{hall}/case-lookup/{code} (办件进度查询): a case's progress, never who the citizen or the
    clerk is (services/case_lookup.py fills it; the kiosk's 办件查询 screen reads it). Unknown fields are ignored."""

    model_config = ConfigDict(frozen=True)

    code: str
    hall: str
    item_name_zh: str | None
    item_name_en: str | None
    class_zh: str  # 承诺件, 补办件, ...
    state: CaseState
    state_zh: str  # 逾期 when overdue
    state_en: str
    overdue: bool
    opened_day: dt.date  # 受理日期
    due_on: dt.date | None  # None: a 补办件 waiting for its materials (the clock starts when they are brought)
    due_provisional: bool  # counted past the calendar's last official year (暂定)
    closed_day: dt.date | None
    window: int | None  # the window handling it now
    window_name_zh: str | None
    window_name_en: str | None
    department: str | None  # a 联办 department, else the item's 经办科室
    result_zh: str | None  # 领取方式 once completed
    missing_materials: list[str]  # a 补办件: what to bring (the supplement notice's list)
