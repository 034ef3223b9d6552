"""The clerk console and the manager dashboard: their pages, assets, and the reads the console needs.

Pages (HTML/CSS/JS from the package; no CDN, no build step):

- `/clerk` → `/clerk/{hall}`: the clerk console (窗口工作台): log in, open a window on a post, call,
  recall, start, finish with a case class, no-show, transfer, pause/resume, with keyboard shortcuts.
- `/manager` → `/manager/{hall}`: the manager dashboard (中心主任): the live wall, reports with charts
  and exports, the audit trail, staff accounts.
- `/county/{county}`: the county dashboard (县级看板): every hall of the county now, reports across them
- `/agent/{hall}`: the village agent's phone page (村级代办), served by routes_agent.py
- `/console/{clerk|manager|county|city|agent|vendor}/{file}`: their scripts and styles (the vendored Chart.js).

Sessions: the pages keep the bearer token of `POST /api/v1/auth/login` in sessionStorage and send it
as `Authorization: Bearer ...`; the server sets no cookie, so a cross-site form or link carries no
credentials and is refused (401): CSRF does not apply. Sessions expire (accounts.SESSION_HOURS), and
the pages return to the login form on any 401.

Reads for the console (any staff member):

- `GET /api/v1/halls/{hall}/console/setup`: who I am, the windows with their posts, categories, service
  items with their materials, departments, preset reasons.
- `GET /api/v1/halls/{hall}/console/desk`: the window I hold, its current ticket (with the promised
  due date), the tickets waiting for it, and today's counts for the window and for me.
- `GET /api/v1/halls/{hall}/console/due-date?days=N`: the due date N working days from today.
- `POST /api/v1/halls/{hall}/console/supplement-notice`: the supplement notice (补正告知) as a PNG to print.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from config.schema import AgentPoint, CaseKind, Hall, Material
from printer.layout.render import render_supplement
from printer.model import supplement_data
from queue_server.api.deps import HallDep, StaffDep, State, first_hall
from queue_server.api.responses import errors
from queue_server.api.routes_reports import TodayFactsDep, local_today
from queue_server.api.routes_web import common_bytes
from queue_server.api.routes_windows import WaitingTicket, desk
from queue_server.domain.cases import CODE_PATTERN
from queue_server.errors import BadRequest, NotFound
from queue_server.reports.figures import Figures, figures_of
from queue_server.services.auto_no_show import deadline
from queue_server.services.cases import CaseRecord, linked_case, record_of
from queue_server.store.tables import events
from queue_server.store.writer import Tx, from_us

router = APIRouter(tags=["console"], responses=errors(400, 404, 409))

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
AREAS = ("clerk", "manager", "county", "city", "agent", "vendor")
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
PAGES = {
    "clerk": WEB_DIR / "clerk" / "index.html",
    "manager": WEB_DIR / "manager" / "index.html",
    "county": WEB_DIR / "county" / "index.html",
    "city": WEB_DIR / "city" / "index.html",
    "agent": WEB_DIR / "agent" / "index.html",  # routes_agent.py
}
# The Content-Security-Policy and the other security headers: api/page_headers.py, for every page.
PAGE_HEADERS = {"Cache-Control": "no-cache"}
PAUSE_REASONS = [
    "临时离开 Away briefly",
    "午休 Lunch break",
    "会议 Meeting",
    "系统故障 System fault",
    "业务培训 Training",
]
RETURN_REASONS = [
    "不符合受理条件 Conditions not met",
    "不属于本中心受理范围 Not handled here",
    "申请人撤回申请 Withdrawn by the applicant",
]


# --- pages and assets ----------------------------------------------------------------------------


@cache
def _assets() -> dict[tuple[str, str], Path]:
    """Every file the pages may load: (area, name) → path; nothing else under web/ is served here."""
    found = {}
    for area in AREAS:
        for path in sorted((WEB_DIR / area).glob("*")):
            if path.is_file() and path.suffix in MEDIA_TYPES:
                found[(area, path.name)] = path
    return found


@cache
def _version() -> str:
    """Changes whenever a script or style changes, so a browser never runs a stale one."""
    digest = hashlib.sha256(common_bytes())
    for key, path in sorted(_assets().items()):
        digest.update(key[1].encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _page(kind: Literal["clerk", "manager"], hall: Hall, state: State) -> HTMLResponse:
    config = {
        "kind": kind,
        "hall": hall.id,
        "name_zh": hall.name_zh,
        "name_en": hall.name_en,
        "timezone": hall.timezone,
        "halls": [{"id": h.id, "name_zh": h.name_zh} for h in state.config.halls],
        "api": f"/api/v1/halls/{hall.id}",
        "ws_path": f"/ws/halls/{hall.id}/board",
    }
    return page_html(kind, config)


def page_html(kind: str, config: dict[str, Any]) -> HTMLResponse:
    # "<" escaped: the JSON sits in a <script> element, where "</script>" would end it.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    html = PAGES[kind].read_text(encoding="utf-8").replace("__CONFIG__", data).replace("__VERSION__", _version())
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/clerk", response_class=RedirectResponse, status_code=307, include_in_schema=False)
async def first_clerk_console(state: State) -> RedirectResponse:
    return RedirectResponse(f"/clerk/{first_hall(state).id}", status_code=307)


@router.get("/clerk/{hall}", response_class=HTMLResponse)
async def clerk_console(hall: HallDep, state: State) -> HTMLResponse:
    """The clerk console (窗口工作台)."""
    return _page("clerk", hall, state)


@router.get("/manager", response_class=RedirectResponse, status_code=307, include_in_schema=False)
async def first_manager_dashboard(state: State) -> RedirectResponse:
    return RedirectResponse(f"/manager/{first_hall(state).id}", status_code=307)


@router.get("/manager/{hall}", response_class=HTMLResponse)
async def manager_dashboard(hall: HallDep, state: State) -> HTMLResponse:
    """The hall manager's dashboard (中心主任)."""
    return _page("manager", hall, state)


