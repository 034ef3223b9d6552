"""投诉举报: anyone files a complaint on the public page; the hall's managers take it up and answer it in time.

Filing answers a complaint code (10 characters, no 0/O/1/I), the complainant's only key to read the
answer. Anonymous is the default: a contact phone is optional. The complaint is due
`complaints.answer_working_days` working days (the hall's calendar) after the hall's local day it was filed;
states open → handling → answered (queue_server/domain/complaints.py).

Storage minimisation: no address or browser detail is kept; the contact is stored in full only while
the complaint is not answered (the manager may have to call back) and replaced by its mask
(139****1234) in the same transaction as the answer. The event log (shipped to the county) carries the
category, the window, the dates and lateness, never the text, the answer, the code or the contact.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, func, insert, select, update

from config.schema import Hall
from queue_server.domain.cases import normalise_code
from queue_server.domain.complaints import CATEGORIES, ComplaintState, check_move, is_late, is_overdue, mask_contact
from queue_server.domain.numbering import service_day
from queue_server.domain.workdays import WorkCalendar
from queue_server.errors import NotFound, ServiceError
from queue_server.protocol import ComplaintMessage
from queue_server.services.accounts import Staff
from queue_server.services.appointments import CODE_ALPHABET
from queue_server.services.cases import CaseRecord, record_of
from queue_server.services.ratings import clean_text
from queue_server.store.tables import cases, complaints
from queue_server.store.writer import Tx, from_us

CODE_LENGTH = 10  # 50 bits
CODE_PATTERN = r"^[2-9A-HJ-NP-Za-hj-np-z]{10}$"
#: A case code as typed (dashes and either case allowed); checked against the hall's cases by `check_case_code`.
CASE_CODE_PATTERN = r"^[A-Za-z0-9-]{4,24}$"
PHONE_PATTERN = r"^[0-9+][0-9 ()+-]{4,30}$"
MAX_TEXT = 1000
MAX_ANSWER = 2000
Category = Literal["attitude", "efficiency", "rules", "fees", "integrity", "environment", "other"]
assert set(Category.__args__) == set(CATEGORIES)  # type: ignore[attr-defined]


class UnknownCase(ServiceError):
    """A complaint names a case code the hall does not have (a typo, most likely): the citizen corrects it."""

    code = "unknown_case"
    status = 422


class ComplaintRequest(BaseModel):
    """Body of POST /api/v1/halls/{hall}/complaints (public)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT * 2)]
    contact: Annotated[str, Field(pattern=PHONE_PATTERN)] | None = None
    window: Annotated[int, Field(ge=1, le=999)] | None = None
    case_code: Annotated[str, Field(pattern=CASE_CODE_PATTERN)] | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        text = clean_text(value, MAX_TEXT)
        if len(text) < 5:
            raise ValueError("say what happened, in at least 5 characters (请填写投诉内容，至少5个字)")
        return text


