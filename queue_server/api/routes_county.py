"""The county dashboard's data: every hall of the county now, and reports across its halls.

- `GET /api/v1/counties/{county}/live`: each hall (local and townships) now, with when it was last heard from
- `GET /api/v1/counties/{county}/reports?period=day|week|month|year&date=...&by=hall|category|item&rank=...`
  (`format=csv|xlsx`: the same report as a file)

For the county's managers (role county_manager of this county) and administrators of every hall. The
halls are the configuration's local halls and its townships (`[[townships]]`, from their shipped events).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Connection

from config.schema import County, Hall
from queue_server.api.deps import StaffDep, State
from queue_server.api.params import EARLIEST, LATEST, ReportDate
from queue_server.api.routes_reports import XLSX, local_today, today_facts
from queue_server.api.state import ServerState
from queue_server.errors import BadRequest, NotFound
from queue_server.reports.county_live import (
    CountyLive,
    HallLive,
    county_live,
    hall_live,
    township_contact,
    township_day,
    township_window_state,
)
from queue_server.reports.export import network_to_csv, network_to_xlsx
from queue_server.reports.live import LiveState, TodayFacts, build_wall, live_state
from queue_server.reports.network import (
    RANK_FIGURES,
    NetworkReport,
    Scope,
    by_category,
    by_hall,
    by_item,
    grouped_report,
)
from queue_server.reports.periods import Period, PeriodKind
from queue_server.services.accounts import Staff
from queue_server.store.writer import Tx, to_us

router = APIRouter(prefix="/api/v1/counties/{county}", tags=["county"])

ERROR = {"description": 'an error: `{"error": {"code": ..., "message": ...}}`'}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**ERROR, "description": "not logged in"},
    403: {**ERROR, "description": "not a county manager of this county nor an administrator of every hall"},
    404: {**ERROR, "description": "no such county here (this server's [county] is another, or it has none)"},
}
REPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {**ERROR, "description": "a date out of range (2000-01-01 to 2099-12-01)"},
    422: {**ERROR, "description": "a period, date, grouping, ranking figure or format not understood"},
}


class CountyBy(StrEnum):
    HALL = "hall"
    CATEGORY = "category"
    ITEM = "item"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class RankBy(StrEnum):
    SERVED = "served"
    ISSUED = "issued"
    COMPLETION_RATE = "completion_rate"  # 办结率 of the cases
    ON_TIME_RATE = "on_time_rate"  # 按时办结率 of the cases
    ACCEPTANCE_RATE = "acceptance_rate"  # 受理率 of the visits served
    SATISFACTION_RATE = "satisfaction_rate"
    BY_AGENT = "by_agent"
    AVG_WAIT_S = "avg_wait_s"
    P90_WAIT_S = "p90_wait_s"


assert {r.value for r in RankBy} == set(RANK_FIGURES)


async def county_config(state: State, county: Annotated[str, Path(max_length=48)]) -> County:
    known = state.config.county
    if known is None or known.id != county:
        here = f"this server's county is {known.id}" if known else "this server is no county center"
        raise NotFound(f"没有该县 no county {county!r} ({here})")
    return known


async def county_staff(staff: StaffDep, county: Annotated[str, Path(max_length=48)]) -> Staff:
    """A county manager of this county, or an administrator of every hall (checked before the county exists)."""
    staff.check_county(county)
    return staff


CountyDep = Annotated[County, Depends(county_config)]
CountyStaffDep = Annotated[Staff, Depends(county_staff)]


def county_halls(state: State) -> list[Hall]:
    """The county's halls: the local ones, then the townships, in the configuration's order."""
    return [*state.config.halls, *state.config.townships]


@router.get("/live", response_model=CountyLive, responses=ERRORS)
async def live(request: Request, staff: CountyStaffDep, county: CountyDep, state: State) -> CountyLive:
    """Every hall of the county now: open windows, waiting, the longest wait, alerts, and when it was last heard."""
    facts = today_facts(request)
    now_us = to_us(state.store.clock())
    stale_us = county.stale_minutes * 60 * 1_000_000
    lines = [await _local_live(state, facts, hall, stale_us) for hall in state.config.halls]
    for township in state.config.townships:
        lines.append(await state.store.read(partial(_township_live, facts, township, now_us, stale_us)))
    return county_live(county.id, county.name_zh, county.name_en, now_us, county.stale_minutes, lines)


async def _local_live(state: ServerState, facts: TodayFacts, hall: Hall, stale_us: int) -> HallLive:
    """A hall served here, as its manager's wall shows it now (heard from now)."""

    def read_live(tx: Tx) -> tuple[int, dt.date, LiveState]:
        return tx.now_us, tx.rt.day or local_today(hall, tx.now), live_state(tx.rt, tx.now_us)

    now_us, day, windows = await state.store.run(hall.id, read_live)
    wall = await state.store.read(
        lambda conn: facts.use(conn, hall, day, lambda builder: build_wall(hall, windows, builder, now_us))
    )
    return hall_live(wall, "local", now_us, now_us, now_us, stale_us, 0, len(hall.windows))


def _township_live(facts: TodayFacts, hall: Hall, now_us: int, stale_us: int, conn: Connection) -> HallLive:
    """A township as its shipped events show it at its last contact."""
    heard_us, backlog = township_contact(conn, hall.id)
    as_of = now_us if heard_us is None else min(now_us, heard_us)
    day = township_day(hall, as_of)
    windows = township_window_state(conn, hall, day, as_of)
    wall = facts.use(conn, hall, day, lambda builder: build_wall(hall, windows, builder, as_of))
    return hall_live(wall, "township", as_of, heard_us, now_us, stale_us, backlog, len(hall.windows))


GROUPINGS = {CountyBy.HALL: by_hall, CountyBy.CATEGORY: by_category, CountyBy.ITEM: by_item}


@router.get(
    "/reports",
    response_model=NetworkReport,
    responses={**REPORT_ERRORS, 200: {"content": {"application/json": {}, "text/csv": {}, XLSX: {}}}},
)
async def reports(
    staff: CountyStaffDep,
    county: CountyDep,
    state: State,
    period: Annotated[PeriodKind, Query(description="day, week (Monday to Sunday), month or year")] = PeriodKind.DAY,
    date: Annotated[ReportDate | None, Query(description="a day in the period (default: today)")] = None,
    by: Annotated[CountyBy, Query(description="rows by hall, category or service item")] = CountyBy.HALL,
    rank: Annotated[RankBy, Query(description="the figure the halls are ranked by")] = RankBy.SERVED,
    format: Annotated[ExportFormat, Query(description="json, or a csv / xlsx file")] = ExportFormat.JSON,
) -> Any:
    """Figures across the county's halls for a period, in rows by hall, category or item, with a total row,
    each hall's figures (equal to its own report's), a ranking of halls and the daily counts."""
    halls = county_halls(state)
    day = date or local_today(halls[0], state.store.clock())
    if not EARLIEST <= day <= LATEST:
        raise BadRequest(f"date must be between {EARLIEST} and {LATEST} (日期超出范围)")
    chosen = Period.of(period, day)
    scope = Scope(county.id, county.name_zh, county.name_en)
    built = await state.store.read_apart(grouped_report, scope, halls, chosen, GROUPINGS[by], halls, rank.value)
    if format is ExportFormat.JSON:
        return built
    name = f"bianmin-county-{built.scope}-{built.period}-{built.start.isoformat()}-by-{built.by}.{format.value}"
    if format is ExportFormat.CSV:
        content, media = network_to_csv(built), "text/csv; charset=utf-8"
    else:
        content, media = network_to_xlsx(built), XLSX
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
