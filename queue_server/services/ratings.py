"""好差评: a citizen rates a finished visit once; a bad rating is rectified within the locality's deadline.

Levels 非常满意 … 非常不满意 (scores 5 … 1). 不满意 and 非常不满意 are bad (差评): they need at least one of the
national indicators (INDICATORS, docs/haocha.md) and open a follow-up (open → contacted → rectified → closed by
the callback, services/rating_review.py) due `hall.ratings.rectify_working_days` working days after the
rating's service day. 满意率 = citizens' ratings of 基本满意 or better / citizens' ratings; a system's default
rating (默认好评) and a 差评 taken out by an upheld review (复核) count in neither.

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
from sqlalchemy import Connection, false, func, insert, or_, select, update

from queue_server.domain.workdays import WorkCalendar
from queue_server.errors import Conflict, NotFound
from queue_server.protocol import RatingMessage
from queue_server.services.accounts import Staff
from queue_server.store.tables import cases, ratings, tickets
from queue_server.store.writer import Tx, from_us

MAX_COMMENT = 500
MAX_NOTE = 500

Level = Literal["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
Reason = Literal["overall", "efficiency", "level", "attitude"]
FollowUpState = Literal["open", "contacted", "rectified", "closed"]
Source = Literal["citizen", "default"]
ReviewState = Literal["requested", "upheld", "rejected"]

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
#: The national indicators of an offline (大厅) rating, 政务服务"好差评"评价内容 (线下评价): the first-level
#: 整体满意度 and its second-level 服务效率, 服务水平, 服务态度. Fixed: a hall may not add or remove one.
#: indicator: (中文, English)
INDICATORS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "overall": ("整体满意度", "overall satisfaction"),
        "efficiency": ("服务效率", "efficiency of the service"),
        "level": ("服务水平", "competence of the service"),
        "attitude": ("服务态度", "attitude of the staff"),
    }
)
REASONS = INDICATORS  # the pages' name for them
#: The reason codes before migration 0020 (still accepted from old pads and phones): → the indicator.
LEGACY_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "slow": "efficiency",
        "wait": "efficiency",
        "notice": "level",
        "rules": "level",
        "environment": "overall",
        "other": "overall",
    }
)
#: The one table of follow-up moves of a bad rating.
FOLLOW_UP: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "open": frozenset({"contacted"}),
        "contacted": frozenset({"rectified"}),
        "rectified": frozenset(),  # closed by the callback (services/rating_review.py), or open again
        "closed": frozenset(),
    }
)
FOLLOW_UP_LABELS: Mapping[str, str] = MappingProxyType(
    {"open": "待回访", "contacted": "已联系", "rectified": "已整改", "closed": "已办结"}
)
OPEN_FOLLOW_UPS = ("open", "contacted", "rectified")  # due, and overdue after their date


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
    reasons: Annotated[list[Reason], Field(max_length=len(INDICATORS) + len(LEGACY_REASONS))] = []
    comment: Annotated[str, Field(max_length=MAX_COMMENT * 2)] = ""
    contact_phone: Annotated[str, Field(pattern=r"^[0-9+][0-9 ()+-]{4,30}$")] | None = None

    @field_validator("reasons", mode="before")
    @classmethod
    def _legacy(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        if len(set(map(str, value))) != len(value):
            raise ValueError("a reason is listed twice")
        mapped: list[Any] = []
        for code in value:
            new = LEGACY_REASONS.get(code, code) if isinstance(code, str) else code
            if new not in mapped:
                mapped.append(new)
        return mapped

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str) -> str:
        return clean_text(value, MAX_COMMENT)

    @model_validator(mode="after")
    def _reasons(self) -> RatingRequest:
        if self.level in BAD_LEVELS:
            if not self.reasons:
                raise ValueError("a bad rating needs at least one reason (请选择不满意的原因)")
            if self.reasons == ["overall"] and not self.comment:
                raise ValueError("with only 整体满意度 (overall), say what went wrong in comment (请填写具体原因)")
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


class Callback(BaseModel):
    """回访: who called the citizen back after the rectification, when, what they said, and their rating of the fix."""

    by: str
    at: dt.datetime
    said: str
    rerating: Literal["satisfied", "dissatisfied"]


class Review(BaseModel):
    """申诉复核 of a 差评: asked with a reason, decided by someone else (services/rating_review.py)."""

    state: ReviewState
    reason: str
    by: str
    at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    note: str | None = None


class RatingRecord(BaseModel):
    """A rating as the hall's managers see it."""

    id: int
    day: dt.date
    number: str
    case_code: str | None  # the case of the visit (办件编号), once the ledger has it
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
    source: Source  # citizen, or default: the system's 默认好评, never a citizen's word
    callbacks: list[Callback]
    rerating: Literal["satisfied", "dissatisfied"] | None  # the citizen's rating of the fix (last callback)
    review: Review | None
    excluded: bool  # an upheld review took it out of the figures


class RatingSummary(BaseModel):
    count: int  # citizens' ratings counted in the figures (not the default ones, not those excluded by a review)
    by_level: dict[str, int]
    satisfaction_rate: float | None  # percent, one decimal; None without ratings (never an invented 0)
    bad: int
    open_follow_ups: int
    overdue_follow_ups: int
    defaulted: int = 0  # 默认好评 given by the system, counted apart
    excluded: int = 0  # 差评 taken out of the figures by an upheld review (复核)
    reviews_pending: int = 0