class AnswerRequest(BaseModel):
    """Body of POST .../complaints/{id}/answer: the answer the complainant reads with the code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: Annotated[str, Field(min_length=1, max_length=MAX_ANSWER * 2)]

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str) -> str:
        text = clean_text(value, MAX_ANSWER)
        if not text:
            raise ValueError("write the answer (请填写答复内容)")
        return text


class ComplaintView(BaseModel):
    """A complaint as its complainant reads it with the code: nothing of anyone else, the contact masked."""

    code: str
    hall: str
    category: str
    category_zh: str
    category_en: str
    window: int | None
    case_code: str | None
    state: ComplaintState
    state_zh: str
    state_en: str
    day: dt.date
    due_on: dt.date
    overdue: bool
    contact_masked: str | None
    answer: str | None
    answered_on: dt.date | None
    late: bool | None  # None until answered


class ComplaintRecord(BaseModel):
    """A complaint as the hall's managers see it (without its code, the complainant's key)."""

    id: int
    category: str
    category_zh: str
    window: int | None
    case_code: str | None
    text: str
    contact: str | None  # in full until answered, then None
    contact_masked: str | None
    state: ComplaintState
    state_zh: str
    day: dt.date
    filed_at: dt.datetime
    due_on: dt.date
    due_provisional: bool
    overdue: bool
    handled_by: str | None
    answer: str | None
    answered_by: str | None
    answered_on: dt.date | None
    late: bool | None
    case: CaseRecord | None = None  # the linked case (办件) as the hall's staff see it, when a code was given


class ComplaintSummary(BaseModel):
    count: int
    open: int
    handling: int
    answered: int
    answered_late: int
    overdue: int


class ComplaintList(BaseModel):
    summary: ComplaintSummary
    complaints: list[ComplaintRecord]


def local_day(hall: Hall, now: dt.datetime) -> dt.date:
    return service_day(now, ZoneInfo(hall.timezone))


def check_case_code(tx: Tx, case_code: str | None) -> str | None:
    """The case code a complaint is about, as stored (upper case, no dashes); refused (422) unless the hall has
    that case. A code of another hall is refused the same way: nothing says whether it exists elsewhere."""
    if case_code is None:
        return None
    code = normalise_code(case_code)
    found = (
        code is not None
        and tx.conn.execute(select(cases.c.id).where(cases.c.hall == tx.rt.hall.id, cases.c.code == code)).first()
    )
    if not found:
        raise UnknownCase(
            f"没有查到办件编号 {case_code[:24]}，请核对回执上的编号，或不填 "
            "(no case with this code in this hall: check it on your receipt, or leave it empty)"
        )
    return code


def linked_cases(
    conn: Connection, hall: Hall, codes: set[str], today: dt.date, calendar: WorkCalendar
) -> dict[str, CaseRecord]:
    """The cases the complaints name, by code (one query)."""
    if not codes:
        return {}
    rows = conn.execute(select(cases).where(cases.c.hall == hall.id, cases.c.code.in_(sorted(codes))))
    return {r.code: record_of(r, hall, today, calendar) for r in rows}


def _new_code(conn: Connection) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if conn.execute(select(complaints.c.id).where(complaints.c.code == code)).first() is None:
            return code


def _view(row: Any, today: dt.date) -> ComplaintView:
    state = ComplaintState(row.state)
    zh, en = CATEGORIES.get(row.category, (row.category, row.category))
    answered = row.answered_on
    return ComplaintView(
        code=row.code,
        hall=row.hall,
        category=row.category,
        category_zh=zh,
        category_en=en,
        window=row.window,
        case_code=row.case_code,
        state=state,
        state_zh=state.label_zh,
        state_en=state.label_en,
        day=row.day,
        due_on=row.due_on,
        overdue=is_overdue(state, row.due_on, today),
        contact_masked=row.contact_masked,
        answer=row.answer,
        answered_on=answered,
        late=None if answered is None else is_late(row.due_on, answered),
    )


def file(tx: Tx, request: ComplaintRequest) -> ComplaintView:
    """File a complaint: due in the hall's answer_working_days working days; the answer holds its code."""
    hall = tx.rt.hall
    if not hall.complaints.enabled:
        raise NotFound(f"hall {hall.id} takes no complaints here (本中心未开通网上投诉)")
    if request.window is not None:
        try:
            hall.window(request.window)
        except KeyError:
            raise NotFound(f"hall {hall.id} has no window {request.window} (没有该窗口)") from None
    case_code = check_case_code(tx, request.case_code)
    day = local_day(hall, tx.now)
    due = tx.calendar.add_working_days(day, hall.complaints.answer_working_days)
    values = {
        "hall": hall.id,
        "code": _new_code(tx.conn),
        "category": request.category,
        "window": request.window,
        "case_code": case_code,
        "text": request.text,
        "contact": request.contact,
        "contact_masked": None if request.contact is None else mask_contact(request.contact),
        "state": ComplaintState.OPEN.value,
        "day": day,
        "due_on": due,
        "filed_at": tx.now_us,
        "updated_at": tx.now_us,
    }
    inserted = tx.conn.execute(insert(complaints).values(**values)).inserted_primary_key
    assert inserted is not None
    payload = {
        "complaint_id": inserted[0],
        "category": request.category,
        "case_code": case_code,
        "day": day.isoformat(),
        "due_on": due.isoformat(),
        "contact_given": request.contact is not None,
    }
    tx.emit(
        "complaint.filed",
        payload,
        lambda seq: ComplaintMessage(seq=seq, at=tx.now, event="filed"),
        actor="citizen",
        window=request.window,
    )
    row = tx.conn.execute(select(complaints).where(complaints.c.id == inserted[0])).one()
    return _view(row, day)


def view(conn: Connection, hall: Hall, code: str, now: dt.datetime) -> ComplaintView:
    """The complaint with this code, in this hall (the code is case-insensitive)."""
    row = conn.execute(
        select(complaints).where(complaints.c.code == code.upper(), complaints.c.hall == hall.id)
    ).first()
    if row is None:
        raise NotFound("no complaint with this code in this hall (未找到该投诉，请核对投诉编号)")
    return _view(row, local_day(hall, now))


def _record(row: Any, today: dt.date, provisional: bool, case: CaseRecord | None = None) -> ComplaintRecord:
    public = _view(row, today)
    return ComplaintRecord(
        id=row.id,
        category=row.category,
        category_zh=public.category_zh,
        window=row.window,
        case_code=row.case_code,
        text=row.text,
        contact=row.contact,
        contact_masked=row.contact_masked,
        state=public.state,
        state_zh=public.state_zh,
        day=row.day,
        filed_at=from_us(row.filed_at),
        due_on=row.due_on,
        due_provisional=provisional,
        overdue=public.overdue,
        handled_by=row.handled_by,
        answer=row.answer,
        answered_by=row.answered_by,
        answered_on=row.answered_on,
        late=public.late,
        case=case,
    )


