"""Village agent points (村级代办点): an agent takes a case for a villager (代理件), follows the point's cases,
brings the materials a 补办 request asked for, and records handing the result back to the villager.

A case an agent takes opens with `cases.open_case` (origin "agent", class 代理件, no ticket, so no number in
the hall's queue) at the window that serves its item's category first, where the clerk's desk lists it with
what the agent collected and what is missing. Its due date runs from the day the agent took it.

Personal data: the villager's name is kept only masked (张*华), the phone as services/cases.py keeps every
case's (in full in `cases.contact_phone`, masked in every answer, never in an event or a log line), and both
only when the villager consented. An agent sees its own point's cases, nothing else of the hall.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, select

from config.schema import AgentPoint, Hall
from queue_server.domain.cases import CaseState
from queue_server.domain.tickets import CaseClass
from queue_server.domain.workdays import WorkCalendar
from queue_server.errors import BadRequest, Conflict, NotFound
from queue_server.services.accounts import Staff
from queue_server.services.case_actions import materials_back, save_case
from queue_server.services.cases import CaseRecord, case_row, due_for, emit_case, open_case, record_of
from queue_server.store.tables import cases
from queue_server.store.writer import Tx

LIST_LIMIT = 200
MAX_MATERIALS = 50
# A person's name: Chinese characters (with the middle dot of minority names) or Latin letters, 1–32 of them.
_LETTER = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z"
NAME_RE = re.compile(f"^[{_LETTER}][{_LETTER}·. -]{{0,31}}$")
PHONE_RE = r"^\+?[0-9][0-9 -]{5,18}[0-9]$"  # as the desk's finish (routes_windows.FinishBody.contact_phone)

MaterialIndex = Annotated[int, Field(ge=0, le=MAX_MATERIALS - 1)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def mask_name(name: str) -> str:
    """张三 → 张*, 张小华 → 张*华, Li Hua → L*a: the first and (from three characters) the last, the rest starred."""
    text = re.sub(r"\s+", " ", name.strip())
    if len(text) <= 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


class TakeBody(Body):
    """A case taken for a villager: the item, which materials of its checklist were collected, who (with consent)."""

    item_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    collected: Annotated[list[MaterialIndex], Field(max_length=MAX_MATERIALS)]  # indexes into the item's materials
    villager_name: Annotated[str, Field(min_length=1, max_length=32)]
    phone: Annotated[str, Field(pattern=PHONE_RE)] | None = None
    consent: bool

    @field_validator("villager_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value.strip()):
            raise ValueError("a name of Chinese characters or letters, 1–32 of them (请填写群众姓名)")
        return value.strip()

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the villager must agree that the name and phone are kept for this case (须经群众同意)")
        return value


class ResubmitBody(Body):
    """The materials a 补办 request asked for, brought by the agent: each missing one ticked (indexes)."""

    brought: Annotated[list[MaterialIndex], Field(min_length=1, max_length=MAX_MATERIALS)]


def serving_window(hall: Hall, category: str) -> int | None:
    """The window that serves `category` first (its own category), else the first window serving it at all."""
    first = next((w.number for w in hall.windows if w.categories[0] == category), None)
    return first if first is not None else next((w.number for w in hall.windows if category in w.categories), None)


def point_of(hall: Hall, staff: Staff) -> AgentPoint:
    assert staff.point is not None
    try:
        return hall.agent_point(staff.point)
    except KeyError:  # the configuration no longer has it
        raise NotFound(f"hall {hall.id} has no agent point {staff.point} any more (代办点已撤销)") from None


def take(tx: Tx, staff: Staff, body: TakeBody) -> CaseRecord:
    """受理 a 代理件 for a villager at the agent's point: into the hall's ledger at the item's window."""
    hall, day = tx.rt.hall, tx.rt.day
    assert day is not None
    point = point_of(hall, staff)
    try:
        item = hall.item(body.item_id)
    except KeyError:
        raise NotFound(f"hall {hall.id} has no service item {body.item_id} (没有该事项)") from None
    names = [m.name for m in item.materials]
    ticked = set(body.collected)
    if any(i >= len(names) for i in ticked):
        raise BadRequest(f"item {item.id} has {len(names)} materials: tick among 0–{len(names) - 1} (材料序号有误)")
    missing = [n for i, n in enumerate(names) if i not in ticked]
    details: dict[str, Any] = {
        "missing_materials": missing,
        "collected": [n for i, n in enumerate(names) if i in ticked],
        "reason": None,
        "agent_name": staff.display_name,
        "villager": mask_name(body.villager_name),  # the full name is not kept
        "sit_in": point.sit_in,
        "legs": [],
        "extensions": [],
        "visits": [],
    }
    values = open_case(
        tx,
        origin="agent",
        case_class=CaseClass.AGENT,
        category=item.category,
        item_id=item.id,
        by=staff.username,
        window=serving_window(hall, item.category),
        ticket=None,
        due_on=due_for(tx.calendar, day, item.promised_days, CaseClass.AGENT),
        details=details,
        contact_phone=body.phone,
        point=point.id,
    )
    return _record(tx, values["code"])


