"""The city rollup's data (市级汇总): the headline table and the reports across every hall of the city's counties.

- `GET /api/v1/cities/{city}/headline?period=year&date=...`: per county and in total, the centers, windows,
  staff, cases handled, direct versus agent cases, 办结率 and 满意率 (`format=csv|xlsx`: as a file)
- `GET /api/v1/cities/{city}/reports?period=...&date=...&by=county|hall|category|item&rank=...&format=...`

For the city's managers (role city_manager of this city) and administrators of every hall. The halls are
every hall of the configuration's counties (`[[counties]]`), from the events each county relays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from config.schema import City, Hall
from queue_server.api.deps import StaffDep, State
from queue_server.api.params import EARLIEST, LATEST, ReportDate
from queue_server.api.routes_county import ERROR, ExportFormat, RankBy
from queue_server.api.routes_reports import XLSX, local_today
from queue_server.api.state import ServerState
from queue_server.errors import BadRequest, NotFound
from queue_server.reports.city import Headline, by_county, city_halls, city_scope, headline
from queue_server.reports.export import headline_to_csv, headline_to_xlsx, network_to_csv, network_to_xlsx
from queue_server.reports.network import Grouping, NetworkReport, by_category, by_hall, by_item, grouped_report
from queue_server.reports.periods import Period, PeriodKind
from queue_server.services.accounts import Staff

router = APIRouter(prefix="/api/v1/cities/{city}", tags=["city"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**ERROR, "description": "not logged in"},
    403: {**ERROR, "description": "not a city manager of this city nor an administrator of every hall"},
    404: {**ERROR, "description": "no such city here (this server's [city] is another, or it has none)"},
    400: {**ERROR, "description": "a date out of range (2000-01-01 to 2099-12-01)"},
    422: {**ERROR, "description": "a period, date, grouping, ranking figure or format not understood"},
}
FILES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/csv": {}, XLSX: {}}}}


class CityBy(StrEnum):
    COUNTY = "county"
    HALL = "hall"
    CATEGORY = "category"
    ITEM = "item"


async def city_config(state: State, city: Annotated[str, Path(max_length=48)]) -> City:
    known = state.config.city
    if known is None or known.id != city:
        here = f"this server's city is {known.id}" if known else "this server rolls up no city"
        raise NotFound(f"没有该市 no city {city!r} ({here})")
    return known


async def city_staff(staff: StaffDep, city: Annotated[str, Path(max_length=48)]) -> Staff:
    """A city manager of this city, or an administrator of every hall (checked before the city exists)."""
    staff.check_city(city)
    return staff


CityDep = Annotated[City, Depends(city_config)]
CityStaffDep = Annotated[Staff, Depends(city_staff)]
PeriodQuery = Annotated[PeriodKind, Query(description="day, week (Monday to Sunday), month or year")]
DateQuery = Annotated[ReportDate | None, Query(description="a day in the period (default: today)")]
FormatQuery = Annotated[ExportFormat, Query(description="json, or a csv / xlsx file")]


def _period(state: ServerState, halls: list[Hall], period: PeriodKind, date: dt.date | None) -> Period:
    day = date or local_today(halls[0], state.store.clock())
    if not EARLIEST <= day <= LATEST:
        raise BadRequest(f"date must be between {EARLIEST} and {LATEST} (日期超出范围)")
    return Period.of(period, day)


async def _report(
    state: ServerState, city: City, period: Period, grouping_of: Callable[[Any], Grouping], of: Any, rank: str
) -> NetworkReport:
    """The city's report, rows grouped by `grouping_of(of)`, made in the store's report process."""
    halls = city_halls(state.config)
    return await state.store.read_apart(grouped_report, city_scope(city), halls, period, grouping_of, of, rank)


def _file(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/headline", response_model=Headline, responses={**ERRORS, **FILES})
async def city_headline(
    staff: CityStaffDep,
    city: CityDep,
    state: State,
    period: PeriodQuery = PeriodKind.YEAR,
    date: DateQuery = None,
    format: FormatQuery = ExportFormat.JSON,
) -> Any:
    """The city's headline table for a period (default: this year): per county and in total, the centers,
    windows (configured, used), staff, cases handled, direct versus agent cases (直接办结 / 委托代办),
    办结率 and 满意率."""
    chosen = _period(state, city_halls(state.config), period, date)
    built = await _report(state, city, chosen, by_county, state.config.counties, "served")
    table = headline(built, state.config)
    if format is ExportFormat.JSON:
        return table
    name = f"bianmin-city-{table.city}-headline-{table.period}-{table.start.isoformat()}.{format.value}"
    if format is ExportFormat.CSV:
        return _file(headline_to_csv(table), "text/csv; charset=utf-8", name)
    return _file(headline_to_xlsx(table), XLSX, name)


@router.get("/reports", response_model=NetworkReport, responses={**ERRORS, **FILES})
async def city_reports(
    staff: CityStaffDep,
    city: CityDep,
    state: State,
    period: PeriodQuery = PeriodKind.MONTH,
    date: DateQuery = None,
    by: Annotated[CityBy, Query(description="rows by county, hall, category or service item")] = CityBy.COUNTY,
    rank: Annotated[RankBy, Query(description="the figure the halls are ranked by")] = RankBy.SERVED,
    format: FormatQuery = ExportFormat.JSON,
) -> Any:
    """Figures across every hall of the city for a period, in rows by county, hall, category or item, with a
    total row, each hall's figures (equal to its own report's), a ranking of halls and the daily counts."""
    halls = city_halls(state.config)
    chosen = _period(state, halls, period, date)
    if by is CityBy.COUNTY:
        built = await _report(state, city, chosen, by_county, state.config.counties, rank.value)
    else:
        grouping_of = {CityBy.HALL: by_hall, CityBy.CATEGORY: by_category, CityBy.ITEM: by_item}[by]
        built = await _report(state, city, chosen, grouping_of, halls, rank.value)
    if format is ExportFormat.JSON:
        return built
    name = f"bianmin-city-{built.scope}-{built.period}-{built.start.isoformat()}-by-{built.by}.{format.value}"
    if format is ExportFormat.CSV:
        return _file(network_to_csv(built), "text/csv; charset=utf-8", name)
    return _file(network_to_xlsx(built), XLSX, name)
