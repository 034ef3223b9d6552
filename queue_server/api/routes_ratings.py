"""好差评: the citizen rates a finished ticket by its tracking token; managers list, follow up, call back, review
and export ratings (services/ratings.py, services/rating_review.py, services/ratings_export.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from queue_server.api.deps import HallDep, StaffDep, State, SupervisorDep
from queue_server.api.params import MAX_ROW_ID, IsoDate, QueryBool
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.api.routes_public import TOKEN_PATTERN
from queue_server.domain.numbering import service_day
from queue_server.errors import BadRequest
from queue_server.services import rating_review, ratings, ratings_export
from queue_server.services.rating_review import CallbackRequest, ReviewDecision, ReviewRequest
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


def _days(today: dt.date, day_from: dt.date | None, day_to: dt.date | None) -> tuple[dt.date, dt.date]:
    last = day_to or today
    first = day_from or last - dt.timedelta(days=30)
    if first > last or (last - first).days > MAX_DAYS:
        raise BadRequest(f"from must be on or before to, at most {MAX_DAYS} days apart (起止日期有误)")
    return first, last


RatingId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


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
    first, last = _days(today, day_from, day_to)
    found = await state.store.read(
        lambda conn: ratings.list_ratings(conn, hall.id, today, first, last, follow_up, bad, limit)
    )
    calendar = state.store.calendar
    marked = [ratings.mark_provisional(record, calendar) for record in found.ratings]
    return found.model_copy(update={"ratings": marked, "rectify_working_days": hall.ratings.rectify_working_days})


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


@router.post("/ratings/{rating_id}/callback", response_model=RatingRecord, responses=errors(403))
async def call_back(
    hall: HallDep, state: State, staff: SupervisorDep, rating_id: RatingId, body: CallbackRequest
) -> RatingRecord:
    """回访: after the rectification, what the citizen said and their rating of the fix (满意 closes the follow-up,
    不满意 opens it again, due in the locality's working days). 409: not rectified yet."""
    record = await state.store.run(hall.id, lambda tx: rating_review.call_back(tx, rating_id, staff, body))
    return ratings.mark_provisional(record, state.store.calendar)


@router.post("/ratings/{rating_id}/review", response_model=RatingRecord, responses=errors(403))
async def request_review(
    hall: HallDep, state: State, staff: StaffDep, rating_id: RatingId, body: ReviewRequest
) -> RatingRecord:
    """申诉: ask for the review (复核) of a 差评 believed mistaken or malicious, with the reason. A clerk asks for
    their own 差评 only (403 otherwise); a manager for any. 409: not a 差评, or already put to review."""
    record = await state.store.run(hall.id, lambda tx: rating_review.request_review(tx, rating_id, staff, body))
    return ratings.mark_provisional(record, state.store.calendar)


@router.post("/ratings/{rating_id}/review/decision", response_model=RatingRecord, responses=errors(403))
async def decide_review(
    hall: HallDep, state: State, staff: SupervisorDep, rating_id: RatingId, body: ReviewDecision
) -> RatingRecord:
    """复核: decide a requested review. Upheld takes the rating out of 满意率 and every figure; rejected keeps it.
    403: the rated clerk, or the one who asked; 409: no review waits."""
    record = await state.store.run(hall.id, lambda tx: rating_review.decide_review(tx, rating_id, staff, body))
    return ratings.mark_provisional(record, state.store.calendar)


@router.get(
    "/ratings/export",
    response_class=Response,
    responses={200: {"description": "JSON Lines, one rating a line (docs/ratings-export.md)",
                     "content": {"application/x-ndjson": {}}}},
)  # fmt: skip
async def export(
    hall: HallDep,
    state: State,
    _staff: SupervisorDep,
    day_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    day_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> Response:
    """The ratings of the service days from..to for a provincial platform's adapter: JSON Lines, no phone."""
    today = service_day(state.store.clock(), ZoneInfo(hall.timezone))
    first, last = _days(today, day_from, day_to)
    lines = await state.store.read(lambda conn: list(ratings_export.export_lines(conn, hall, first, last)))
    name = f"ratings-{hall.id}-{first.isoformat()}-{last.isoformat()}.jsonl"
    return Response(
        "".join(lines).encode(),
        media_type="application/x-ndjson; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