def _point_row(tx: Tx, staff: Staff, code: str) -> Any:
    """The case of `code` if it is the agent's point's; another point's case is as unknown as a made-up code."""
    row = case_row(tx.conn, tx.rt.hall.id, code)
    if row is None or row.point is None or row.point != staff.point:
        raise NotFound("no case of your agent point with this code (本代办点没有该办件)")
    return row


def _record(tx: Tx, code: str) -> CaseRecord:
    row = case_row(tx.conn, tx.rt.hall.id, code)
    assert row is not None and tx.rt.day is not None
    return record_of(row, tx.rt.hall, tx.rt.day, tx.calendar, tx.now_us)


def resubmit(tx: Tx, staff: Staff, code: str, body: ResubmitBody) -> CaseRecord:
    """The agent brings the materials a 补办 request named: every one ticked, and the case moves on (case.linked)."""
    row = _point_row(tx, staff, code)
    details = json.loads(row.details)
    if row.state not in (CaseState.ACCEPTED.value, CaseState.IN_PROGRESS.value) or not details.get(
        "supplement_pending"
    ):
        raise Conflict(f"case {code} asks for no materials now (该办件无需补办)")
    missing = details.get("missing_materials", [])
    if set(body.brought) != set(range(len(missing))):
        raise BadRequest(f"tick every missing material (请带齐全部{len(missing)}项缺少的材料)")
    materials_back(tx, row, None, "agent", staff.username, None,
                   collected=[*details.get("collected", []), *missing], missing_materials=[])  # fmt: skip
    return _record(tx, code)


def hand_back(tx: Tx, staff: Staff, code: str) -> CaseRecord:
    """The agent gave the completed case's result to the villager (an audited step, `case.delivered`)."""
    row = _point_row(tx, staff, code)
    if row.state != CaseState.COMPLETED.value:
        state = CaseState(row.state).label_en
        raise Conflict(f"case {code} is {state}, not completed: nothing to hand back (尚未办结)")
    details = json.loads(row.details)
    if details.get("handed_back"):
        raise Conflict(f"the result of case {code} was handed back already (已转交群众)")
    details["handed_back"] = {"by": staff.username, "at": tx.now_us}
    saved = save_case(tx, row, details)
    emit_case(tx, "case.delivered", saved, staff.username, {"result": row.result, "point": row.point})
    return _record(tx, code)


def point_cases(
    conn: Connection, hall: Hall, point: str, today: Any, calendar: WorkCalendar, now_us: int
) -> list[CaseRecord]:
    """The point's cases, newest first (at most LIST_LIMIT)."""
    rows = conn.execute(
        select(cases)
        .where(cases.c.hall == hall.id, cases.c.point == point)
        .order_by(cases.c.opened_at.desc(), cases.c.id.desc())
        .limit(LIST_LIMIT)
    )
    return [record_of(r, hall, today, calendar, now_us) for r in rows]


def point_case(conn: Connection, hall: Hall, point: str, code: str, today: Any, calendar: WorkCalendar) -> CaseRecord:
    row = case_row(conn, hall.id, code)
    if row is None or row.point != point:
        raise NotFound("no case of your agent point with this code (本代办点没有该办件)")
    return record_of(row, hall, today, calendar)
