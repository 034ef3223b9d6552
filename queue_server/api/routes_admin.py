"""Supervisor reads and actions: the audit trail, closing the service day."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Connection, func, select

from queue_server.api.deps import HallDep, State, SupervisorDep
from queue_server.services.loading import close_day
from queue_server.store.tables import events
from queue_server.store.writer import Tx, from_us

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["manager"])


class AuditEvent(BaseModel):
    seq: int
    type: str
    at: dt.datetime
    actor: str | None
    window: int | None
    post: str | None
    ticket_id: int | None
    payload: dict[str, Any]


class AuditPage(BaseModel):
    events: list[AuditEvent]
    last_seq: int


@router.get("/events", response_model=AuditPage)
async def audit_trail(
    hall: HallDep,
    state: State,
    staff: SupervisorDep,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditPage:
    """The event log after `since`: who did what, when, at which window, on which post."""

    def read(conn: Connection) -> AuditPage:
        rows = conn.execute(
            select(events).where(events.c.hall == hall.id, events.c.seq > since).order_by(events.c.seq).limit(limit)
        ).all()
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
                )
                for r in rows
            ],
            last_seq=last,
        )

    return await state.store.read(read)


@router.post("/day/close")
async def close_service_day(hall: HallDep, state: State, staff: SupervisorDep) -> dict[str, Any]:
    """Close the service day now: waiting tickets expire (they are kept), windows close."""

    def act(tx: Tx) -> dict[str, Any]:
        expired = close_day(tx, actor=staff.username)
        return {"day": tx.rt.day, "expired": expired, "seq": tx.rt.last_seq}

    return await state.store.run(hall.id, act)
