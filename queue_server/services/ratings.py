"""好差评: a citizen rates a finished ticket once; a bad rating is followed up within 15 working days.

Levels 非常满意 … 非常不满意 (scores 5 … 1). 不满意 and 非常不满意 are bad: they need a reason and open
a follow-up (open → contacted → rectified) due `FOLLOW_UP_WORKING_DAYS` working days after the
rating's service day. 满意率 = ratings of 基本满意 or better / all ratings.

The rating's comment and the optional contact phone are for the hall's managers only: the event
log's payload and the public message carry neither.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, func, insert, select, update

from queue_server.domain.workdays import WorkCalendar
from queue_server.errors import Conflict, NotFound
from queue_server.protocol import RatingMessage
from queue_server.services.accounts import Staff
from queue_server.store.tables import ratings, tickets
from queue_server.store.writer import Tx, from_us

FOLLOW_UP_WORKING_DAYS = 15
MAX_COMMENT = 500
MAX_NOTE = 500

Level = Literal["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
Reason = Literal["attitude", "slow", "wait", "notice", "rules", "environment", "other"]
FollowUpState = Literal["open", "contacted", "rectified"]

#: level: (score, 中文, English)
LEVELS: Mapping[str, tuple[int, str, str]] = MappingProxyType(
    {
        "very_satisfied": (5, "非常满意", "very satisfied"),
        "satisfied": (4, "满意", "satisfied"),
        "basic": (3, "基本满意", "fairly satisfied"),
        "dissatisfied": (2, "不满意", "dissatisfied"),
        "very_dissatisfied": (1, "非常不满意", "very dissatisfied"),
    }
)
BAD_LEVELS = frozenset({"dissatisfied", "very_dissatisfied"})
#: reason: (中文, English)
REASONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "attitude": ("服务态度不好", "unfriendly service"),
        "slow": ("办事效率低", "slow handling"),
        "wait": ("排队等候时间长", "long wait"),
        "notice": ("告知不清楚，材料反复要求", "unclear notice, materials asked for again and again"),
        "rules": ("未按规定办理", "not handled by the rules"),
        "environment": ("大厅环境或设施不便", "hall facilities"),
        "other": ("其他", "other"),
    }
)
#: The one table of follow-up moves of a bad rating.
FOLLOW_UP: Mapping[str, frozenset[str]] = MappingProxyType(
    {"open": frozenset({"contacted"}), "contacted": frozenset({"rectified"}), "rectified": frozenset()}
)
FOLLOW_UP_LABELS: Mapping[str, str] = MappingProxyType({"open": "待回访", "contacted": "已联系", "rectified": "已整改"})


def clean_text(value: str, limit: int) -> str:
    """Trimmed text without control characters (newlines and tabs allowed), at most `limit` characters."""
    text = value.strip()
    bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in "\n\t"]
    if bad:
        raise ValueError("must not contain control characters")
    if len(text) > limit:
        raise ValueError(f"at most {limit} characters")
    return text


class RatingRequest(BaseModel):
    """Body of POST .../tickets/{track_token}/rating."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Level
    reasons: Annotated[list[Reason], Field(max_length=len(REASONS))] = []
    comment: Annotated[str, Field(max_length=MAX_COMMENT * 2)] = ""
    contact_phone: Annotated[str, Field(pattern=r"^[0-9+][0-9 ()+-]{4,30}$")] | None = None

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str) -> str:
        return clean_text(value, MAX_COMMENT)

    @model_validator(mode="after")
    def _reasons(self) -> RatingRequest:
        if len(set(self.reasons)) != len(self.reasons):
            raise ValueError("a reason is listed twice")
        if self.level in BAD_LEVELS:
            if not self.reasons:
                raise ValueError("a bad rating needs at least one reason (请选择不满意的原因)")
            if self.reasons == ["other"] and not self.comment:
                raise ValueError("with the reason 'other', say what went wrong in comment (请填写具体原因)")
        elif self.reasons:
            raise ValueError("reasons are given only with 不满意 or 非常不满意")
        elif self.contact_phone is not None:
            raise ValueError("contact_phone is asked only with a bad rating, for its follow-up")
        return self


class RatingReceipt(BaseModel):
    """What the citizen's phone shows of its own rating."""

    level: Level
    level_zh: str
    score: int
    rated_at: dt.datetime


class TicketRating(BaseModel):
    """Whether a ticket may be rated now, and its rating if it has one."""

    state: str
    can_rate: bool
    rating: RatingReceipt | None


class FollowUpNote(BaseModel):
    state: FollowUpState
    note: str
    by: str
    at: dt.datetime


class RatingRecord(BaseModel):
    """A rating as the hall's managers see it."""

    id: int
    day: dt.date
    number: str
    category: str
    item_id: str | None
    window: int | None
    served_by: str | None
    level: Level
    level_zh: str
    score: int
    reasons: list[Reason]
    comment: str
    contact_phone: str | None
    rated_at: dt.datetime
    follow_up: FollowUpState | None
    due_on: dt.date | None
    overdue: bool
    due_provisional: bool = False  # counted past the calendar's last year (weekends only): it may move
    notes: list[FollowUpNote]


