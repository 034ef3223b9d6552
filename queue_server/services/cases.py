"""The case ledger (办件台账): opening a case, reading it by its code, and the records the desk and wall show.

Every finished visit becomes a case (window_actions.finish calls `open_from_finish`): 即办件 opens
closed (办结, result at the window), 退回件 closed as 退回; 承诺件, 补办件, 联办件 and 代理件 stay open
(受理, or 办理中 for a 联办件 already on its first leg) until the desk closes them (case_actions.py).
`open_case` is not tied to a ticket, so a village agent's 代理件 opens the same way with `ticket=None`
(services/agent_cases.py: the point is recorded on the case and in its events).

The due date counts working days on the hall's calendar from the day of acceptance: the item's
承诺时限 (catalogue `promised_days`), or the clerk's for a 承诺件, or LIMIT_WORKING_DAYS (限时办结:
every case within at most 5 working days) when the item gives none. A 补办件 has no due date until
the citizen comes back with the materials: its clock starts at that return visit.

Personal data: the citizen's phone is optional; it is stored in full in `cases.contact_phone` (the hall
calls or texts the citizen when the result is ready, or mails it) and nowhere else: never in an event's
payload, a public message, a log line or an export; every API answer carries it masked (138****5678).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Row, insert, select

from queue_server.domain.cases import CaseState, Pickup, is_overdue, mask_phone, new_case_code
from queue_server.domain.tickets import CaseClass, FinishDetails
from queue_server.domain.workdays import WorkCalendar
from queue_server.protocol import CaseMessage
from queue_server.store.tables import cases
from queue_server.store.writer import Tx, from_us

LIMIT_WORKING_DAYS = 5
DUE_SOON_WORKING_DAYS = 1  # the wall warns of cases due today or on the next working day
_CODE_TRIES = 8


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Leg(Model):
    """One 联办 leg: handed by whom, when, to which window or department; how long it has lasted."""

    to_window: int | None
    to_department: str | None
    reason: str | None
    by: str
    at: dt.datetime
    ended_at: dt.datetime | None
    hours: float  # from `at` to `ended_at` (or now, for the current leg)


class Extension(Model):
    days: int
    from_due: dt.date | None
    to_due: dt.date
    reason: str
    by: str
    at: dt.datetime


class Visit(Model):
    """A 补办 return visit: the new ticket linked to the case (by the kiosk or a clerk), or the agent's resubmission."""

    number: str | None  # None: a village agent brought the materials (no ticket)
    via: str  # kiosk | clerk | agent
    by: str
    at: dt.datetime


class CaseRecord(Model):
    """A case as the hall's staff see it (the phone masked)."""

    code: str
    origin: str
    number: str | None
    item_id: str | None
    item_name_zh: str | None
    item_name_en: str | None
    category: str
    case_class: CaseClass
    class_zh: str
    state: CaseState
    state_zh: str
    overdue: bool
    due_on: dt.date | None
    due_today: bool
    due_provisional: bool
    opened_day: dt.date
    opened_at: dt.datetime
    window: int | None
    clerk: str | None
    department: str | None
    accepted_window: int | None
    accepted_by: str | None
    contact: str | None  # masked
    missing_materials: list[str]
    reason: str | None
    agent_name: str | None
    legs: list[Leg]
    extensions: list[Extension]
    visits: list[Visit]
    result: str | None
    result_zh: str | None
    closed_day: dt.date | None
    point: str | None = None  # the village agent point that took it (代理件)
    villager: str | None = None  # the villager's name, masked (张*华): only the masked form is kept
    collected_materials: list[str] = []  # what the agent collected of the item's one-time-notice checklist
    supplement_pending: bool = False  # a 补办 request waits for the materials (missing_materials)
    handed_back_at: dt.datetime | None = None  # the agent handed the result to the villager


def due_for(calendar: WorkCalendar, day: dt.date, item_days: int, case_class: CaseClass) -> dt.date | None:
    """The due date of a case accepted on `day` (None for a 补办件 before its materials are back)."""
    if case_class is CaseClass.SUPPLEMENT:
        return None
    return calendar.add_working_days(day, item_days or LIMIT_WORKING_DAYS)


def _new_code(conn: Connection, hall: str) -> str:
    for _ in range(_CODE_TRIES):
        code = new_case_code()
        if conn.execute(select(cases.c.id).where(cases.c.hall == hall, cases.c.code == code)).first() is None:
            return code
    raise RuntimeError("no free case code after several tries: the random source is broken")


