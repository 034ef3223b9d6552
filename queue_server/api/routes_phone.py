"""The citizen's phone pages, served from the package (plain HTML, CSS and JavaScript; no CDN, no build step).

- `/t/{track_token}` — the ticket's tracking page (the QR code on every ticket): the number, its state,
  people ahead, the estimated wait, the materials to bring (一次性告知), live over the hall's board
  websocket; "it's your turn — go to window n" with vibration and sound where the browser allows, an
  alert when three or fewer are ahead, and the 好差评 rating once the ticket is finished. The page
  shows nothing personal and stops working after the ticket's service day (then it says so, 404).
- `/join/{hall}` — 远程取号: a place in today's queue from the phone, checked in at the kiosk
  (services/remote_tickets.py)
- `/book/{hall}` — booking an appointment (办事预约): an item, a working day, a slot; the code and its
  QR code to show at the kiosk; "my appointments" (kept in the phone's own storage) with cancel.
- `/q/{hall}` — public supervision (互联网+监督), for phones and the kiosk's guide screens: the hall's
  published monthly figures, each item's eight published facts (办事八公开), filing a complaint (投诉举报)
  and reading its answer by the complaint code (kept in the phone's own storage too).
- `/phone/{file}` — the pages' CSS and JavaScript.

The page's settings are embedded as JSON in a `<script type="application/json">` element (data, not
code), so the pages run under a strict Content-Security-Policy with no inline script at all.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select

from config.schema import Hall
from queue_server.api.deps import HallDep, State, first_hall
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.api.routes_web import common_bytes
from queue_server.domain.complaints import CATEGORIES
from queue_server.errors import NotFound
from queue_server.services import ratings
from queue_server.services.appointments import slots_of
from queue_server.store.tables import tickets

PHONE_DIR = Path(__file__).resolve().parent.parent / "web" / "phone"
ASSETS = {
    "phone.css": "text/css; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "track.js": "text/javascript; charset=utf-8",
    "remind.js": "text/javascript; charset=utf-8",
    "book.js": "text/javascript; charset=utf-8",
    "join.js": "text/javascript; charset=utf-8",
    "supervision.js": "text/javascript; charset=utf-8",
}
NEAR_TURN = 3  # the alert when this many or fewer are ahead
HEADERS = {
    "Cache-Control": "no-store",
    # The tracking token is in the URL: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    # The Content-Security-Policy and nosniff: api/page_headers.py, for every page.
}
PathToken = Annotated[str, PathParam(max_length=200)]

router = APIRouter(tags=["phone"], responses=errors(404))


@cache
def _version() -> str:
    digest = hashlib.sha256(common_bytes())
    for name in sorted(ASSETS):
        digest.update((PHONE_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


@cache
def _template(name: str) -> str:
    return (PHONE_DIR / name).read_text(encoding="utf-8")


def _render(template: str, config: dict[str, Any], status: int = 200) -> HTMLResponse:
    # "<" escaped: the JSON sits in a <script> element, where "</script>" would end it.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    html = _template(template).replace("__CONFIG__", data).replace("__VERSION__", _version())
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _hall_info(hall: Hall) -> dict[str, Any]:
    return {
        "hall": hall.id,
        "name_zh": hall.name_zh,
        "name_en": hall.name_en,
        "address": hall.address,
        "phone": hall.phone,
        "supervision_phone": hall.supervision_phone,
        "timezone": hall.timezone,
    }


def _item_facts(hall: Hall, item_id: str | None) -> dict[str, Any] | None:
    if item_id is None:
        return None
    try:
        item = hall.item(item_id)
    except KeyError:
        return None
    return {
        "id": item.id,
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "department": item.department,
        "promised_days": item.promised_days,
        "free": item.fee.free,
        "materials": [
            {
                "name": m.name,
                "form_zh": m.form.label_zh,
                "form_en": m.form.label_en,
                "copies": m.copies,
                "notes": m.notes,
            }
            for m in item.materials
        ],
    }


def _expired(state: State) -> HTMLResponse:
    hall = first_hall(state)
    return _render("expired.html", {**_hall_info(hall), "book_path": f"/book/{hall.id}"}, status=404)


@router.get(
    "/t/{track_token}",
    response_class=HTMLResponse,
    dependencies=[Depends(limited("track", "track_token"))],
    responses={404: {"description": "a page: no such ticket, or its day is over", "content": {"text/html": {}}}},
)
async def track(state: State, track_token: PathToken) -> HTMLResponse:
    """The ticket's tracking page (扫码查看排队进度); a page saying it has expired after its service day (404)."""
    if not (16 <= len(track_token) <= 64) or not all(c.isascii() and (c.isalnum() or c in "-_") for c in track_token):
        return _expired(state)
    row = await state.store.read(
        lambda conn: conn.execute(
            select(tickets.c.hall, tickets.c.day, tickets.c.item_id, tickets.c.category).where(
                tickets.c.track_token == track_token
            )
        ).first()
    )
    if row is None or row.hall not in {h.id for h in state.config.halls}:
        return _expired(state)
    hall = state.config.hall(row.hall)
    today = await state.store.run(hall.id, lambda tx: tx.rt.day)
    if row.day != today:
        return _expired(state)
    config = {
        **_hall_info(hall),
        "token": track_token,
        "status_path": f"/api/v1/halls/{hall.id}/tickets/{track_token}",
        "rating_path": f"/api/v1/halls/{hall.id}/tickets/{track_token}/rating",
        "reminder_path": f"/api/v1/halls/{hall.id}/tickets/{track_token}/reminder" if hall.notify else None,
        "ws_path": f"/ws/halls/{hall.id}/board",  # followed as ?category= of the ticket's category (track.js)
        "category": row.category,
        "book_path": f"/book/{hall.id}",
        "near": NEAR_TURN,
        "item": _item_facts(hall, row.item_id),
        "categories": [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en} for c in hall.categories],
        "windows": [
            {"number": w.number, "name_zh": w.name_zh, "name_en": w.name_en, "categories": w.categories}
            for w in hall.windows
        ],
        "levels": [[code, zh, en] for code, (_score, zh, en) in ratings.LEVELS.items()],
        "bad_levels": sorted(ratings.BAD_LEVELS),
        "reasons": [[code, zh, en] for code, (zh, en) in ratings.REASONS.items()],
        "rectify_working_days": hall.ratings.rectify_working_days,
    }
    return _render("track.html", config)


