"""The city rollup (市级汇总): the reports across halls one level up, and the headline table of a city.

A city's halls are every hall of its counties (`HallConfig.townships` at a city, relayed by each county); the
rows of its report group them by county (network.py `by_parent`). The headline table is the reference
deployment's: per county and in total, the centers, windows, staff, visits served, direct versus agent visits,
the cases (受理), 办结率 and on-time rate (reports/cases.py: completed / cases, as every hall's report) and
满意率 — each figure one of the report's, merged over the county's halls as the report merges them, so a
county's headline figures are its row of the report by county, exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from config.schema import City, CityCounty, Hall, HallConfig
from queue_server.reports.cases import CaseFigures, merge_case_figures
from queue_server.reports.figures import Figures
from queue_server.reports.network import Grouping, NetworkReport, Scope, by_parent


def city_halls(config: HallConfig) -> list[Hall]:
    """The city's halls, county by county in the configuration's order (each county's own halls, then its
    townships)."""
    halls = {hall.id: hall for hall in config.townships}
    return [halls[hall] for county in config.counties for hall in county.halls if hall in halls]


def by_county(counties: Sequence[CityCounty]) -> Grouping:
    """The city's report rows: one per county (every county has one, with zeros where nothing happened)."""
    return by_parent({hall: (c.id, c.name_zh, c.name_en) for c in counties for hall in c.halls}, "county")


def city_scope(city: City) -> Scope:
    return Scope(city.id, city.name_zh, city.name_en)


class HeadlineRow(BaseModel):
    """One county's line of the headline table (or the city's total)."""

    model_config = ConfigDict(frozen=True)

    county: str | None  # None: the city's total
    name_zh: str
    name_en: str
    centers: int  # 服务中心: the halls of the county in the configuration
    centers_active: int  # of those, the halls with at least one ticket issued in the period
    windows: int  # 窗口: the windows configured in those halls
    windows_used: int  # the windows at which at least one case was finished in the period (once in each hall)
    staff: int  # 工作人员: distinct clerks who finished at least one case (once in each hall)
    issued: int  # 取号
    served: int  # 服务人次: visits served, i.e. tickets finished with a case class (六件管理)
    on_the_spot: int  # 直接办理: visits served − 代理件
    by_agent: int  # 委托代办: visits finished as 代理件
    cases: int  # 受理件数: cases opened in the period (reports/cases.py)
    completed: int  # 办结件数: cases completed in the period
    completion_rate: float | None  # 办结率 = completed / cases (None without cases)
    on_time_rate: float | None  # 按时办结率 = completed by the due date / completed
    satisfaction_rate: float | None  # 满意率: ratings of 基本满意 or better / ratings
    rated: int


class Headline(BaseModel):
    """The city's headline table for a period: a line per county, and the total."""

    model_config = ConfigDict(frozen=True)

    city: str
    name_zh: str
    name_en: str
    period: str
    start: dt.date
    end: dt.date  # the last day (inclusive)
    label_zh: str
    label_en: str
    counties: list[HeadlineRow]
    total: HeadlineRow


def _row(
    key: str | None, zh: str, en: str, halls: Sequence[Hall], figures: Figures, cases: CaseFigures | None, active: int
) -> HeadlineRow:
    cases = cases or merge_case_figures([])
    return HeadlineRow(
        county=key, name_zh=zh, name_en=en, centers=len(halls), centers_active=active,
        windows=sum(len(hall.windows) for hall in halls), windows_used=figures.windows, staff=figures.staff,
        issued=figures.issued, served=figures.served, on_the_spot=figures.on_the_spot, by_agent=figures.by_agent,
        cases=cases.cases, completed=cases.completed, completion_rate=cases.completion_rate,
        on_time_rate=cases.on_time_rate, satisfaction_rate=figures.satisfaction_rate, rated=figures.rated,
    )  # fmt: skip


def headline(report: NetworkReport, config: HallConfig) -> Headline:
    """The headline table of a city's report grouped by county (pure)."""
    if report.by != "county":
        raise ValueError("the headline table is made from the report by county")
    halls = {hall.id: hall for hall in city_halls(config)}
    issued = {h.hall: h.figures.issued for h in report.halls}
    rows = {row.key: row for row in report.rows}
    lines = []
    for county in config.counties:
        mine = [halls[h] for h in county.halls if h in halls]
        active = sum(1 for hall in mine if issued.get(hall.id, 0) > 0)
        lines.append(_row(county.id, county.name_zh, county.name_en, mine, rows[county.id].figures,
                          rows[county.id].cases, active))  # fmt: skip
    active = sum(1 for n in issued.values() if n > 0)
    total = _row(None, "全市合计", "city total", list(halls.values()), report.total, report.cases, active)
    return Headline(city=report.scope, name_zh=report.name_zh, name_en=report.name_en, period=report.period,
                    start=report.start, end=report.end, label_zh=report.label_zh,
                    label_en=report.label_en, counties=lines, total=total)  # fmt: skip