def emit_case(tx: Tx, kind: str, row_or_values: Any, staff: str | None, payload: dict[str, Any]) -> None:
    """Append a case.* event: the case's code, class, item, category, handler and what changed; never the phone."""
    get = row_or_values.get if isinstance(row_or_values, dict) else lambda k: getattr(row_or_values, k)
    category = get("category")
    event = kind.removeprefix("case.")
    number = get("window")
    live = tx.rt.windows.get(int(number)) if number is not None else None
    post = live.post.value if live is not None and live.post is not None and live.clerk == staff else None
    tx.emit(
        kind,
        {
            "code": get("code"),
            "case_class": get("case_class"),
            "item_id": get("item_id"),
            "category": category,
            "accepted_window": get("accepted_window"),
            "accepted_by": get("accepted_by"),
            "opened_day": str(get("opened_day")),
            **payload,
        },
        lambda seq: CaseMessage(seq=seq, at=tx.now, event=event, category=category),
        actor=staff,
        window=get("window"),
        post=post,  # the A/B post of the clerk acting at the case's window, as the window's own events
    )


def open_case(
    tx: Tx,
    *,
    origin: str,
    case_class: CaseClass,
    category: str,
    item_id: str | None,
    by: str,
    window: int | None,
    ticket: tuple[int, str] | None,
    due_on: dt.date | None,
    details: dict[str, Any],
    contact_phone: str | None = None,
    point: str | None = None,
) -> dict[str, Any]:
    """Open a case in the hall's ledger and append `case.opened`; a 即办件 or 退回件 opens closed.

    `point`: the village agent point taking it (代理件 of services/agent_cases.py), in the row and the event.
    """
    rt = tx.rt
    assert rt.day is not None
    state = {CaseClass.IMMEDIATE: CaseState.COMPLETED, CaseClass.RETURNED: CaseState.RETURNED}.get(
        case_class, CaseState.IN_PROGRESS if case_class is CaseClass.JOINT else CaseState.ACCEPTED
    )
    closed = state not in (CaseState.ACCEPTED, CaseState.IN_PROGRESS)
    if case_class is CaseClass.IMMEDIATE:
        due_on = rt.day
    values: dict[str, Any] = {
        "hall": rt.hall.id,
        "code": _new_code(tx.conn, rt.hall.id),
        "origin": origin,
        "ticket_id": ticket[0] if ticket else None,
        "number": ticket[1] if ticket else None,
        "item_id": item_id,
        "category": category,
        "case_class": case_class.value,
        "state": state.value,
        "opened_day": rt.day,
        "opened_at": tx.now_us,
        "due_on": due_on,
        "window": window,
        "clerk": by if origin == "window" else None,
        "department": (details.get("legs") or [{}])[-1].get("to_department"),
        "accepted_window": window,
        "accepted_by": by,
        "contact_phone": contact_phone,
        "details": json.dumps(details, ensure_ascii=False),
        "last_ticket_id": None,
        "result": "window" if case_class is CaseClass.IMMEDIATE else None,
        "closed_day": rt.day if closed else None,
        "closed_at": tx.now_us if closed else None,
        "updated_at": tx.now_us,
        "point": point,
    }
    tx.conn.execute(insert(cases).values(**values))
    payload: dict[str, Any] = {"state": state.value, "due_on": due_on.isoformat() if due_on else None,
                               "number": values["number"], "origin": origin}  # fmt: skip
    if point is not None:
        payload["point"] = point
    if closed:
        payload.update(working_days=0, on_time=state is CaseState.COMPLETED)
    emit_case(tx, "case.opened", values, by, payload)
    return values


