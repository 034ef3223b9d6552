"""The window's evaluator pad (评价器): its page `/rate/{hall}/window/{n}` and the rating it posts.

The page hears the hall's board websocket (the snapshot and window messages give the clerk and post; a
`ticket` message with event `finished` at its window starts the rating) and posts the rating by window
and ticket number, with the pad's own device token. The rule that makes that safe without the ticket's token:
services/pad_ratings.py.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from queue_server.api.deps import HallDep, State, WindowPadDep
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.api.routes_web import WEB_DIR, WindowNumber, asset_version, check_window
from queue_server.services import pad_ratings, ratings
from queue_server.services.ratings import RatingReceipt, RatingRequest

IDLE_SECONDS = 30  # the question goes away after this long without a tap
TicketNumber = Annotated[str, PathParam(pattern=r"^[A-Za-z][0-9]{3,4}$")]

router = APIRouter()


@router.get("/rate/{hall}/window/{window}", response_class=HTMLResponse, tags=["boards"], responses=errors(404))
async def pad_page(
    hall: HallDep,
    state: State,
    window: WindowNumber,
    idle_s: Annotated[
        int, Query(ge=3, le=600, description="back to idle after this long without a tap")
    ] = IDLE_SECONDS,
) -> HTMLResponse:
    """The evaluator pad of window n (评价器), for a tablet: the clerk on duty, then the rating of each visit."""
    check_window(hall, window)
    desk = hall.window(window)
    config = {
        "hall": hall.id,
        "name_zh": hall.name_zh,
        "name_en": hall.name_en,
        "window": window,
        "window_name_zh": desk.name_zh,
        "window_name_en": desk.name_en,
        "supervision_phone": hall.supervision_phone,
        "server_now": state.store.clock().isoformat(),
        "ws_path": f"/ws/halls/{hall.id}/board",
        "rate_path": f"/api/v1/halls/{hall.id}/windows/{window}/tickets/",
        "on_duty_path": f"/api/v1/halls/{hall.id}/windows/{window}/on-duty",
        "idle_s": idle_s,
        "levels": [[code, zh, en] for code, (_score, zh, en) in ratings.LEVELS.items()],
        "bad_levels": sorted(ratings.BAD_LEVELS),
        "reasons": [[code, zh, en] for code, (zh, en) in ratings.REASONS.items()],
    }
    # "<" escaped: the JSON sits in a <script> element, where "</script>" would end it.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    template = (WEB_DIR / "pad.html").read_text(encoding="utf-8")
    html = template.replace("__CONFIG__", data).replace("__VERSION__", asset_version())
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.post(
    "/api/v1/halls/{hall}/windows/{window}/tickets/{number}/rating",
    response_model=RatingReceipt,
    status_code=201,
    tags=["ratings"],
    responses=errors(400, 404, 409),
    dependencies=[Depends(limited("rate", "number"))],
)
async def rate_from_pad(
    hall: HallDep, state: State, _pad: WindowPadDep, window: WindowNumber, number: TicketNumber, body: RatingRequest
) -> RatingReceipt:
    """Rate, from window n's pad, the visit last finished there (within a few minutes); once per visit.

    401: no device token (or a revoked one); 403: not the evaluator pad of window n; 404: not the visit last
    finished at this window; 409: too late for the pad, or already rated (phone or pad).
    """
    check_window(hall, window)
    return await state.store.run(hall.id, lambda tx: pad_ratings.rate_at_window(tx, window, number, body))


@router.get(
    "/api/v1/halls/{hall}/windows/{window}/on-duty",
    response_model=pad_ratings.OnDuty,
    tags=["ratings"],
    responses=errors(404),
)
async def on_duty(hall: HallDep, state: State, _pad: WindowPadDep, window: WindowNumber) -> pad_ratings.OnDuty:
    """The clerk on duty at window n for its evaluator pad: name, post, staff number (工号); with the pad's token.

    401: no device token (or a revoked one); 403: not the evaluator pad of window n.
    """
    check_window(hall, window)
    return await state.store.run(hall.id, lambda tx: pad_ratings.on_duty(tx, window))