class RatingSummary(BaseModel):
    count: int
    by_level: dict[str, int]
    satisfaction_rate: float | None  # percent, one decimal; None without ratings (never an invented 0)
    bad: int
    open_follow_ups: int
    overdue_follow_ups: int


class RatingList(BaseModel):
    summary: RatingSummary
    ratings: list[RatingRecord]


class FollowUpRequest(BaseModel):
    """Body of POST .../ratings/{id}/follow-up: the next state and what was done."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["contacted", "rectified"]
    note: Annotated[str, Field(min_length=1, max_length=MAX_NOTE * 2)]

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        text = clean_text(value, MAX_NOTE)
        if not text:
            raise ValueError("say what was done (请填写回访或整改情况)")
        return text


# -- the citizen -----------------------------------------------------------------------------------


#: What a rating copies of its ticket (and the pad's rule reads: services/pad_ratings.py).
TICKET_COLUMNS = (
    tickets.c.id,
    tickets.c.day,
    tickets.c.state,
    tickets.c.number,
    tickets.c.category,
    tickets.c.item_id,
    tickets.c.window,
    tickets.c.served_by,
    tickets.c.finished_at,
)


def _ticket_of_today(tx: Tx, track_token: str) -> Any:
    row = tx.conn.execute(
        select(*TICKET_COLUMNS).where(tickets.c.hall == tx.rt.hall.id, tickets.c.track_token == track_token)
    ).first()
    if row is None or row.day != tx.rt.day:
        raise NotFound("no ticket of today with this code (未找到今日的该号票)")
    return row


def _receipt(row: Any) -> RatingReceipt:
    return RatingReceipt(
        level=row.level, level_zh=LEVELS[row.level][1], score=row.score, rated_at=from_us(row.rated_at)
    )


def ticket_rating(tx: Tx, track_token: str) -> TicketRating:
    """The rating state of a ticket of today."""
    ticket = _ticket_of_today(tx, track_token)
    row = tx.conn.execute(select(ratings).where(ratings.c.ticket_id == ticket.id)).first()
    return TicketRating(
        state=ticket.state,
        can_rate=row is None and ticket.state == "finished",
        rating=_receipt(row) if row is not None else None,
    )


def rate(tx: Tx, track_token: str, request: RatingRequest) -> RatingReceipt:
    """Record the one rating of a finished ticket of today."""
    return record_rating(tx, _ticket_of_today(tx, track_token), request, "citizen")


def record_rating(tx: Tx, ticket: Any, request: RatingRequest, actor: str) -> RatingReceipt:
    """Insert the one rating of `ticket` (a row of TICKET_COLUMNS), from the phone or the window's pad."""
    if ticket.state != "finished":
        raise Conflict("a ticket is rated after its service is finished (办结后才能评价)")
    if tx.conn.execute(select(ratings.c.id).where(ratings.c.ticket_id == ticket.id)).first() is not None:
        raise Conflict("this ticket has already been rated: one rating per ticket (该号已评价，每张号票只能评价一次)")
    score = LEVELS[request.level][0]
    bad = request.level in BAD_LEVELS
    assert tx.rt.day is not None
    due = tx.calendar.add_working_days(tx.rt.day, FOLLOW_UP_WORKING_DAYS) if bad else None
    inserted = tx.conn.execute(
        insert(ratings).values(
            hall=tx.rt.hall.id,
            ticket_id=ticket.id,
            day=ticket.day,
            number=ticket.number,
            category=ticket.category,
            item_id=ticket.item_id,
            window=ticket.window,
            served_by=ticket.served_by,
            level=request.level,
            score=score,
            reasons=json.dumps(request.reasons),
            comment=request.comment,
            contact_phone=request.contact_phone,
            rated_at=tx.now_us,
            follow_up="open" if bad else None,
            due_on=due,
            follow_up_notes="[]",
            updated_at=tx.now_us,
        )
    ).inserted_primary_key
    assert inserted is not None
    tx.emit(
        "ticket.rated",
        {
            "rating_id": inserted[0],
            "number": ticket.number,
            "level": request.level,
            "score": score,
            "reasons": list(request.reasons),
            "due_on": due.isoformat() if due else None,
        },
        lambda seq: RatingMessage(seq=seq, at=tx.now, event="rated", level=request.level),
        actor=actor,
        window=ticket.window,
        ticket_id=ticket.id,
    )
    return RatingReceipt(level=request.level, level_zh=LEVELS[request.level][1], score=score, rated_at=tx.now)


# -- the managers ----------------------------------------------------------------------------------


