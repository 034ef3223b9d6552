"""Public supervision (互联网+监督): the published monthly figures, filing and reading a complaint (public,
rate-limited); the hall managers' list of complaints, taking one up and answering it.

- `GET  /api/v1/halls/{hall}/published`: last month's figures (reports/published.py)
- `GET  /api/v1/halls/{hall}/case-lookup/{code}`: a case's progress by its code, no personal data
- `POST /api/v1/halls/{hall}/complaints`: file one (anonymous allowed); the answer holds its code
- `GET  /api/v1/halls/{hall}/complaints/{code}`: the complaint and its answer, by its code
- `GET  /api/v1/halls/{hall}/complaints`, `POST .../complaints/{id}/handle`, `POST .../complaints/{id}/answer`:
  the hall's managers and administrators
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from queue_server.api.deps import MAX_ROW_ID, HallDep, State, SupervisorDep
from queue_server.api.ratelimit import limited
from queue_server.domain.cases import normalise_code
from queue_server.domain.complaints import ComplaintState
from queue_server.errors import NotFound
from queue_server.protocol import PublicCase
from queue_server.reports.published import PublishedFigures, published_figures
from queue_server.services import complaints
from queue_server.services.case_lookup import NOT_FOUND, public_case
from queue_server.services.complaints import (
    CODE_PATTERN,
    AnswerRequest,
    ComplaintList,
    ComplaintRecord,
    ComplaintRequest,
    ComplaintView,
)

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["supervision"])

Responses = dict[int | str, dict[str, Any]]
ERROR = {"description": 'an error: `{"error": {"code": ..., "message": ...}}`'}
NO_HALL: Responses = {404: {**ERROR, "description": "no such hall"}}
TOO_MANY: Responses = {
    429: {**ERROR, "description": "too many requests from this address (or for this code): see Retry-After"}
}
STAFF: Responses = {
    401: {**ERROR, "description": "not logged in"},
    403: {**ERROR, "description": "not a manager or administrator of this hall"},
}
PUBLISHED_TTL_S = 300.0  # a closed month does not change; the page may be opened by a whole queue at once
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="the complaint code (10 characters)")]
ComplaintId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
CaseCode = Annotated[
    str,
    Path(
        pattern=r"^[0-9A-Za-z][0-9A-Za-z -]{0,22}[0-9A-Za-z]$",
        description="the case code (办件编号, 9 characters), in any case, with dashes or spaces as printed",
    ),
]


def _case_key(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _published_cache(request: Request) -> dict[tuple[str, dt.date], tuple[float, PublishedFigures]]:
    cache: dict[tuple[str, dt.date], tuple[float, PublishedFigures]] | None = getattr(
        request.app.state, "bianmin_published", None
    )
    if cache is None:
        cache = request.app.state.bianmin_published = {}
    return cache


@router.get(
    "/published",
    response_model=PublishedFigures,
    responses={**NO_HALL, **TOO_MANY},
    dependencies=[Depends(limited("published"))],
)
async def published(hall: HallDep, state: State, request: Request) -> PublishedFigures:
    """The hall's published figures of last month (办件量, 办结率, 满意率, mean wait, complaints), monthly."""
    today = complaints.local_day(hall, state.store.clock())
    cache, key = _published_cache(request), (hall.id, today)
    known = cache.get(key)
    if known is not None and time.monotonic() - known[0] < PUBLISHED_TTL_S:
        return known[1]
    figures = await state.store.read(lambda conn: published_figures(conn, hall, today))
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (time.monotonic(), figures)
    return figures


@router.get(
    "/case-lookup/{code}",
    response_model=PublicCase,
    responses={
        404: {**ERROR, "description": "no such hall, or no case with this code in it (also a code of another hall)"},
        422: {**ERROR, "description": "the code has characters or a length no case code has"},
        **TOO_MANY,
    },
    dependencies=[Depends(limited("case", "code", key_of=_case_key))],
)
async def look_up_case(hall: HallDep, state: State, code: CaseCode) -> PublicCase:
    """办件进度查询: the case's state (受理, 办理中, 办结, 退回, 不予受理; 逾期 when overdue), due date, item, handling
    window and department. No personal data: not the citizen, the phone, the clerk or the ticket number."""
    wanted, today = normalise_code(code), complaints.local_day(hall, state.store.clock())
    found = None
    if wanted is not None:
        found = await state.store.read(lambda conn: public_case(conn, hall, wanted, today, state.store.calendar))
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


@router.post(
    "/complaints",
    response_model=ComplaintView,
    status_code=201,
    responses={
        **NO_HALL,
        404: {**ERROR, "description": "no such hall or window"},
        422: {
            **ERROR,
            "description": "a field is missing, too long, malformed or not allowed, or the case code is "
            "not one of the hall's cases (unknown_case)",
        },
        **TOO_MANY,
    },
    dependencies=[Depends(limited("complain"))],
)
async def file_complaint(hall: HallDep, state: State, body: ComplaintRequest) -> ComplaintView:
    """File a complaint or report (投诉举报), anonymously or with a contact phone; keep the answer's `code`."""
    return await state.store.run(hall.id, lambda tx: complaints.file(tx, body))


@router.get(
    "/complaints/{code}",
    response_model=ComplaintView,
    responses={404: {**ERROR, "description": "no such hall, or no complaint with this code in it"}, **TOO_MANY},
    dependencies=[Depends(limited("complaint", "code", fold_case=True))],
)
async def read_complaint(hall: HallDep, state: State, code: Code) -> ComplaintView:
    """The complaint with this code: its state, due date and, once answered, the answer."""
    now = state.store.clock()
    return await state.store.read(lambda conn: complaints.view(conn, hall, code, now))


@router.get("/complaints", response_model=ComplaintList, responses={**NO_HALL, **STAFF})
async def list_complaints(
    hall: HallDep,
    state: State,
    _staff: SupervisorDep,
    complaint_state: Annotated[ComplaintState | None, Query(alias="state")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ComplaintList:
    """The hall's complaints: not answered first (the earliest due first), with the counts, the overdue and the
    case each names."""
    now, calendar = state.store.clock(), state.store.calendar
    return await state.store.read(
        lambda conn: complaints.list_complaints(conn, hall, now, complaint_state, limit, calendar)
    )


MOVE_ERRORS: Responses = {
    **STAFF,
    404: {**ERROR, "description": "no such hall, or no such complaint in it"},
    409: {**ERROR, "description": "the complaint's state does not allow this move"},
}


@router.post("/complaints/{complaint_id}/handle", response_model=ComplaintRecord, responses=MOVE_ERRORS)
async def handle(hall: HallDep, state: State, staff: SupervisorDep, complaint_id: ComplaintId) -> ComplaintRecord:
    """Take an open complaint up: open → handling."""
    return await state.store.run(hall.id, lambda tx: complaints.take_up(tx, complaint_id, staff))


@router.post("/complaints/{complaint_id}/answer", response_model=ComplaintRecord, responses=MOVE_ERRORS)
async def answer(
    hall: HallDep, state: State, staff: SupervisorDep, complaint_id: ComplaintId, body: AnswerRequest
) -> ComplaintRecord:
    """Answer a complaint (open or handling → answered); late when after its due day. The full contact is erased."""
    return await state.store.run(hall.id, lambda tx: complaints.answer(tx, complaint_id, staff, body))
