"""The clerk's desk on cases: complete (办结, with the 领取方式), extend (audited), hand on (联办 legs),
link a 补办 return visit, return or refuse; and the desk's and the wall's lists.

Who may act on a case: the clerk handling it, the clerk who holds the window it is at, or a manager.
Each action checks the case's state against domain/cases.py's table, changes the row and appends a
case.* event in one transaction (the services' shape), so the audit trail holds every step.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, or_, select, update

from config.schema import Hall
from queue_server.domain.cases import OPEN_STATES, CaseState, Pickup, check_case_move
from queue_server.domain.tickets import CaseClass, TicketState
from queue_server.domain.workdays import WorkCalendar
from queue_server.errors import BadRequest, Conflict, Forbidden, NotFound
from queue_server.services.accounts import Staff
from queue_server.services.cases import (
    DUE_SOON_WORKING_DAYS,
    LIMIT_WORKING_DAYS,
    CaseRecord,
    case_row,
    emit_case,
    record_of,
)
from queue_server.services.ratings import clean_text
from queue_server.store.tables import cases, tickets
from queue_server.store.writer import Tx

MAX_TEXT = 200
MAX_EXTEND_DAYS = 30
OPEN = [s.value for s in OPEN_STATES]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _text(value: str | None, what: str, required: bool) -> str | None:
    text = clean_text(value or "", MAX_TEXT)
    if required and not text:
        raise ValueError(f"give the {what} (请填写{'原因' if what == 'reason' else what})")
    return text or None


class CompleteBody(Body):
    result: Pickup
    note: Annotated[str, Field(max_length=MAX_TEXT * 2)] = ""

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return _text(value, "note", False) or ""


class ExtendBody(Body):
    days: Annotated[int, Field(ge=1, le=MAX_EXTEND_DAYS)]
    reason: Annotated[str, Field(max_length=MAX_TEXT * 2)]

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _text(value, "reason", True) or ""


class HandBody(Body):
    """To another window of the hall, or to a department (a 联办 leg), with why."""

    to_window: Annotated[int, Field(ge=1, le=999)] | None = None
    to_department: Annotated[str, Field(max_length=MAX_TEXT * 2)] | None = None
    reason: Annotated[str, Field(max_length=MAX_TEXT * 2)] = ""

    @field_validator("to_department", "reason")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return _text(value, "text", False)

    @model_validator(mode="after")
    def _one(self) -> HandBody:
        if (self.to_window is None) == (self.to_department is None):
            raise ValueError("hand the case to exactly one of to_window or to_department (请选择窗口或部门)")
        return self


class CloseBody(Body):
    state: Literal["returned", "rejected"]
    reason: Annotated[str, Field(max_length=MAX_TEXT * 2)]

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _text(value, "reason", True) or ""


class SupplementBody(Body):
    """补办: the materials the case still needs (the desk's one-time notice of what is missing)."""

    materials: Annotated[list[Annotated[str, Field(max_length=MAX_TEXT)]], Field(min_length=1, max_length=20)]

    @field_validator("materials")
    @classmethod
    def _materials(cls, value: list[str]) -> list[str]:
        named = [_text(m, "material", True) or "" for m in value]
        return list(dict.fromkeys(named))  # each once, in the order given


class LinkBody(Body):
    number: Annotated[str, Field(pattern=r"^[A-Za-z][0-9]{3,4}$")]


# --- checks ----------------------------------------------------------------------------------------


def _open_row(tx: Tx, code: str) -> Any:
    row = case_row(tx.conn, tx.rt.hall.id, code)
    if row is None:
        raise NotFound(f"no case {code} in hall {tx.rt.hall.id} (没有该案件)")
    return row


def _held_window(tx: Tx, staff: Staff) -> int | None:
    return next((w.number for w in tx.rt.windows.values() if w.clerk == staff.username), None)


def _check_handler(tx: Tx, row: Any, staff: Staff) -> None:
    if staff.supervises or row.clerk == staff.username:
        return
    held = _held_window(tx, staff)
    if held is not None and held == row.window:
        return
    raise Forbidden("this case is handled by another clerk or window (该案件不由您办理)")


def _move(row: Any, target: CaseState) -> None:
    check_case_move(CaseState(row.state), target)


def save_case(tx: Tx, row: Any, details: dict[str, Any] | None = None, **values: Any) -> dict[str, Any]:
    if details is not None:
        values["details"] = json.dumps(details, ensure_ascii=False)
    values["updated_at"] = tx.now_us
    tx.conn.execute(update(cases).where(cases.c.id == row.id).values(**values))
    merged = dict(row._mapping)
    merged.update(values)
    return merged


def _end_leg(details: dict[str, Any], now_us: int) -> None:
    legs = details.setdefault("legs", [])
    if legs and legs[-1]["ended_at"] is None:
        legs[-1]["ended_at"] = now_us


def _record(tx: Tx, code: str) -> CaseRecord:
    row = case_row(tx.conn, tx.rt.hall.id, code)
    assert row is not None and tx.rt.day is not None
    return record_of(row, tx.rt.hall, tx.rt.day, tx.calendar, tx.now_us)


# --- actions ---------------------------------------------------------------------------------------


def complete(tx: Tx, code: str, staff: Staff, body: CompleteBody) -> CaseRecord:
    """办结: the result is ready and goes to the citizen at the window, by mail or by the village agent."""
    row = _open_row(tx, code)
    _check_handler(tx, row, staff)
    _move(row, CaseState.COMPLETED)
    close_case(tx, row, staff.username, CaseState.COMPLETED, {"result": body.result.value, "note": body.note or None},
               result=body.result.value)  # fmt: skip
    return _record(tx, code)


def close_case(
    tx: Tx, row: Any, by: str, state: CaseState, payload: dict[str, Any], result: str | None = None
) -> dict[str, Any]:
    """Close an open case (办结, 退回, 不予受理) with its timing, in the case.* event the reports fold."""
    day = tx.rt.day
    assert day is not None
    details = json.loads(row.details)
    _end_leg(details, tx.now_us)
    on_time = row.due_on is None or day <= row.due_on
    days = tx.calendar.working_days_between(row.opened_day, day) if day >= row.opened_day else 0
    saved = save_case(tx, row, details, state=state.value, closed_day=day, closed_at=tx.now_us, result=result)
    kind = {CaseState.COMPLETED: "case.completed", CaseState.RETURNED: "case.returned"}.get(state, "case.rejected")
    emit_case(tx, kind, saved, by, {**payload, "state": state.value, "due_on": str(row.due_on) if row.due_on else None,
                                    "working_days": days, "on_time": on_time})  # fmt: skip
    return saved


def close_unfinished(tx: Tx, code: str, staff: Staff, body: CloseBody) -> CaseRecord:
    """退回 or 不予受理 an open case, with the reason."""
    row = _open_row(tx, code)
    _check_handler(tx, row, staff)
    target = CaseState(body.state)
    _move(row, target)
    close_case(tx, row, staff.username, target, {"reason": body.reason})
    return _record(tx, code)


def extend(tx: Tx, code: str, staff: Staff, body: ExtendBody) -> CaseRecord:
    """Move the due date on by `days` working days, with the reason (audited: who, when, from, to)."""
    row = _open_row(tx, code)
    _check_handler(tx, row, staff)
    _move(row, CaseState.IN_PROGRESS)  # any open case may be extended; a closed one names its state
    if row.due_on is None:
        raise Conflict("this case has no due date yet (补办件 materials not back): nothing to extend (尚无办结期限)")
    assert tx.rt.day is not None
    new_due = tx.calendar.add_working_days(max(row.due_on, tx.rt.day), body.days)
    details = json.loads(row.details)
    details.setdefault("extensions", []).append({"days": body.days, "from_due": row.due_on.isoformat(),
        "to_due": new_due.isoformat(), "reason": body.reason, "by": staff.username, "at": tx.now_us})  # fmt: skip
    saved = save_case(tx, row, details, due_on=new_due)
    emit_case(tx, "case.extended", saved, staff.username,
              {"days": body.days, "from_due": row.due_on.isoformat(), "to_due": new_due.isoformat(),
               "reason": body.reason})  # fmt: skip
    return _record(tx, code)


def hand(tx: Tx, code: str, staff: Staff, body: HandBody) -> CaseRecord:
    """Hand the case to another window or department: a new 联办 leg (who, when; its length runs until the next)."""
    row = _open_row(tx, code)
    _check_handler(tx, row, staff)
    _move(row, CaseState.IN_PROGRESS)
    if body.to_window is not None:
        try:
            tx.rt.hall.window(body.to_window)
        except KeyError:
            raise NotFound(f"hall {tx.rt.hall.id} has no window {body.to_window} (没有该窗口)") from None
        if body.to_window == row.window and row.department is None:
            raise BadRequest("the case is already at this window (案件已在该窗口)")
    details = json.loads(row.details)
    _end_leg(details, tx.now_us)
    details.setdefault("legs", []).append({"to_window": body.to_window, "to_department": body.to_department,
        "reason": body.reason, "by": staff.username, "at": tx.now_us, "ended_at": None})  # fmt: skip
    values: dict[str, Any] = {"state": CaseState.IN_PROGRESS.value, "department": body.to_department}
    if body.to_window is not None:
        values.update(window=body.to_window, clerk=None)
    saved = save_case(tx, row, details, **values)
    emit_case(tx, "case.handed", saved, staff.username,
              {"from_window": row.window, "to_window": body.to_window, "to_department": body.to_department,
               "reason": body.reason})  # fmt: skip
    return _record(tx, code)


def request_supplement(tx: Tx, code: str, staff: Staff, body: SupplementBody) -> CaseRecord:
    """补办: ask for missing materials; the clock stops until they are back (a return visit or the agent's)."""
    row = _open_row(tx, code)
    _check_handler(tx, row, staff)
    _move(row, CaseState.IN_PROGRESS)
    details = json.loads(row.details)
    details.update(missing_materials=body.materials, supplement_pending=True)
    saved = save_case(tx, row, details, state=CaseState.IN_PROGRESS.value, due_on=None)
    emit_case(tx, "case.supplement", saved, staff.username,
              {"missing_materials": body.materials, "from_due": str(row.due_on) if row.due_on else None})  # fmt: skip
    return _record(tx, code)


def materials_back(
    tx: Tx, row: Any, number: str | None, via: str, by: str, ticket_id: int | None, **changes: Any
) -> None:
    """The missing materials are back (a return visit, or the village agent's resubmission): `case.linked`; the
    case is in progress again and its clock starts now if it had none. `changes`: to its details too."""
    if row.state not in OPEN:
        raise Conflict(f"case {row.code} is closed ({CaseState(row.state).label_zh}): nothing to bring (该案件已结束)")
    assert tx.rt.day is not None
    details = json.loads(row.details)
    details.setdefault("visits", []).append({"number": number, "via": via, "by": by, "at": tx.now_us})
    details.update(supplement_pending=False, **changes)
    due = row.due_on
    if due is None:
        item_days = tx.rt.hall.item(row.item_id).promised_days if row.item_id else 0
        due = tx.calendar.add_working_days(tx.rt.day, item_days or LIMIT_WORKING_DAYS)
    saved = save_case(tx, row, details, last_ticket_id=ticket_id, due_on=due, state=CaseState.IN_PROGRESS.value)
    emit_case(tx, "case.linked", saved, by, {"number": number, "via": via, "due_on": due.isoformat()})


def link_visit(tx: Tx, code: str, ticket_id: int, number: str, via: str, by: str) -> CaseRecord:
    """Link a return visit's ticket to an open case (补办): its clock starts now if it had none."""
    row = _open_row(tx, code)
    if row.last_ticket_id == ticket_id:
        return _record(tx, code)  # linked already (a kiosk's retry)
    materials_back(tx, row, number, via, by, ticket_id)
    return _record(tx, code)


def link_by_clerk(tx: Tx, code: str, staff: Staff, body: LinkBody) -> CaseRecord:
    """A clerk links a ticket of today (the citizen came back without the supplement notice) to the case."""
    wanted = body.number.upper()
    ticket = tx.conn.execute(
        select(tickets.c.id, tickets.c.state).where(
            tickets.c.hall == tx.rt.hall.id, tickets.c.day == tx.rt.day, tickets.c.number == wanted
        )
    ).first()
    if ticket is None:
        raise NotFound(f"no ticket {wanted} today (今日没有{wanted}号)")
    if ticket.state in (TicketState.FINISHED.value, TicketState.EXPIRED.value):
        raise Conflict(f"ticket {wanted} is already {ticket.state} (该号已结束)")
    return link_visit(tx, code, ticket.id, wanted, "clerk", staff.username)


def finish_linked(tx: Tx, row: Any, staff: str, case_class: CaseClass, missing: tuple[str, ...]) -> dict[str, Any]:
    """The finish of a 补办 return visit moves its case on instead of opening another one."""
    if case_class is CaseClass.IMMEDIATE:
        return close_case(tx, row, staff, CaseState.COMPLETED, {"result": "window", "number_finished": True},
                          result="window")  # fmt: skip
    if case_class is CaseClass.RETURNED:
        return close_case(tx, row, staff, CaseState.RETURNED, {"reason": "returned at the return visit"})
    details = json.loads(row.details)
    if case_class is CaseClass.SUPPLEMENT:  # still missing something: the clock stops again
        details["missing_materials"] = list(missing)
        saved = save_case(tx, row, details, state=CaseState.ACCEPTED.value, due_on=None, last_ticket_id=None)
    else:
        saved = save_case(tx, row, details, state=CaseState.IN_PROGRESS.value, clerk=staff)
    emit_case(
        tx,
        "case.handed",
        saved,
        staff,
        {
            "from_window": row.window,
            "to_window": saved["window"],
            "to_department": None,
            "reason": f"return visit: {case_class.value}",
        },
    )
    return saved


# --- lists -----------------------------------------------------------------------------------------


class DeskCases(BaseModel):
    """The clerk's desk: my open cases, those due today, those overdue (逾期)."""

    mine: list[CaseRecord]
    due_today: list[CaseRecord]
    overdue: list[CaseRecord]


def open_cases(conn: Connection, hall: str, clerk: str | None = None, window: int | None = None) -> list[Any]:
    query = select(cases).where(cases.c.hall == hall, cases.c.state.in_(OPEN))
    if clerk is not None or window is not None:
        query = query.where(or_(cases.c.clerk == clerk, cases.c.window == window))
    return list(conn.execute(query.order_by(cases.c.due_on, cases.c.id).limit(500)))


def desk_cases(
    conn: Connection, hall: Hall, staff: Staff, window: int | None, today: dt.date, calendar: WorkCalendar, now_us: int
) -> DeskCases:
    rows = open_cases(conn, hall.id, staff.username, window if window is not None else -1)
    records = [record_of(r, hall, today, calendar, now_us) for r in rows]
    return DeskCases(
        mine=records,
        due_today=[r for r in records if r.due_today],
        overdue=[r for r in records if r.overdue],
    )


class CaseAlerts(BaseModel):
    overdue: int
    due_soon: int
    overdue_codes: list[str]  # the first few, oldest due first
    due_soon_codes: list[str]


def case_alerts(conn: Connection, hall: str, today: dt.date, calendar: WorkCalendar) -> CaseAlerts:
    """The wall's case alerts: open cases past their due date, and those due today or the next working day."""
    soon = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)
    rows = conn.execute(
        select(cases.c.code, cases.c.due_on)
        .where(cases.c.hall == hall, cases.c.state.in_(OPEN), cases.c.due_on.is_not(None), cases.c.due_on <= soon)
        .order_by(cases.c.due_on, cases.c.id)
    ).all()
    overdue = [r.code for r in rows if r.due_on < today]
    due_soon = [r.code for r in rows if r.due_on >= today]
    return CaseAlerts(overdue=len(overdue), due_soon=len(due_soon), overdue_codes=overdue[:20],
                      due_soon_codes=due_soon[:20])  # fmt: skip