def _record(row: Any, today: dt.date) -> RatingRecord:
    notes = [FollowUpNote(**{**n, "at": from_us(n["at"])}) for n in json.loads(row.follow_up_notes)]
    return RatingRecord(
        id=row.id,
        day=row.day,
        number=row.number,
        category=row.category,
        item_id=row.item_id,
        window=row.window,
        served_by=row.served_by,
        level=row.level,
        level_zh=LEVELS[row.level][1],
        score=row.score,
        reasons=json.loads(row.reasons),
        comment=row.comment,
        contact_phone=row.contact_phone,
        rated_at=from_us(row.rated_at),
        follow_up=row.follow_up,
        due_on=row.due_on,
        overdue=row.follow_up in ("open", "contacted") and row.due_on is not None and today > row.due_on,
        notes=notes,
    )


def mark_provisional(record: RatingRecord, calendar: WorkCalendar) -> RatingRecord:
    """The record with its follow-up's due date marked provisional when counted past the calendar's last year."""
    provisional = record.due_on is not None and calendar.provisional(record.day, record.due_on)
    return record.model_copy(update={"due_provisional": provisional})


def satisfaction_rate(by_level: Mapping[str, int]) -> float | None:
    """满意率 in percent (one decimal): 基本满意 or better among all ratings; None without ratings."""
    count = sum(by_level.values())
    if count == 0:
        return None
    good = sum(n for level, n in by_level.items() if level not in BAD_LEVELS)
    return round(100 * good / count, 1)


def list_ratings(
    conn: Connection,
    hall: str,
    today: dt.date,
    day_from: dt.date,
    day_to: dt.date,
    follow_up: FollowUpState | None = None,
    bad_only: bool = False,
    limit: int = 200,
) -> RatingList:
    """The ratings of service days day_from..day_to (newest first), and the summary of all of them."""
    where = [ratings.c.hall == hall, ratings.c.day >= day_from, ratings.c.day <= day_to]
    counts = Counter(
        {
            r.level: r.n
            for r in conn.execute(
                select(ratings.c.level, func.count().label("n")).where(*where).group_by(ratings.c.level)
            )
        }
    )
    open_rows = conn.execute(
        select(ratings.c.due_on).where(*where, ratings.c.follow_up.in_(["open", "contacted"]))
    ).all()
    by_level = {level: counts.get(level, 0) for level in LEVELS}
    summary = RatingSummary(
        count=sum(by_level.values()),
        by_level=by_level,
        satisfaction_rate=satisfaction_rate(by_level),
        bad=sum(by_level[level] for level in BAD_LEVELS),
        open_follow_ups=len(open_rows),
        overdue_follow_ups=sum(1 for r in open_rows if r.due_on is not None and today > r.due_on),
    )
    query = select(ratings).where(*where)
    if follow_up is not None:
        query = query.where(ratings.c.follow_up == follow_up)
    if bad_only:
        query = query.where(ratings.c.level.in_(sorted(BAD_LEVELS)))
    rows = conn.execute(query.order_by(ratings.c.rated_at.desc(), ratings.c.id.desc()).limit(limit)).all()
    return RatingList(summary=summary, ratings=[_record(r, today) for r in rows])


def follow_up(tx: Tx, rating_id: int, staff: Staff, request: FollowUpRequest) -> RatingRecord:
    """Move a bad rating's follow-up one step: open → contacted → rectified, with what was done."""
    hall = tx.rt.hall.id
    row = tx.conn.execute(select(ratings).where(ratings.c.id == rating_id, ratings.c.hall == hall)).first()
    if row is None:
        raise NotFound(f"no rating {rating_id} in hall {hall} (没有该评价)")
    if row.follow_up is None:
        raise Conflict("only a bad rating (不满意, 非常不满意) is followed up (满意评价无需回访)")
    if request.state not in FOLLOW_UP[row.follow_up]:
        raise Conflict(
            f"a follow-up that is {row.follow_up} cannot become {request.state}"
            f" ({FOLLOW_UP_LABELS[row.follow_up]}不能改为{FOLLOW_UP_LABELS[request.state]})"
        )
    notes = json.loads(row.follow_up_notes)
    notes.append({"state": request.state, "note": request.note, "by": staff.username, "at": tx.now_us})
    tx.conn.execute(
        update(ratings)
        .where(ratings.c.id == rating_id)
        .values(follow_up=request.state, follow_up_notes=json.dumps(notes, ensure_ascii=False), updated_at=tx.now_us)
    )
    tx.emit(
        "rating.followed_up",
        {
            "rating_id": rating_id,
            "number": row.number,
            "from": row.follow_up,
            "to": request.state,
            "note": request.note,
        },
        lambda seq: RatingMessage(seq=seq, at=tx.now, event="followed_up", level=None),
        actor=staff.username,
        ticket_id=row.ticket_id,
    )
    updated = tx.conn.execute(select(ratings).where(ratings.c.id == rating_id)).one()
    assert tx.rt.day is not None
    return _record(updated, tx.rt.day)
