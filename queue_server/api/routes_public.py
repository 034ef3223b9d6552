"""Public reads: the halls, a hall's catalogue, the board snapshot, a ticket's status by its token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select

from queue_server.api.deps import HallDep, State
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.errors import NotFound
from queue_server.protocol import Snapshot, TicketStatus
from queue_server.services.loading import live_ticket
from queue_server.services.views import board_state, queue_summaries, ticket_status
from queue_server.store.tables import tickets
from queue_server.store.writer import to_us

router = APIRouter(prefix="/api/v1", tags=["public"], responses=errors(404))

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


@router.get("/halls")
async def halls(state: State) -> list[dict[str, str]]:
    return [{"id": h.id, "name_zh": h.name_zh, "name_en": h.name_en} for h in state.config.halls]


@router.get("/halls/{hall}/catalog")
async def catalog(hall: HallDep) -> dict[str, Any]:
    """The hall, its categories, windows and service items with their eight published facts."""
    return {
        "hall": hall.model_dump(
            mode="json",
            include={
                "id",
                "name_zh",
                "name_en",
                "address",
                "phone",
                "supervision_phone",
                "sessions",
                "notice_zh",
                "notice_en",
            },
        ),
        "categories": [c.model_dump(mode="json") for c in hall.categories],
        "windows": [w.model_dump(mode="json", exclude={"a_post", "b_post"}) for w in hall.windows],
        "items": [i.model_dump(mode="json") for i in hall.items],
    }


@router.get("/halls/{hall}/board", response_model=Snapshot)
async def board(hall: HallDep, state: State) -> Snapshot:
    view = await state.view(hall.id)
    return Snapshot(seq=view.last_seq, board=board_state(view))


@router.get("/halls/{hall}/queues")
async def queues(hall: HallDep, state: State) -> dict[str, Any]:
    """Waiting tickets and the estimated wait of a ticket taken now, per category (for kiosk tiles)."""

    view = await state.view(hall.id)
    now_us = to_us(state.store.clock())
    return {"seq": view.last_seq, "queues": [q.model_dump() for q in queue_summaries(view, now_us)]}


@router.get(
    "/halls/{hall}/tickets/{track_token}",
    response_model=TicketStatus,
    dependencies=[Depends(limited("track", "track_token"))],  # the phone page re-reads it on each event
)
async def ticket(hall: HallDep, state: State, track_token: Annotated[str, Path(pattern=TOKEN_PATTERN)]) -> TicketStatus:
    """A ticket's public status by its tracking token: valid on its service day only."""

    view = await state.view(hall.id)
    live = view.by_track_token(track_token)  # a live ticket: from the read side, off the writer
    if live is not None:
        return ticket_status(view, live, to_us(state.store.clock()))
    row = await state.store.read(  # finished or gone: its row, by the unique token's index
        lambda conn: conn.execute(
            select(tickets).where(tickets.c.hall == hall.id, tickets.c.track_token == track_token)
        ).first()
    )
    if row is None or row.day != view.day:
        raise NotFound("no ticket of today with this code (未找到今日的该号票)")
    return ticket_status(view, live_ticket(row))
