"""The web boards, served from the package (no CDN, no build step), and the two small reads they need.

URL scheme (one page per screen; the hall id is always in the path, so one server serves many halls):

- `/board/{hall}` — the hall board for a TV (1920×1080): the latest call, recent calls, every
  window, people waiting per category, a scrolling notice, the date and time; it speaks each call.
  Add `?sound=0` to keep it silent.
- `/board/{hall}/window/{n}` — the board above window n: its name, clerk and post, the current
  number, the next numbers, people waiting for it. Silent unless opened with `?sound=1` (then it
  speaks its own window's calls only).
  `?board=ID` takes a board device's own notice zone settings (`[[halls.devices]] kind = "board"`).
- `/rate/{hall}/window/{n}` — the evaluator pad (评价器) on a tablet at window n: api/routes_pad.py.
- `/board` — redirects to the first hall's board.
- Tuning for odd networks (and tests): `?offline_s=S` shows 离线/Offline after S seconds without
  hearing from the server (default 6), `?retry_s=S` caps the reconnect back-off (default 10).
- `/web/{file}` — the boards' CSS and JavaScript; `/web/common/page.js` — the page module every page
  loads first (live link, server clock, DOM and fetch helpers, staff login); `/favicon.ico` — the icon;
  `/web/fonts/wqy-microhei.ttf` — the bundled CJK font,
  which a browser downloads only when none of the system fonts of the page's font stack is installed.
- `GET /api/v1/halls/{hall}/windows/{n}/upcoming` — the numbers a window will call next (public:
  ticket numbers only), which the window board fetches after each event.
- `GET /api/v1/halls/{hall}/time` — the server's clock; boards show the hall's time (a TV's own
  clock is often wrong on a LAN without internet) and judge how old a missed call is by it.

The board's websocket and announcement rules are described at the top of queue_server/web/board.js.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel

from config.fonts import CJK_FONT_INDEX, cjk_font_path
from config.schema import ID_PATTERN, BoardDevice, Hall
from queue_server.api.deps import HallDep, State, first_hall
from queue_server.api.responses import errors
from queue_server.api.routes_windows import desk
from queue_server.board_notice import notice_zone
from queue_server.errors import NotFound
from queue_server.store.writer import Tx

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS = {
    "board.css": "text/css; charset=utf-8",
    "board.js": "text/javascript; charset=utf-8",
    "board_layout.js": "text/javascript; charset=utf-8",
    "pad.css": "text/css; charset=utf-8",
    "pad.js": "text/javascript; charset=utf-8",
}
PAGES = {"hall": "hall.html", "window": "window.html"}
COMMON_DIR = WEB_DIR / "common"
COMMON_ASSETS = {"page.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml"}
CATEGORY_FIELDS = {"code", "prefix", "name_zh", "name_en", "colour"}
WINDOW_FIELDS = {"number", "name_zh", "name_en", "categories"}  # not the clerks' usernames
WindowNumber = Annotated[int, PathParam(ge=1, le=999)]

router = APIRouter(tags=["boards"], responses=errors(404))


class ServerTime(BaseModel):
    """The server's clock, for a board's own clock and for judging how old a call is."""

    now: dt.datetime
    timezone: str


class Upcoming(BaseModel):
    """The next numbers a window will call, in the order it would call them now."""

    seq: int
    window: int
    numbers: list[str]
    waiting: int


def common_bytes() -> bytes:
    """The shared page assets, for the version hash of every page that loads them."""
    return b"".join(name.encode() + (COMMON_DIR / name).read_bytes() for name in sorted(COMMON_ASSETS))


@cache
def asset_version() -> str:
    """Changes whenever a page's CSS or JavaScript changes, so TV browsers never run a stale script."""
    digest = hashlib.sha256(common_bytes())
    for name in sorted(ASSETS):
        digest.update((WEB_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


@cache
def _template(page: str) -> str:
    return (WEB_DIR / PAGES[page]).read_text(encoding="utf-8")


def _page(
    hall: Hall, kind: str, window: int | None, now: dt.datetime, device: BoardDevice | None = None
) -> HTMLResponse:
    config: dict[str, Any] = {
        "kind": kind,
        "hall": hall.id,
        "name_zh": hall.name_zh,
        "name_en": hall.name_en,
        "timezone": hall.timezone,
        "phone": hall.phone,
        "supervision_phone": hall.supervision_phone,
        "categories": [c.model_dump(include=CATEGORY_FIELDS) for c in hall.categories],
        "windows": [w.model_dump(include=WINDOW_FIELDS) for w in hall.windows],
        "window": window,
        "sound": kind == "hall",
        "server_now": now.isoformat(),
        "ws_path": f"/ws/halls/{hall.id}/board",
        "time_path": f"/api/v1/halls/{hall.id}/time",
        "upcoming_path": f"/api/v1/halls/{hall.id}/windows/{window}/upcoming" if window else None,
        "page_seconds": hall.board.page_seconds,
        "window_rows": hall.board.window_rows,
        "notice": notice_zone(hall, device) if kind == "hall" else None,
    }
    # "<" escaped: the JSON sits in a <script> element, where "</script>" would end it.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    html = _template(kind).replace("__CONFIG__", data).replace("__VERSION__", asset_version())
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def check_window(hall: Hall, window: int) -> None:
    try:
        hall.window(window)
    except KeyError:
        raise NotFound(f"hall {hall.id} has no window {window} (没有{window}号窗口)") from None


@router.get("/board", response_class=RedirectResponse, status_code=307,
            responses={404: {"description": "this server serves no hall (a city's)"}})  # fmt: skip
async def first_board(state: State) -> RedirectResponse:
    """The board of the configuration's first hall."""
    return RedirectResponse(f"/board/{first_hall(state).id}", status_code=307)


def _board_device(hall: Hall, board: str) -> BoardDevice:
    device = next((d for d in hall.devices if d.id == board), None)
    if not isinstance(device, BoardDevice) or device.window is not None:
        raise NotFound(f"hall {hall.id} has no hall board {board} (没有该大厅显示屏)")
    return device


@router.get(
    "/board/{hall}",
    response_class=HTMLResponse,
    responses={404: {"description": "no such hall, or no hall board of that id"}, 422: {"description": "bad id"}},
)
async def hall_board(
    hall: HallDep,
    state: State,
    board: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="a board device of the hall, for its own notice zone")
    ] = None,
) -> HTMLResponse:
    """The hall board (叫号大屏), for a TV in landscape or portrait; add ?sound=0 to keep it silent."""
    device = _board_device(hall, board) if board is not None else None
    return _page(hall, "hall", None, state.store.clock(), device)


