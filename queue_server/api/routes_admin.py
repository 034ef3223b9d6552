"""Supervisor reads and actions: the audit trail (searchable), the staff and device audit, closing the service day."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Connection, func, or_, select

from config.schema import Hall
from queue_server.api.deps import HallDep, State, SupervisorDep
from queue_server.api.params import MAX_SEQ, MOMENT_PATTERN
from queue_server.api.responses import errors
from queue_server.errors import BadRequest
from queue_server.services import staff_audit
from queue_server.services.loading import close_day
from queue_server.store.tables import events, tickets, users
from queue_server.store.writer import Tx, from_us, to_us

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["manager"], responses=errors(400))


class AuditEvent(BaseModel):
    seq: int
    type: str
    at: dt.datetime
    actor: str | None
    window: int | None
    post: str | None
    ticket_id: int | None
    payload: dict[str, Any]
    actor_name: str | None = None  # the staff member's display name, when the actor is a staff account


class AuditPage(BaseModel):
    events: list[AuditEvent]
    last_seq: int
    total: int  # the events that match the filters (all pages)
    offset: int  # how many of them come before this page in its order (newest first: those newer than `before`)


EVENT_TYPES = re.compile(r"^[a-z_]+(\.([a-z_]+|\*))?$")
_TYPE = r"( *[a-z_]+(\.([a-z_]+|\*))? *)?"
TYPES = rf"^{_TYPE}(,{_TYPE})*$"  # the same, comma-separated, in the document


def _moment(text: str | None, hall: Hall, end: bool) -> int | None:
    """A `from`/`to` bound: an ISO date (a whole day in the hall's time zone) or date-time."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(hall.timezone))
            return to_us(moment + dt.timedelta(days=1) if end else moment)
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{'to' if end else 'from'} must be a date (2026-03-16) or a date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(hall.timezone))
    return to_us(parsed)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@router.get("/events", response_model=AuditPage)
async def audit_trail(
    hall: HallDep,
    state: State,
    staff: SupervisorDep,
    since: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    actor: Annotated[str | None, Query(max_length=64, description="a username or a display name")] = None,
    window: Annotated[int | None, Query(ge=1, le=999)] = None,
    kind: Annotated[
        str | None,
        Query(
            alias="type",
            max_length=200,
            pattern=TYPES,
            description="event types, comma-separated; 'ticket.*' for a family",
        ),
    ] = None,
    from_: Annotated[
        str | None, Query(alias="from", pattern=MOMENT_PATTERN, description="a date or ISO date-time")
    ] = None,
    to: Annotated[str | None, Query(pattern=MOMENT_PATTERN, description="a date (inclusive) or ISO date-time")] = None,
    number: Annotated[str | None, Query(pattern=r"^[A-Za-z][0-9]{3,4}$", description="a ticket number")] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the event's details")] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="desc: newest first, paged with `before`")] = "asc",
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> AuditPage:
    """The event log after `since`: who did what, when, at which window, on which post; searchable."""
    types = [t.strip() for t in (kind or "").split(",") if t.strip()]
    if any(not EVENT_TYPES.match(t) for t in types):
        raise BadRequest("type takes event types such as ticket.finished or window.*, comma-separated")
    start, end = _moment(from_, hall, end=False), _moment(to, hall, end=True)

    def read(conn: Connection) -> AuditPage:
        names = {r.username: r.display_name for r in conn.execute(select(users.c.username, users.c.display_name))}
        query = select(events).where(events.c.hall == hall.id, events.c.seq > since)
        if actor:
            wanted = {actor.strip(), *(u for u, n in names.items() if n == actor.strip())}
            query = query.where(events.c.actor.in_(sorted(wanted)))
        if window is not None:
            query = query.where(events.c.window == window)
        if types:
            query = query.where(
                or_(*(events.c.type.like(t[:-1] + "%") if t.endswith("*") else events.c.type == t for t in types))
            )
        if start is not None:
            query = query.where(events.c.at >= start)
        if end is not None:
            query = query.where(events.c.at < end)
        if number:
            ids = select(tickets.c.id).where(tickets.c.hall == hall.id, tickets.c.number == number.upper())
            query = query.where(events.c.ticket_id.in_(ids))
        if q:
            # ILIKE: LIKE ignores ASCII case on SQLite but not on PostgreSQL; the search must not depend on the backend.
            query = query.where(events.c.payload.ilike(_like(q.strip()), escape="\\"))
        matching = query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        total = conn.execute(matching).scalar() or 0
        offset = 0
        if before is not None:
            if order == "desc":
                offset = conn.execute(matching.where(events.c.seq >= before)).scalar() or 0
            query = query.where(events.c.seq < before)
        query = query.order_by(events.c.seq.desc() if order == "desc" else events.c.seq).limit(limit)
        rows = conn.execute(query).all()
        last = conn.execute(select(func.max(events.c.seq)).where(events.c.hall == hall.id)).scalar() or 0
        return AuditPage(
            events=[
                AuditEvent(
                    seq=r.seq,
                    type=r.type,
                    at=from_us(r.at),
                    actor=r.actor,
                    window=r.window,
                    post=r.post,
                    ticket_id=r.ticket_id,
                    payload=json.loads(r.payload),
                    actor_name=names.get(r.actor) if r.actor else None,
                )
                for r in rows
            ],
            last_seq=last,
            total=total,
            offset=offset,
        )

    return await state.store.read(read)


class StaffAuditEntry(BaseModel):
    id: int
    at: dt.datetime
    action: str  # staff.added, staff.changed, staff.password_reset, login.locked, device.added, device.revoked
    action_zh: str
    action_en: str
    actor: str | None  # the administrator's username, "cli:<user>" for the command line; null: the server itself
    actor_name: str | None = None
    subject: str | None  # the account's username or the device's id; null: an address for every username
    halls: list[str] | None  # the halls it concerns; null: every hall
    source: str | None  # the client address of the request
    details: dict[str, Any]


class StaffAuditPage(BaseModel):
    entries: list[StaffAuditEntry]


@router.get("/staff-audit", response_model=StaffAuditPage, responses={
    401: {"description": "not logged in"},
    403: {"description": "not a manager or administrator of this hall"},
    404: {"description": "no such hall"},
})  # fmt: skip
async def staff_audit_trail(
    hall: HallDep,
    state: State,
    staff: SupervisorDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="the id of the oldest entry seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> StaffAuditPage:
    """Changes of staff accounts and devices of this hall (and of every hall), and login lockouts: newest first."""

    def read(conn: Connection) -> StaffAuditPage:
        names = {r.username: r.display_name for r in conn.execute(select(users.c.username, users.c.display_name))}
        entries = []
        for e in staff_audit.read(conn, hall.id, before=before, limit=limit):
            zh, en = staff_audit.ACTIONS[e.action]
            name = names.get(e.actor) if e.actor else None
            entries.append(StaffAuditEntry(id=e.id, at=from_us(e.at_us), action=e.action, action_zh=zh, action_en=en,
                                           actor=e.actor, actor_name=name, subject=e.subject, halls=e.halls,
                                           source=e.source, details=e.details))  # fmt: skip
        return StaffAuditPage(entries=entries)

    return await state.store.read(read)


@router.post("/day/close")
async def close_service_day(hall: HallDep, state: State, staff: SupervisorDep) -> dict[str, Any]:
    """Close the service day now: waiting tickets expire (they are kept), windows close."""

    def act(tx: Tx) -> dict[str, Any]:
        expired = close_day(tx, actor=staff.username)
        return {"day": tx.rt.day, "expired": expired, "seq": tx.rt.last_seq}

    return await state.store.run(hall.id, act)