def open_from_finish(
    tx: Tx, ticket: Any, staff: str, window: int, details: FinishDetails, contact_phone: str | None
) -> dict[str, Any]:
    """The case of a finished visit (六件管理), in the same transaction as the finish."""
    rt = tx.rt
    assert rt.day is not None
    item_days = rt.hall.item(ticket.item_id).promised_days if ticket.item_id else 0
    cls = details.case_class
    due = details.due_date if cls is CaseClass.PROMISED else None
    if cls in (CaseClass.JOINT, CaseClass.AGENT):
        due = due_for(tx.calendar, rt.day, item_days, cls)
    stored: dict[str, Any] = {
        "missing_materials": list(details.missing_materials),
        "reason": details.reason,
        "agent_name": details.agent_name,
        "legs": [],
        "extensions": [],
        "visits": [],
    }
    if cls is CaseClass.JOINT:
        stored["legs"] = [{"to_window": None, "to_department": details.next_department, "reason": None,
                           "by": staff, "at": tx.now_us, "ended_at": None}]  # fmt: skip
    return open_case(
        tx,
        origin="window",
        case_class=cls,
        category=ticket.category,
        item_id=ticket.item_id,
        by=staff,
        window=window,
        ticket=(ticket.id, ticket.number),
        due_on=due,
        details=stored,
        contact_phone=contact_phone,
    )


# --- reading ---------------------------------------------------------------------------------------


def case_row(conn: Connection, hall: str, code: str) -> Row[Any] | None:
    return conn.execute(select(cases).where(cases.c.hall == hall, cases.c.code == code)).first()


def case_by_code(conn: Connection, hall: Any, code: str, today: dt.date, calendar: WorkCalendar) -> CaseRecord | None:
    """The case of `code` in the hall (a Hall config), as staff see it; None when there is none."""
    row = case_row(conn, hall.id, code)
    return None if row is None else record_of(row, hall, today, calendar)


def linked_case(conn: Connection, hall: str, ticket_id: int) -> Row[Any] | None:
    """The open case a return visit's ticket is linked to (补办), if any."""
    return conn.execute(
        select(cases).where(
            cases.c.hall == hall,
            cases.c.last_ticket_id == ticket_id,
            cases.c.state.in_([CaseState.ACCEPTED.value, CaseState.IN_PROGRESS.value]),
        )
    ).first()


def _legs(raw: list[dict[str, Any]], now_us: int) -> list[Leg]:
    return [
        Leg(
            to_window=leg["to_window"],
            to_department=leg["to_department"],
            reason=leg["reason"],
            by=leg["by"],
            at=from_us(leg["at"]),
            ended_at=from_us(leg["ended_at"]) if leg["ended_at"] else None,
            hours=round(((leg["ended_at"] or now_us) - leg["at"]) / 3.6e9, 1),
        )
        for leg in raw
    ]


def record_of(row: Any, hall: Any, today: dt.date, calendar: WorkCalendar, now_us: int | None = None) -> CaseRecord:
    details = json.loads(row.details)
    state, cls = CaseState(row.state), CaseClass(row.case_class)
    item = hall.item(row.item_id) if row.item_id and row.item_id in {i.id for i in hall.items} else None
    now = now_us if now_us is not None else row.updated_at
    return CaseRecord(
        code=row.code,
        origin=row.origin,
        number=row.number,
        item_id=row.item_id,
        item_name_zh=item.name_zh if item else None,
        item_name_en=item.name_en if item else None,
        category=row.category,
        case_class=cls,
        class_zh=cls.label_zh,
        state=state,
        state_zh="逾期" if is_overdue(state, row.due_on, today) else state.label_zh,
        overdue=is_overdue(state, row.due_on, today),
        due_on=row.due_on,
        due_today=state in (CaseState.ACCEPTED, CaseState.IN_PROGRESS) and row.due_on == today,
        due_provisional=row.due_on is not None and calendar.provisional(row.opened_day, row.due_on),
        opened_day=row.opened_day,
        opened_at=from_us(row.opened_at),
        window=row.window,
        clerk=row.clerk,
        department=row.department,
        accepted_window=row.accepted_window,
        accepted_by=row.accepted_by,
        contact=mask_phone(row.contact_phone),
        missing_materials=details.get("missing_materials", []),
        reason=details.get("reason"),
        agent_name=details.get("agent_name"),
        legs=_legs(details.get("legs", []), now),
        extensions=[Extension(**{**e, "at": from_us(e["at"])}) for e in details.get("extensions", [])],
        visits=[Visit(**{**v, "at": from_us(v["at"])}) for v in details.get("visits", [])],
        result=row.result,
        result_zh=Pickup(row.result).label_zh if row.result else None,
        closed_day=row.closed_day,
        point=row.point,
        villager=details.get("villager"),
        collected_materials=details.get("collected", []),
        supplement_pending=bool(details.get("supplement_pending")),
        handed_back_at=from_us(details["handed_back"]["at"]) if details.get("handed_back") else None,
    )
