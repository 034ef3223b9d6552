"""The manager's reports and live wall (hall managers and administrators only).

- `GET /api/v1/halls/{hall}/reports?period=day|week|month|year&date=YYYY-MM-DD&by=category|window|clerk`
- `GET /api/v1/halls/{hall}/reports.csv?...` and `.../reports.xlsx?...`: the same report as files
- `GET /api/v1/halls/{hall}/wall/day`: today's charts (queue and wait per hour, load per window and clerk,
  the service level; definitions in queue_server/reports/day_chart.py)
- `GET /api/v1/halls/{hall}/wall`: every window and category now, alerts, today's figures, the link up

At a county, the reports of a township reporting to it (`[[townships]]`) are served too, from its shipped events.

Every figure is computed from the hall's event log (see queue_server/reports/figures.py for the
definitions). The reports and the day's charts are computed in the store's report process
(queue_server/store/apart.py), so that folding a month never holds up the calls and the boards.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from config.schema import Hall
from queue_server.api.deps import HallDep, State, SupervisorDep
from queue_server.api.params import EARLIEST, LATEST, ReportDate
from queue_server.api.responses import errors
from queue_server.errors import BadRequest, NotFound
from queue_server.link.status import link_view
from queue_server.reports.cases import case_report
from queue_server.reports.day_chart import DayChart, read_day_chart
from queue_server.reports.device_links import device_links
from queue_server.reports.export import to_csv, to_xlsx
from queue_server.reports.live import (
    LiveState,
    TodayFacts,
    Wall,
    build_wall,
    calendar_alert,
    case_alert_list,
    complaint_alert,
    live_state,
)
from queue_server.reports.periods import Period, PeriodKind, local_midnight_us
from queue_server.reports.report import GroupBy, Report, full_report
from queue_server.services.case_actions import case_alerts
from queue_server.services.complaints import overdue_count
from queue_server.store.writer import Tx, to_us

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["reports"], responses=errors(400))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def today_facts(request: Request) -> TodayFacts:
    """The app's cache of today's facts per hall (made on first use)."""
    facts: TodayFacts | None = getattr(request.app.state, "bianmin_today", None)
    if facts is None:
        facts = request.app.state.bianmin_today = TodayFacts()
    return facts


TodayFactsDep = Annotated[TodayFacts, Depends(today_facts)]


async def report_hall(state: State, hall: Annotated[str, Path(max_length=48)]) -> Hall:
    """A hall served here, or at a county a township reporting here (its reports come from the shipped events)."""
    for known in (*state.config.halls, *state.config.townships):
        if known.id == hall:
            return known
    raise NotFound(f"no hall {hall!r} (没有该服务大厅)")


ReportHallDep = Annotated[Hall, Depends(report_hall)]


def local_today(hall: Hall, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(hall.timezone)).date()


def chosen_period(hall: Hall, state: State, period: PeriodKind, date: dt.date | None) -> Period:
    day = date or local_today(hall, state.store.clock())
    if not EARLIEST <= day <= LATEST:
        raise BadRequest(f"date must be between {EARLIEST} and {LATEST} (日期超出范围)")
    return Period.of(period, day)


PeriodQuery = Annotated[PeriodKind, Query(description="day, week (Monday to Sunday), month or year")]
DateQuery = Annotated[ReportDate | None, Query(description="a day in the period (default: today in the hall)")]
ByQuery = Annotated[GroupBy, Query(description="group the figures by category, window or clerk")]


async def _report(hall: Hall, state: State, period: PeriodKind, date: dt.date | None, by: GroupBy) -> Report:
    chosen = chosen_period(hall, state, period, date)
    today = local_today(hall, state.store.clock())
    return await state.store.read_apart(full_report, hall, chosen, by, today)  # in the report process


def _filename(report: Report, suffix: str) -> str:
    return f"bianmin-{report.hall}-{report.period}-{report.start.isoformat()}-by-{report.by.value}.{suffix}"


def _download(content: bytes, media_type: str, filename: str) -> Response:
    """A file the browser saves under `filename` rather than shows."""
    disposition = f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/reports", response_model=Report)
async def report(
    hall: ReportHallDep,
    state: State,
    staff: SupervisorDep,
    period: PeriodQuery = PeriodKind.DAY,
    date: DateQuery = None,
    by: ByQuery = GroupBy.CATEGORY,
) -> Report:
    """A day's, week's or month's figures, by category, window or clerk, with the charts' series."""
    return await _report(hall, state, period, date, by)


@router.get("/reports.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def report_csv(
    hall: ReportHallDep,
    state: State,
    staff: SupervisorDep,
    period: PeriodQuery = PeriodKind.DAY,
    date: DateQuery = None,
    by: ByQuery = GroupBy.CATEGORY,
) -> Response:
    """The report as CSV (UTF-8 with a byte-order mark, for Excel)."""
    result = await _report(hall, state, period, date, by)
    return _download(to_csv(result), "text/csv; charset=utf-8", _filename(result, "csv"))


@router.get("/reports.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def report_xlsx(
    hall: ReportHallDep,
    state: State,
    staff: SupervisorDep,
    period: PeriodQuery = PeriodKind.DAY,
    date: DateQuery = None,
    by: ByQuery = GroupBy.CATEGORY,
) -> Response:
    """The report as an Excel workbook, one sheet per table."""
    result = await _report(hall, state, period, date, by)
    return _download(to_xlsx(result), XLSX, _filename(result, "xlsx"))


@router.get("/wall/day", response_model=DayChart)
async def wall_day(hall: HallDep, state: State, staff: SupervisorDep) -> DayChart:
    """Today's charts, from the event log: queue length and wait per hour (mean and maximum), serving /
    idle / paused time per window and per clerk, and the service level against the hall's target."""
    now_us = to_us(state.store.clock())
    day = local_today(hall, state.store.clock())
    start = local_midnight_us(day, ZoneInfo(hall.timezone))
    target = hall.queue.service_target_minutes
    return await state.store.read_apart(read_day_chart, hall.id, start, now_us, target)  # in the report process