@router.get("/book/{hall}", response_class=HTMLResponse, dependencies=[Depends(limited("slots"))])
async def book(hall: HallDep) -> HTMLResponse:
    """Booking an appointment (办事预约) from a phone."""
    rules = hall.appointments
    bookable = [i for i in hall.items if i.appointment]
    config = {
        **_hall_info(hall),
        "enabled": rules.enabled,
        "slot_minutes": rules.slot_minutes,
        "days_ahead": rules.days_ahead,
        "check_in_early_minutes": rules.check_in_early_minutes,
        "check_in_late_minutes": rules.check_in_late_minutes,
        "slots": [start for start, _end in slots_of(hall)],
        "categories": [
            {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "colour": c.colour}
            for c in hall.categories
            if any(i.category == c.code for i in bookable)
        ],
        "items": [{"id": i.id, "category": i.category, "name_zh": i.name_zh, "name_en": i.name_en} for i in bookable],
        "api_path": f"/api/v1/halls/{hall.id}/appointments",
    }
    return _render("book.html", config)


@router.get("/join/{hall}", response_class=HTMLResponse, dependencies=[Depends(limited("slots"))])
async def join(hall: HallDep) -> HTMLResponse:
    """远程取号 from a phone: a place in today's queue, checked in at the hall's kiosk."""
    rules = hall.remote
    items = [i for i in hall.items if i.appointment]
    config = {
        **_hall_info(hall),
        "enabled": rules.enabled,
        "arrive_within_minutes": rules.arrive_within_minutes,
        "grace_minutes": rules.grace_minutes,
        "no_show_limit": rules.no_show_limit,
        "no_show_days": rules.no_show_days,
        "ban_days": rules.ban_days,
        "categories": [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en} for c in hall.categories],
        "items": [{"id": i.id, "category": i.category, "name_zh": i.name_zh, "name_en": i.name_en} for i in items],
        "api_path": f"/api/v1/halls/{hall.id}/remote-tickets",
        "appointment_path": f"/api/v1/halls/{hall.id}/appointments",
        "book_path": f"/book/{hall.id}",
    }
    return _render("join.html", config)


@router.get("/phone/{name}", response_class=Response)
async def asset(name: Annotated[str, PathParam(max_length=40)]) -> Response:
    """The phone pages' CSS and JavaScript."""
    if name not in ASSETS:
        raise NotFound(f"no phone asset {name!r}")
    return FileResponse(PHONE_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@router.get(
    "/q/{hall}",
    response_class=HTMLResponse,
    responses={404: {"description": "no such hall"}, 429: {"description": "too many requests: see Retry-After"}},
    dependencies=[Depends(limited("published"))],
)
async def supervision(hall: HallDep) -> HTMLResponse:
    """Public supervision (互联网+监督): published figures, the eight published facts, complaints."""
    config = {
        **_hall_info(hall),
        "complaints": hall.complaints.enabled,
        "answer_working_days": hall.complaints.answer_working_days,
        "complaint_categories": [[code, zh, en] for code, (zh, en) in CATEGORIES.items()],
        "windows": [{"number": w.number, "name_zh": w.name_zh, "name_en": w.name_en} for w in hall.windows],
        "api_path": f"/api/v1/halls/{hall.id}",
        "case_lookup": True,  # 办件进度查询: GET {api_path}/case-lookup/{code}
    }
    return _render("supervision.html", config)