def overdue_count(conn: Connection, hall: str, today: dt.date) -> int:
    """The hall's complaints not answered whose due day has passed (逾期)."""
    return int(
        conn.execute(
            select(func.count()).where(
                complaints.c.hall == hall, complaints.c.state != "answered", complaints.c.due_on < today
            )
        ).scalar_one()
    )


def list_complaints(
    conn: Connection, hall: Hall, now: dt.datetime, state: ComplaintState | None, limit: int, calendar: WorkCalendar
) -> ComplaintList:
    """The hall's complaints: those not answered first, the earliest due first; then the answered ones; each
    with the case it names."""
    today = local_day(hall, now)
    mine = complaints.c.hall == hall.id
    counts = {
        row.state: row.n
        for row in conn.execute(
            select(complaints.c.state, func.count().label("n")).where(mine).group_by(complaints.c.state)
        )
    }
    late = conn.execute(select(func.count()).where(mine, complaints.c.answered_on > complaints.c.due_on)).scalar_one()
    overdue = overdue_count(conn, hall.id, today)
    summary = ComplaintSummary(
        count=sum(counts.values()),
        open=counts.get("open", 0),
        handling=counts.get("handling", 0),
        answered=counts.get("answered", 0),
        answered_late=late,
        overdue=overdue,
    )
    query = select(complaints).where(mine)
    if state is not None:
        query = query.where(complaints.c.state == state.value)
    answered_last = (complaints.c.state == "answered").label("done")
    rows = conn.execute(query.order_by(answered_last, complaints.c.due_on, complaints.c.id.desc()).limit(limit)).all()
    linked = linked_cases(conn, hall, {r.case_code for r in rows if r.case_code}, today, calendar)
    return ComplaintList(
        summary=summary,
        complaints=[
            _record(r, today, calendar.provisional(r.day, r.due_on), linked.get(r.case_code or "")) for r in rows
        ],
    )


def _row(tx: Tx, complaint_id: int) -> Any:
    row = tx.conn.execute(
        select(complaints).where(complaints.c.id == complaint_id, complaints.c.hall == tx.rt.hall.id)
    ).first()
    if row is None:
        raise NotFound(f"no complaint {complaint_id} in hall {tx.rt.hall.id} (没有该投诉)")
    return row


def _moved(tx: Tx, complaint_id: int, today: dt.date) -> ComplaintRecord:
    row = _row(tx, complaint_id)
    codes = {row.case_code} if row.case_code else set()
    case = linked_cases(tx.conn, tx.rt.hall, codes, today, tx.calendar).get(row.case_code or "")
    return _record(row, today, tx.calendar.provisional(row.day, row.due_on), case)


def take_up(tx: Tx, complaint_id: int, staff: Staff) -> ComplaintRecord:
    """open → handling: the manager has taken the complaint up."""
    row = _row(tx, complaint_id)
    check_move(ComplaintState(row.state), ComplaintState.HANDLING)
    tx.conn.execute(
        update(complaints)
        .where(complaints.c.id == row.id)
        .values(state="handling", handling_at=tx.now_us, handled_by=staff.username, updated_at=tx.now_us)
    )
    tx.emit(
        "complaint.handling",
        {"complaint_id": row.id, "due_on": row.due_on.isoformat()},
        lambda seq: ComplaintMessage(seq=seq, at=tx.now, event="handling"),
        actor=staff.username,
        window=row.window,
    )
    return _moved(tx, complaint_id, local_day(tx.rt.hall, tx.now))


def answer(tx: Tx, complaint_id: int, staff: Staff, request: AnswerRequest) -> ComplaintRecord:
    """(open or handling) → answered, with the answer; late when after its due day. The full contact is erased."""
    row = _row(tx, complaint_id)
    check_move(ComplaintState(row.state), ComplaintState.ANSWERED)
    today = local_day(tx.rt.hall, tx.now)
    late = is_late(row.due_on, today)
    tx.conn.execute(
        update(complaints)
        .where(complaints.c.id == row.id)
        .values(
            state="answered",
            answer=request.answer,
            answered_at=tx.now_us,
            answered_by=staff.username,
            answered_on=today,
            handled_by=row.handled_by or staff.username,
            contact=None,  # its purpose (calling back) is over: only the mask stays
            updated_at=tx.now_us,
        )
    )
    tx.emit(
        "complaint.answered",
        {"complaint_id": row.id, "due_on": row.due_on.isoformat(), "answered_on": today.isoformat(), "late": late},
        lambda seq: ComplaintMessage(seq=seq, at=tx.now, event="answered"),
        actor=staff.username,
        window=row.window,
    )
    return _moved(tx, complaint_id, today)