@router.get("/wall", response_model=Wall)
async def wall(hall: HallDep, state: State, staff: SupervisorDep, facts: TodayFactsDep) -> Wall:
    """Every window (state, number served, clerk and post, time in service) and category (waiting,
    longest and estimated wait) now, the alerts, and today's figures."""

    def read_live(tx: Tx) -> tuple[int, dt.date, LiveState]:
        return tx.now_us, tx.rt.day or local_today(hall, tx.now), live_state(tx.rt, tx.now_us)

    now_us, day, live = await state.store.run(hall.id, read_live)
    built = await state.store.read(
        lambda conn: facts.use(conn, hall, day, lambda builder: build_wall(hall, live, builder, now_us))
    )
    today = local_today(hall, state.store.clock())
    calendar = calendar_alert(state.store.calendar, today)
    if calendar is not None:  # the working-day calendar runs out within 60 days (or has): add the next year
        built = built.model_copy(update={"alerts": [*built.alerts, calendar]})
    cases, complaints_late = await state.store.read(
        lambda conn: (case_alerts(conn, hall.id, today, state.store.calendar), overdue_count(conn, hall.id, today))
    )
    found = case_alert_list(cases.overdue_codes, cases.overdue, cases.due_soon_codes, cases.due_soon)
    late = complaint_alert(complaints_late)  # 投诉举报 not answered by their due day
    start, end = Period.of(PeriodKind.DAY, day).bounds_us(ZoneInfo(hall.timezone))
    today_cases = await state.store.read(lambda conn: case_report(conn, hall.id, start, end).totals)
    alerts = [*built.alerts, *found, *([late] if late else [])]
    devices = device_links(hall, state.device_links, time.monotonic())
    built = built.model_copy(update={"alerts": alerts, "today_cases": today_cases, "devices": devices})
    if hall.link is None:
        return built
    link = await state.store.read(lambda conn: link_view(conn, hall))
    if link is not None and state.downlink is not None:  # link down: the county's documents here
        link = link.model_copy(update={"documents": state.downlink.report(hall.id)})
    return built.model_copy(update={"link": link})