@router.get("/county/{county}", response_class=HTMLResponse, responses={404: {"description": "no such county here"}})
async def county_dashboard(county: Annotated[str, PathParam(max_length=48)], state: State) -> HTMLResponse:
    """The county dashboard (县级看板): every hall of the county now, and reports across them."""
    known = state.config.county
    if known is None or known.id != county:
        raise NotFound(f"没有该县 no county {county!r}")
    first = state.config.halls[0]
    config = {
        "kind": "county",
        "county": known.id,
        "name_zh": known.name_zh,
        "name_en": known.name_en,
        "timezone": first.timezone,
        "api": f"/api/v1/counties/{known.id}",
        "ws_path": f"/ws/halls/{first.id}/board",
    }
    return page_html("county", config)


@router.get("/city/{city}", response_class=HTMLResponse, responses={404: {"description": "no such city here"}})
async def city_rollup(city: Annotated[str, PathParam(max_length=48)], state: State) -> HTMLResponse:
    """The city rollup (市级汇总): the headline table of the city's counties, and reports across their halls."""
    known = state.config.city
    if known is None or known.id != city:
        raise NotFound(f"没有该市 no city {city!r}")
    halls = state.config.townships
    config = {
        "kind": "city",
        "city": known.id,
        "name_zh": known.name_zh,
        "name_en": known.name_en,
        "timezone": halls[0].timezone if halls else "Asia/Shanghai",
        "api": f"/api/v1/cities/{known.id}",
        "now": state.store.clock().isoformat(),  # the server's clock: the page's today and its clock
    }
    return page_html("city", config)