class RatingList(BaseModel):
    summary: RatingSummary
    ratings: list[RatingRecord]
    rectify_working_days: int = 15  # the locality's deadline of a 差评 (config ratings.rectify_working_days)


class FollowUpRequest(BaseModel):
    """Body of POST .../ratings/{id}/follow-up: the next state and what was done."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["contacted", "rectified"]  # the callback closes it: POST .../callback
    note: Annotated[str, Field(min_length=1, max_length=MAX_NOTE * 2)]

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        text = clean_text(value, MAX_NOTE)
        if not text:
            raise ValueError("say what was done (请填写回访或整改情况)")
        return text


# -- the citizen -----------------------------------------------------------------------------------


def rectify_due(tx: Tx, day: dt.date) -> dt.date:
    """The day a 差评 rated (or re-opened) on `day` is to be rectified by: the locality's working days."""
    return tx.calendar.add_working_days(day, tx.rt.hall.ratings.rectify_working_days)


def case_code_of(conn: Connection, hall: str, ticket_id: int) -> str | None:
    """The code of the case the visit opened, or of the case it was the 补办 return visit of."""
    row = conn.execute(
        select(cases.c.code)
        .where(cases.c.hall == hall, or_(cases.c.ticket_id == ticket_id, cases.c.last_ticket_id == ticket_id))
        .order_by(cases.c.id)
        .limit(1)
    ).first()
    return None if row is None else str(row.code)


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
    due = rectify_due(tx, tx.rt.day) if bad else None
    inserted = tx.conn.execute(
        insert(ratings).values(
            hall=tx.rt.hall.id,
            ticket_id=ticket.id,
            day=ticket.day,
            number=ticket.number,
            case_code=case_code_of(tx.conn, tx.rt.hall.id, ticket.id),
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
    callbacks = [Callback(**{**c, "at": from_us(c["at"])}) for c in json.loads(row.callbacks)]
    review = None
    if row.review_state is not None:
        raw = json.loads(row.review)
        decided = raw.get("decided_at")
        review = Review(**{**raw, "state": row.review_state, "at": from_us(raw["at"]),
                           "decided_at": from_us(decided) if decided is not None else None})  # fmt: skip
    return RatingRecord(
        id=row.id,
        day=row.day,
        number=row.number,
        case_code=row.case_code,
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
        overdue=row.follow_up in OPEN_FOLLOW_UPS and row.due_on is not None and today > row.due_on,
        notes=notes,
        source=row.source,
        callbacks=callbacks,
        rerating=row.rerating,
        review=review,
        excluded=row.excluded,
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
    counted = [*where, ratings.c.source == "citizen", ratings.c.excluded == false()]
    counts = Counter(
        {
            r.level: r.n
            for r in conn.execute(
                select(ratings.c.level, func.count().label("n")).where(*counted).group_by(ratings.c.level)
            )
        }
    )
    open_rows = conn.execute(select(ratings.c.due_on).where(*where, ratings.c.follow_up.in_(OPEN_FOLLOW_UPS))).all()
    apart = {
        (r.source, r.excluded, r.review_state): r.n
        for r in conn.execute(
            select(ratings.c.source, ratings.c.excluded, ratings.c.review_state, func.count().label("n"))
            .where(*where)
            .group_by(ratings.c.source, ratings.c.excluded, ratings.c.review_state)
        )
    }
    by_level = {level: counts.get(level, 0) for level in LEVELS}
    summary = RatingSummary(
        count=sum(by_level.values()),
        by_level=by_level,
        satisfaction_rate=satisfaction_rate(by_level),
        bad=sum(by_level[level] for level in BAD_LEVELS),
        open_follow_ups=len(open_rows),
        overdue_follow_ups=sum(1 for r in open_rows if r.due_on is not None and today > r.due_on),
        defaulted=sum(n for (source, _e, _r), n in apart.items() if source == "default"),
        excluded=sum(n for (_s, excluded, _r), n in apart.items() if excluded),
        reviews_pending=sum(n for (_s, _e, review), n in apart.items() if review == "requested"),
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
    row = bad_rating_row(tx, rating_id)
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
    return record_by_id(tx, rating_id)


def bad_rating_row(tx: Tx, rating_id: int) -> Any:
    """The row of a 差评 of the hall (404: none; 409: not a bad rating, or the system's default one)."""
    hall = tx.rt.hall.id
    row = tx.conn.execute(select(ratings).where(ratings.c.id == rating_id, ratings.c.hall == hall)).first()
    if row is None:
        raise NotFound(f"no rating {rating_id} in hall {hall} (没有该评价)")
    if row.follow_up is None:
        raise Conflict("only a bad rating (不满意, 非常不满意) is followed up (满意评价无需回访)")
    return row


def record_by_id(tx: Tx, rating_id: int) -> RatingRecord:
    updated = tx.conn.execute(select(ratings).where(ratings.c.id == rating_id)).one()
    assert tx.rt.day is not None
    return _record(updated, tx.rt.day)
