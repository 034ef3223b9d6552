"""Reports across halls (a county's halls; one level up, a city's counties): which halls, grouped how.

Each hall's period is its own report's Partial (days.py `period_partial`: the stored days plus a live
fold of the days not closed yet), so a hall's figures here are its own report's totals, exactly. The
rows group every hall's cells by a `Grouping` (by hall, category, item, or a parent such as the county
of each hall); the total merges every cell of every hall. Nothing is rounded before the merge.

A grouping whose rows are whole halls (by hall, by parent) needs no cells: each hall's Totals of the period
(months.py `halls_totals`: its stored months, its other days, live) give the same figures, and a city's year
reads twelve rows a hall instead of every day's cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from config.schema import Hall
from queue_server.reports.cases import CaseFigures, CaseReport, case_report, merge_case_figures
from queue_server.reports.days import LIVE, period_partial
from queue_server.reports.figures import Figures
from queue_server.reports.months import halls_totals
from queue_server.reports.partial import Acc, Cell, Partial, figures_of_cells
from queue_server.reports.periods import Period
from queue_server.reports.totals import Totals, figures_of_totals

Key = Hashable
NO_ITEM = ("按类别取号（未选事项）", "taken by category (no item)")

#: The figures a ranking of halls may use, and whether a larger value ranks first.
RANK_FIGURES: Mapping[str, bool] = {
    "served": True,
    "issued": True,
    "completion_rate": True,  # 办结率 of the hall's cases (CaseFigures), as its own report
    "on_time_rate": True,  # 按时办结率 of the hall's cases
    "acceptance_rate": True,  # 受理率: a share of the visits served (Figures)
    "satisfaction_rate": True,
    "by_agent": True,
    "avg_wait_s": False,
    "p90_wait_s": False,
}
#: The ranking figures read from the hall's cases, not its tickets.
CASE_RANK_FIGURES = frozenset({"completion_rate", "on_time_rate"})
RankFigure = Literal["served", "issued", "completion_rate", "on_time_rate", "acceptance_rate", "satisfaction_rate",
                     "by_agent", "avg_wait_s", "p90_wait_s"]  # fmt: skip


@dataclass(frozen=True)
class Grouping:
    """How rows are made: a key for each (hall, cell), the key's label, and the rows' order; `keys` always have
    a row (every hall, every county), with zeros when nothing happened there."""

    name: str
    label_zh: str
    label_en: str
    key: Callable[[Hall, Cell], Key]
    label: Callable[[Key], tuple[str, str]]
    order: Callable[[Key], tuple[int, int, str]]
    keys: tuple[Key, ...] = ()
    #: The key of a hall, when the key depends on the hall only: the rows are whole halls, made from their Totals.
    of_hall: Callable[[Hall], Key] | None = None


def _ordered(known: Sequence[Key]) -> Callable[[Key], tuple[int, int, str]]:
    """Keys in the given order, then any other key by its text, then None (nothing to group by) last."""
    index = {k: i for i, k in enumerate(known)}

    def order(key: Key) -> tuple[int, int, str]:
        if key is None:
            return (2, 0, "")
        return (0, index[key], "") if key in index else (1, 0, str(key))

    return order


def by_hall(halls: Sequence[Hall]) -> Grouping:
    names = {h.id: (h.name_zh, h.name_en) for h in halls}
    ids = tuple(h.id for h in halls)
    return Grouping("hall", "服务大厅", "hall", lambda hall, _cell: hall.id,
                    lambda key: names.get(str(key), (str(key), str(key))), _ordered(ids), ids,
                    lambda hall: hall.id)  # fmt: skip


def by_category(halls: Sequence[Hall]) -> Grouping:
    """Categories by code across halls, labelled and ordered as the first hall that has each."""
    names: dict[Key, tuple[str, str]] = {}
    for hall in halls:
        for category in hall.categories:
            names.setdefault(category.code, (category.name_zh, category.name_en))
    return Grouping("category", "业务类别", "category", lambda _hall, cell: cell[0],
                    lambda key: names.get(key, (str(key), str(key))), _ordered(list(names)))  # fmt: skip


def by_item(halls: Sequence[Hall]) -> Grouping:
    """Service items by id across halls (None: tickets taken by category), as the first hall names each."""
    names: dict[Key, tuple[str, str]] = {}
    for hall in halls:
        for item in hall.items:
            names.setdefault(item.id, (item.name_zh, item.name_en))

    def label(key: Key) -> tuple[str, str]:
        return NO_ITEM if key is None else names.get(key, (str(key), str(key)))

    return Grouping("item", "服务事项", "service item", lambda _hall, cell: cell[3], label, _ordered(list(names)))


def by_parent(parents: Mapping[str, tuple[str, str, str]], name: str = "county") -> Grouping:
    """Halls grouped by a parent (a city's report by county): hall id → (parent id, 中文名, English name)."""
    labels: dict[Key, tuple[str, str]] = {pid: (zh, en) for pid, zh, en in parents.values()}

    def label(key: Key) -> tuple[str, str]:
        return labels.get(key, (str(key), str(key)))

    return Grouping(name, "县（市、区）", name, lambda hall, _cell: parents[hall.id][0], label,
                    _ordered(list(labels)), tuple(labels), lambda hall: parents[hall.id][0])  # fmt: skip


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Row(Model):
    key: str | None
    label_zh: str
    label_en: str
    figures: Figures
    cases: CaseFigures | None = None  # 办件 of the row (by hall, county, category or item): its 办结率


class HallFigures(Model):
    hall: str
    name_zh: str
    name_en: str
    last_seq: int  # the newest event of the hall its figures folded
    figures: Figures  # equal to the hall's own report's totals for the period
    cases: CaseFigures | None = None  # 办件 (reports/cases.py): the hall's 办结率 from its cases, as its own report


class Ranked(Model):
    rank: int | None  # 1 is best; equal values share a rank; None: the hall has no such figure (listed last)
    hall: str
    name_zh: str
    name_en: str
    value: float | None


class DayTotal(Model):
    date: dt.date
    issued: int
    served: int
    no_shows: int


class NetworkReport(Model):
    scope: str  # the county (or city)
    name_zh: str
    name_en: str
    period: str
    start: dt.date
    end: dt.date  # the last day (inclusive)
    label_zh: str
    label_en: str
    by: str
    by_label_zh: str
    by_label_en: str
    rank_by: str
    total: Figures
    rows: list[Row]
    halls: list[HallFigures]  # every hall, in the given order
    ranking: list[Ranked]
    daily: list[DayTotal]  # all halls together, per day of issue
    cases: CaseFigures | None = None  # 办件 of all halls: 办结率 = completed / cases (reports/cases.py)


@dataclass(frozen=True)
class Scope:
    id: str
    name_zh: str
    name_en: str


def hall_partials(
    conn: Connection, halls: Sequence[Hall], period: Period, now_us: int | None = None
) -> list[tuple[Hall, Partial, int]]:
    """Each hall's Partial of the period and the newest seq it folded, as its own report computes them."""
    return [(hall, *period_partial(conn, hall, period, now_us=now_us, live=LIVE)) for hall in halls]


def network_report(
    conn: Connection,
    scope: Scope,
    halls: Sequence[Hall],
    period: Period,
    grouping: Grouping,
    rank_by: str = "served",
    *,
    now_us: int | None = None,
) -> NetworkReport:
    """The report of these halls over the period, its rows grouped by `grouping`, its halls ranked by `rank_by`."""
    if grouping.of_hall is not None:
        built = assemble_totals(scope, hall_totals(conn, halls, period, now_us), period, grouping, rank_by)
    else:
        built = assemble(scope, hall_partials(conn, halls, period, now_us), period, grouping, rank_by)
    return with_cases(conn, built, halls, period, grouping)


def grouped_report(
    conn: Connection,
    scope: Scope,
    halls: Sequence[Hall],
    period: Period,
    grouping_of: Callable[[Any], Grouping],
    grouping_arg: Any,
    rank_by: str = "served",
) -> NetworkReport:
    """`network_report` with its grouping made here, `grouping_of(grouping_arg)`: a grouping's lambdas do not
    pickle, its maker and argument do, so this runs in the store's report process (store/apart.py)."""
    return network_report(conn, scope, halls, period, grouping_of(grouping_arg), rank_by)


def with_cases(
    conn: Connection, report: NetworkReport, halls: Sequence[Hall], period: Period, grouping: Grouping
) -> NetworkReport:
    """The report with the case figures (办结率, on-time rate) of each hall, each row and in total, folded from
    each hall's case events: a township's are in the log it shipped, so its figures equal its own report's."""
    reports = {}
    for hall in halls:
        start, end = period.bounds_us(ZoneInfo(hall.timezone))
        reports[hall.id] = case_report(conn, hall.id, start, end)
    return attach_cases(report, halls, reports, grouping)


def attach_cases(
    report: NetworkReport, halls: Sequence[Hall], reports: Mapping[str, CaseReport], grouping: Grouping
) -> NetworkReport:
    """Put each hall's CaseReport into the report's halls, rows (merged by the grouping's key) and total (pure)."""
    grouped: dict[Key, list[CaseFigures]] = {}
    for hall in halls:
        one = reports[hall.id]
        if grouping.of_hall is not None:
            grouped.setdefault(grouping.of_hall(hall), []).append(one.totals)
            continue
        for row in one.by_category if grouping.name == "category" else one.by_item:
            grouped.setdefault(row.key, []).append(row.figures)
    rows = [r.model_copy(update={"cases": merge_case_figures(grouped.get(r.key, []))}) for r in report.rows]
    per_hall = [h.model_copy(update={"cases": reports[h.hall].totals}) for h in report.halls]
    total = merge_case_figures(r.totals for r in reports.values())
    return report.model_copy(update={"halls": per_hall, "rows": rows, "cases": total,
                                     "ranking": rank(per_hall, report.rank_by)})  # fmt: skip


def hall_totals(
    conn: Connection, halls: Sequence[Hall], period: Period, now_us: int | None = None
) -> list[tuple[Hall, Totals, int]]:
    """Each hall's Totals of the period and the newest seq they folded (equal to its own report's totals)."""
    return halls_totals(conn, halls, period, now_us=now_us, live=LIVE)


def assemble_totals(
    scope: Scope, totals: Sequence[tuple[Hall, Totals, int]], period: Period, grouping: Grouping, rank_by: str
) -> NetworkReport:
    """The report from each hall's Totals, its rows whole halls (pure)."""
    if rank_by not in RANK_FIGURES:
        raise ValueError(f"cannot rank by {rank_by!r}")
    assert grouping.of_hall is not None
    grouped: dict[Key, list[Totals]] = {key: [] for key in grouping.keys}
    for hall, one, _seq in totals:
        grouped.setdefault(grouping.of_hall(hall), []).append(one)
    rows = []
    for key in sorted(grouped, key=grouping.order):
        zh, en = grouping.label(key)
        rows.append(Row(key=None if key is None else str(key), label_zh=zh, label_en=en,
                        figures=figures_of_totals(grouped[key])))  # fmt: skip
    per_hall = [
        HallFigures(hall=hall.id, name_zh=hall.name_zh, name_en=hall.name_en, last_seq=seq, figures=one.figures())
        for hall, one, seq in totals
    ]
    return _report(scope, period, grouping, rank_by, figures_of_totals(one for _h, one, _s in totals), rows,
                   per_hall, daily(period, (one for _h, one, _s in totals)))  # fmt: skip


def assemble(
    scope: Scope, partials: Sequence[tuple[Hall, Partial, int]], period: Period, grouping: Grouping, rank_by: str
) -> NetworkReport:
    """The report from each hall's Partial (pure)."""
    if rank_by not in RANK_FIGURES:
        raise ValueError(f"cannot rank by {rank_by!r}")
    grouped: dict[Key, list[tuple[Key, Cell, Acc]]] = {key: [] for key in grouping.keys}
    every: list[tuple[Key, Cell, Acc]] = []
    for hall, partial, _seq in partials:
        for cell, acc in partial.cells.items():
            entry = (hall.id, cell, acc)
            every.append(entry)
            grouped.setdefault(grouping.key(hall, cell), []).append(entry)
    rows = []
    for key in sorted(grouped, key=grouping.order):
        zh, en = grouping.label(key)
        rows.append(Row(key=None if key is None else str(key), label_zh=zh, label_en=en,
                        figures=figures_of_cells(grouped[key])))  # fmt: skip
    per_hall = [
        HallFigures(hall=hall.id, name_zh=hall.name_zh, name_en=hall.name_en, last_seq=seq, figures=partial.totals())
        for hall, partial, seq in partials
    ]
    return _report(scope, period, grouping, rank_by, figures_of_cells(every), rows, per_hall,
                   daily(period, (partial for _hall, partial, _seq in partials)))  # fmt: skip


def _report(
    scope: Scope,
    period: Period,
    grouping: Grouping,
    rank_by: str,
    total: Figures,
    rows: list[Row],
    per_hall: list[HallFigures],
    days: list[DayTotal],
) -> NetworkReport:
    return NetworkReport(
        scope=scope.id,
        name_zh=scope.name_zh,
        name_en=scope.name_en,
        period=period.kind.value,
        start=period.start,
        end=period.last,
        label_zh=period.label_zh,
        label_en=period.label_en,
        by=grouping.name,
        by_label_zh=grouping.label_zh,
        by_label_en=grouping.label_en,
        rank_by=rank_by,
        total=total,
        rows=rows,
        halls=per_hall,
        ranking=rank(per_hall, rank_by),
        daily=days,
    )


def rank(halls: Sequence[HallFigures], figure: str) -> list[Ranked]:
    """Halls best first by the figure (larger first, or smaller first for waits); equal values share a rank."""
    larger_first = RANK_FIGURES[figure]
    of_cases = figure in CASE_RANK_FIGURES
    values = [(h, (getattr(h.cases, figure) if h.cases else None) if of_cases else getattr(h.figures, figure))
              for h in halls]  # fmt: skip
    known = [v for _h, v in values if v is not None]
    ordered = sorted(values, key=lambda hv: (hv[1] is None, -(hv[1] or 0) if larger_first else (hv[1] or 0)))
    result = []
    for hall, value in ordered:
        better = (1 for v in known if (v > value if larger_first else v < value)) if value is not None else None
        place = None if better is None else 1 + sum(better)
        result.append(Ranked(rank=place, hall=hall.hall, name_zh=hall.name_zh, name_en=hall.name_en,
                             value=None if value is None else float(value)))  # fmt: skip
    return result


def daily(period: Period, partials: Iterable[Partial | Totals]) -> list[DayTotal]:
    days: dict[dt.date, list[int]] = {day: [0, 0, 0] for day in period.days()}
    for partial in partials:
        for day, counts in partial.daily.items():
            entry = days.get(day)
            if entry is not None:
                for i in range(3):
                    entry[i] += counts[i]
    return [DayTotal(date=day, issued=a, served=b, no_shows=c) for day, (a, b, c) in days.items()]