@router.get("/console/{area}/{name}", response_class=Response)
async def console_asset(area: str, name: str) -> Response:
    """A script or style of the console pages."""
    path = _assets().get((area, name))
    if path is None:
        raise NotFound(f"no console asset {area[:20]}/{name[:60]}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


# --- setup ---------------------------------------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Me(Model):
    username: str
    display_name: str
    role: str


class WindowSetup(Model):
    number: int
    name_zh: str
    name_en: str
    categories: list[str]
    a_post: str | None
    b_post: str | None
    my_post: Literal["A", "B"] | None  # the post this staff member is assigned to, if any


class CategorySetup(Model):
    code: str
    prefix: str
    name_zh: str
    name_en: str
    colour: str


class MaterialSetup(Model):
    name: str
    form_zh: str
    copies: int


class ItemSetup(Model):
    id: str
    category: str
    name_zh: str
    name_en: str
    case_kind: CaseKind
    promised_days: int
    department: str
    materials: list[MaterialSetup]


class Setup(Model):
    me: Me
    hall: str
    name_zh: str
    name_en: str
    windows: list[WindowSetup]
    categories: list[CategorySetup]
    items: list[ItemSetup]
    departments: list[str]
    agent_points: list[AgentPoint] = []  # the hall's village agent points, for the agents' cases on the desk
    pause_reasons: list[str]
    return_reasons: list[str]
    recall_limit: int
    no_show_after_s: int  # after the last recall, the system marks a no-show (0: only the clerk)
    pause_alert_minutes: int


@router.get("/api/v1/halls/{hall}/console/setup", response_model=Setup, tags=["console"])
async def console_setup(hall: HallDep, staff: StaffDep) -> Setup:
    """What the console needs once after login: me, windows and posts, categories, items, reasons."""

    def my_post(a: str | None, b: str | None) -> Literal["A", "B"] | None:
        return "A" if a == staff.username else "B" if b == staff.username else None

    return Setup(
        me=Me(username=staff.username, display_name=staff.display_name, role=staff.role.value),
        hall=hall.id,
        name_zh=hall.name_zh,
        name_en=hall.name_en,
        windows=[
            WindowSetup(
                number=w.number,
                name_zh=w.name_zh,
                name_en=w.name_en,
                categories=list(w.categories),
                a_post=w.a_post,
                b_post=w.b_post,
                my_post=my_post(w.a_post, w.b_post),
            )
            for w in hall.windows
        ],
        categories=[
            CategorySetup(code=c.code, prefix=c.prefix, name_zh=c.name_zh, name_en=c.name_en, colour=c.colour)
            for c in hall.categories
        ],
        items=[
            ItemSetup(
                id=i.id,
                category=i.category,
                name_zh=i.name_zh,
                name_en=i.name_en,
                case_kind=i.case_kind,
                promised_days=i.promised_days,
                department=i.department,
                materials=[MaterialSetup(name=m.name, form_zh=m.form.label_zh, copies=m.copies) for m in i.materials],
            )
            for i in hall.items
        ],
        departments=sorted({i.department for i in hall.items}),
        agent_points=list(hall.agent_points),
        pause_reasons=PAUSE_REASONS,
        return_reasons=RETURN_REASONS,
        recall_limit=hall.queue.recall_limit,
        no_show_after_s=hall.queue.no_show_after_s,
        pause_alert_minutes=hall.queue.pause_alert_minutes,
    )


# --- the desk ------------------------------------------------------------------------------------


class HeldWindow(Model):
    number: int
    name_zh: str
    name_en: str
    state: Literal["closed", "open", "paused"]
    post: Literal["A", "B"] | None
    paused_reason: str | None
    since: dt.datetime | None


class CurrentTicket(Model):
    number: str
    category: str
    item_id: str | None
    priority: str
    state: str
    recalls: int
    recalled_at: dt.datetime | None = None  # the last recall
    no_show_at: dt.datetime | None = None  # the system marks it a no-show (过号) then, unless the citizen came
    issued_at: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    waited_s: int | None  # from issue to the call
    promised_days: int | None  # the item's promised working days (承诺件)
    due_date: dt.date | None  # today + promised_days working days
    due_provisional: bool = False  # computed past the calendar's last year: weekends only, it may move
    case: CaseRecord | None = None  # a 补办 return visit: the case it is linked to, with what was missing


class DeskTicket(WaitingTicket):
    """A ticket waiting for my window, with where it came from when it was transferred (from the event log)."""

    from_window: int | None = None  # the window that transferred it here (its last transfer)
    from_category: str | None = None  # the category it was in before that transfer
    transfer_reason: str | None = None


class Desk(Model):
    now: dt.datetime
    day: dt.date | None
    seq: int
    me: Me
    window: HeldWindow | None
    current: CurrentTicket | None
    waiting: list[DeskTicket]
    today_window: Figures | None  # today's figures of the window I hold
    today_me: Figures  # today's figures of the tickets I last acted on


def _with_origins(tx: Tx, waiting: list[WaitingTicket]) -> list[DeskTicket]:
    """The waiting tickets, each transferred one with its last transfer (window, category, reason)."""
    ids = {t.number: t.id for t in tx.rt.tickets.values()}
    wanted = [ids[w.number] for w in waiting if w.transferred and w.number in ids]
    origins: dict[int, tuple[int | None, dict[str, Any]]] = {}
    if wanted:
        rows = tx.conn.execute(
            select(events.c.ticket_id, events.c.window, events.c.payload)
            .where(events.c.hall == tx.rt.hall.id, events.c.type == "ticket.transferred",
                   events.c.ticket_id.in_(wanted))
            .order_by(events.c.seq)
        )  # fmt: skip
        origins = {r.ticket_id: (r.window, json.loads(r.payload)) for r in rows}  # the last one wins
    out = []
    for w in waiting:
        origin = origins.get(ids.get(w.number, -1))
        extra: dict[str, Any] = {}
        if origin is not None:
            window, payload = origin
            extra = {"from_window": window, "from_category": payload.get("from_category"),
                     "transfer_reason": payload.get("reason")}  # fmt: skip
        out.append(DeskTicket(**w.model_dump(), **extra))
    return out


def _held(tx: Tx, username: str) -> tuple[HeldWindow | None, CurrentTicket | None, list[DeskTicket]]:
    rt = tx.rt
    live = next((w for w in rt.windows.values() if w.clerk == username), None)
    if live is None:
        return None, None, []
    config_window = rt.hall.window(live.number)
    held = HeldWindow(
        number=live.number,
        name_zh=config_window.name_zh,
        name_en=config_window.name_en,
        state=live.state.value,
        post=live.post.value if live.post else None,
        paused_reason=live.paused_reason,
        since=from_us(live.since) if live.since else None,
    )
    ticket = rt.tickets.get(live.current_ticket) if live.current_ticket is not None else None
    current = None
    if ticket is not None:
        days = rt.hall.item(ticket.item_id).promised_days if ticket.item_id else 0
        due = tx.calendar.add_working_days(rt.day, days) if days and rt.day else None
        current = CurrentTicket(
            number=ticket.number,
            category=ticket.category,
            item_id=ticket.item_id,
            priority=ticket.priority.value,
            state=ticket.state.value,
            recalls=ticket.recalls,
            recalled_at=from_us(ticket.recalled_at) if ticket.recalled_at else None,
            no_show_at=from_us(at) if (at := deadline(rt, ticket)) is not None else None,
            issued_at=from_us(ticket.issued_at),
            called_at=from_us(ticket.called_at) if ticket.called_at else None,
            started_at=from_us(ticket.started_at) if ticket.started_at else None,
            waited_s=(ticket.called_at - ticket.issued_at) // 1_000_000 if ticket.called_at else None,
            promised_days=days or None,
            due_date=due,
            due_provisional=due is not None and rt.day is not None and tx.calendar.provisional(rt.day, due),
            case=_linked(tx, ticket.id),
        )
    return held, current, _with_origins(tx, desk(tx, live.number).waiting)


def _linked(tx: Tx, ticket_id: int) -> CaseRecord | None:
    row = linked_case(tx.conn, tx.rt.hall.id, ticket_id)
    assert tx.rt.day is not None
    return None if row is None else record_of(row, tx.rt.hall, tx.rt.day, tx.calendar, tx.now_us)


@router.get("/api/v1/halls/{hall}/console/desk", response_model=Desk, tags=["console"])
async def console_desk(hall: HallDep, state: State, staff: StaffDep, facts: TodayFactsDep) -> Desk:
    """My window, its current ticket and queue, and today's counts (from the event log)."""

    def read_live(tx: Tx) -> tuple[dt.datetime, dt.date, int, Any]:
        return tx.now, tx.rt.day or local_today(hall, tx.now), tx.rt.last_seq, _held(tx, staff.username)

    now, day, seq, (held, current, waiting) = await state.store.run(hall.id, read_live)

    def counts(builder: Any) -> tuple[Figures | None, Figures]:
        tickets = builder.tickets.values()
        mine = figures_of(t for t in tickets if t.actor == staff.username)
        window = figures_of(t for t in tickets if t.window == held.number) if held else None
        return window, mine

    today_window, today_me = await state.store.read(lambda conn: facts.use(conn, hall, day, counts))
    return Desk(
        now=now,
        day=day,
        seq=seq,
        me=Me(username=staff.username, display_name=staff.display_name, role=staff.role.value),
        window=held,
        current=current,
        waiting=waiting,
        today_window=today_window,
        today_me=today_me,
    )


class DueDate(Model):
    days: int
    from_day: dt.date
    due_date: dt.date
    provisional: bool  # a year on the way has no official holiday schedule: counted on weekends only, it may move


@router.get("/api/v1/halls/{hall}/console/due-date", response_model=DueDate, tags=["console"])
async def due_date(hall: HallDep, state: State, staff: StaffDep, days: Annotated[int, Query(ge=1, le=365)]) -> DueDate:
    """The date a promised case (承诺件) is due: `days` working days after today (the hall's calendar)."""
    today, calendar = local_today(hall, state.store.clock()), state.store.calendar
    due = calendar.add_working_days(today, days)
    return DueDate(days=days, from_day=today, due_date=due, provisional=calendar.provisional(today, due))


class NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    materials: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=20)]
    window: Annotated[int, Field(ge=1, le=999)]
    case_code: Annotated[str, Field(pattern=CODE_PATTERN)] | None = None  # printed with its QR for the kiosk


@router.post(
    "/api/v1/halls/{hall}/console/supplement-notice",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    tags=["console"],
)
async def supplement_notice(hall: HallDep, state: State, staff: StaffDep, body: NoticeRequest) -> Response:
    """The supplement notice (补正告知) of an item's missing materials, as the 80 mm printout (PNG)."""
    try:
        item = hall.item(body.item_id)
    except KeyError:
        raise NotFound(f"no service item {body.item_id!r} in hall {hall.id} (没有该事项)") from None
    try:
        hall.window(body.window)
    except KeyError:
        raise NotFound(f"hall {hall.id} has no window {body.window}") from None
    listed = {m.name: m for m in item.materials}
    missing = [listed.get(name.strip()) or Material(name=name.strip()) for name in body.materials if name.strip()]
    if not missing:
        raise BadRequest("name at least one missing material (请选择缺少的材料)")
    data = supplement_data(
        item,
        hall,
        missing=missing,
        window_number=body.window,
        date=local_today(hall, state.store.clock()),
        case_code=body.case_code,
    )
    image = render_supplement(data, paper=80).preview
    out = io.BytesIO()
    image.save(out, format="PNG")
    return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"})