@router.get("/board/{hall}/window/{window}", response_class=HTMLResponse)
async def window_board(hall: HallDep, state: State, window: WindowNumber) -> HTMLResponse:
    """The board above window n (窗口屏); add ?sound=1 to have it speak the window's calls."""
    check_window(hall, window)
    return _page(hall, "window", window, state.store.clock())


def sfnt_face(collection: bytes, index: int = 0) -> bytes:
    """One face of a TrueType collection (.ttc) as a standalone font, every table 4-byte aligned.

    Browsers sanitize web fonts (Chromium's OTS) and refuse the bundled collection as it is ("FFTM:
    misaligned table"); the same tables copied into a single-face file with aligned offsets (and
    FontForge's FFTM timestamp table left out) load everywhere.
    """
    if collection[:4] != b"ttcf":
        raise ValueError("not a TrueType collection")
    count = struct.unpack_from(">I", collection, 8)[0]
    if not 0 <= index < count:
        raise ValueError(f"the collection has {count} faces, not face {index}")
    start = struct.unpack_from(">I", collection, 12 + 4 * index)[0]
    version, tables = struct.unpack_from(">IH", collection, start)
    records = [struct.unpack_from(">4sIII", collection, start + 12 + 16 * i) for i in range(tables)]
    records = sorted(r for r in records if r[0] != b"FFTM")
    power = 1 << (len(records).bit_length() - 1)
    header = struct.pack(
        ">IHHHH", version, len(records), 16 * power, power.bit_length() - 1, 16 * (len(records) - power)
    )
    offset = len(header) + 16 * len(records)
    directory, body, head_at = bytearray(), bytearray(), None
    for tag, checksum, table_offset, length in records:
        if tag == b"head":
            head_at = offset + len(body)
        directory += struct.pack(">4sIII", tag, checksum, offset + len(body), length)
        body += collection[table_offset : table_offset + length]
        body += bytes(-len(body) % 4)
    font = bytearray(header + directory + body)
    if head_at is not None:  # the whole-font checksum lives in head.checkSumAdjustment
        font[head_at + 8 : head_at + 12] = bytes(4)
        total = sum(struct.unpack(f">{len(font) // 4}I", font)) & 0xFFFFFFFF
        font[head_at + 8 : head_at + 12] = struct.pack(">I", (0xB1B0AFBA - total) & 0xFFFFFFFF)
    return bytes(font)


@cache
def _web_font() -> bytes:
    return sfnt_face(cjk_font_path().read_bytes(), CJK_FONT_INDEX)


@router.get("/web/fonts/wqy-microhei.ttf", response_class=Response)
async def cjk_font() -> Response:
    """WenQuanYi Micro Hei (Apache-2.0; see config/fonts), the last resort of the boards' font stack."""
    return Response(_web_font(), media_type="font/ttf", headers={"Cache-Control": "public, max-age=604800"})


@router.get("/web/common/{name}", response_class=Response)
async def common_asset(name: Annotated[str, PathParam(max_length=40)]) -> Response:
    """The page module every page loads first, and the icon."""
    if name not in COMMON_ASSETS:
        raise NotFound(f"no web asset common/{name!r}")
    return FileResponse(COMMON_DIR / name, media_type=COMMON_ASSETS[name], headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico", response_class=Response, include_in_schema=False)
async def favicon() -> Response:
    """The icon browsers ask for on every page (an SVG: every browser of the halls' PCs and phones reads one)."""
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(COMMON_DIR / "favicon.svg", media_type="image/svg+xml", headers=headers)


@router.get("/web/{name}", response_class=Response)
async def asset(name: str) -> Response:
    """The boards' CSS and JavaScript."""
    if name not in ASSETS:
        raise NotFound(f"no web asset {name[:40]!r}")
    return FileResponse(WEB_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@router.get("/api/v1/halls/{hall}/time", response_model=ServerTime, tags=["public"])
async def server_time(hall: HallDep, state: State) -> ServerTime:
    """The server's clock and the hall's time zone (boards show the hall's time, not the TV's)."""
    return ServerTime(now=state.store.clock(), timezone=hall.timezone)


@router.get("/api/v1/halls/{hall}/windows/{window}/upcoming", response_model=Upcoming, tags=["public"])
async def upcoming(
    hall: HallDep, state: State, window: WindowNumber, limit: Annotated[int, Query(ge=1, le=20)] = 5
) -> Upcoming:
    """The numbers window n would call next (ticket numbers only: this is public, for its board)."""
    check_window(hall, window)

    def read(tx: Tx) -> Upcoming:
        waiting = desk(tx, window).waiting
        return Upcoming(
            seq=tx.rt.last_seq, window=window, numbers=[t.number for t in waiting[:limit]], waiting=len(waiting)
        )

    return await state.store.run(hall.id, read)
