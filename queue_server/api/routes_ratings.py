"""好差评: the citizen rates a finished ticket by its tracking token; managers list and follow up ratings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query

from queue_server.api.deps import HallDep, State, SupervisorDep
from queue_server.api.params import MAX_ROW_ID, IsoDate, QueryBool
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.api.routes_public import TOKEN_PATTERN
from queue_server.domain.numbering import service_day
from queue_server.errors import BadRequest
from queue_server.services import ratings
from queue_server.services.ratings import FollowUpRequest, RatingList, RatingReceipt, RatingRecord, RatingRequest

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["ratings"], responses=errors(400, 404, 409))
TrackToken = Annotated[str, Path(pattern=TOKEN_PATTERN)]
MAX_DAYS = 366


@router.get(
    "/tickets/{track_token}/rating",
    response_model=ratings.TicketRating,
    dependencies=[Depends(limited("track", "track_token"))],
)
async def ticket_rating(hall: HallDep, state: State, track_token: TrackToken) -> ratings.TicketRating:
    """Whether the ticket may be rated now (it is finished and not rated yet), and its rating if it has one."""
    return await state.store.run(hall.id, lambda tx: ratings.ticket_rating(tx, track_token))


@router.post(
    "/tickets/{track_token}/rating",
    response_model=RatingReceipt,
    status_code=201,
    dependencies=[Depends(limited("rate", "track_token"))],
)
async def rate(hall: HallDep, state: State, track_token: TrackToken, body: RatingRequest) -> RatingReceipt:
    """Rate a finished ticket of today, once. 不满意 and 非常不满意 need `reasons` (and `comment` with "other")."""
    return await state.store.run(hall.id, lambda tx: ratings.rate(tx, track_token, body))


@router.get("/ratings", response_model=RatingList)
async def list_ratings(
    hall: HallDep,
    state: State,
    _staff: SupervisorDep,
    day_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    day_to: Annotated[IsoDate | None, Query(alias="to")] = None,
    follow_up: ratings.FollowUpState | None = None,
    bad: QueryBool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> RatingList:
    """Ratings of the service days from..to (default: the last 30 days), the 满意率 and the follow-ups due."""
    today = service_day(state.store.clock(), ZoneInfo(hall.timezone))
    last = day_to or today
    first = day_from or last - dt.timedelta(days=30)
    if first > last or (last - first).days > MAX_DAYS:
        raise BadRequest(f"from must be on or before to, at most {MAX_DAYS} days apart")
    found = await state.store.read(
        lambda conn: ratings.list_ratings(conn, hall.id, today, first, last, follow_up, bad, limit)
    )
    calendar = state.store.calendar
    marked = [ratings.mark_provisional(record, calendar) for record in found.ratings]
    return found.model_copy(update={"ratings": marked})


@router.post("/ratings/{rating_id}/follow-up", response_model=RatingRecord)
async def follow_up(
    hall: HallDep,
    state: State,
    staff: SupervisorDep,
    rating_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    body: FollowUpRequest,
) -> RatingRecord:
    """Move a bad rating's follow-up on: open → contacted → rectified, saying what was done."""
    record = await state.store.run(hall.id, lambda tx: ratings.follow_up(tx, rating_id, staff, body))
    return ratings.mark_provisional(record, state.store.calendar)
