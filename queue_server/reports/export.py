"""A report as CSV (UTF-8 with a BOM, so Excel reads the Chinese) and as an XLSX workbook (openpyxl).

Both hold the same sections: totals, the figures by group (with a total row), hourly arrivals, the
wait-time distribution, service time per item and the daily counts. A report across halls (network.py,
the county dashboard, the city rollup) has its rows with the total first, the ranking of halls and the daily
counts; a city's headline table (city.py) its line per county and the total.
Times are in minutes with one decimal, rates in percent with one decimal; a figure that does not exist
(the satisfaction rate when nothing was rated, an average of nothing) is written as "—", never as 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from queue_server.reports.cases import CaseRow
from queue_server.reports.city import Headline, HeadlineRow
from queue_server.reports.figures import CASE_CLASSES, RATING_LEVELS, Figures, case_class_labels
from queue_server.reports.network import NetworkReport
from queue_server.reports.report import Report

MISSING = "—"
NOT_RATED = "尚无评价 not yet rated"


@dataclass(frozen=True)
class Column:
    key: str
    label_zh: str
    label_en: str
    kind: str  # "count", "minutes" or "rate"

    @property
    def label(self) -> str:
        return f"{self.label_zh} {self.label_en}"

    def raw(self, figures: Figures) -> Any:
        if self.key.startswith("case:"):
            return figures.case_classes[self.key.removeprefix("case:")]
        if self.key.startswith("rating:"):
            return figures.ratings[self.key.removeprefix("rating:")]
        return getattr(figures, self.key)


#: 好差评 levels: (中文, English), best first (as queue_server/services/ratings.py LEVELS).
RATING_LABELS = {
    "very_satisfied": ("非常满意", "very satisfied"),
    "satisfied": ("满意", "satisfied"),
    "basic": ("基本满意", "fairly satisfied"),
    "dissatisfied": ("不满意", "dissatisfied"),
    "very_dissatisfied": ("非常不满意", "very dissatisfied"),
}
assert tuple(RATING_LABELS) == RATING_LEVELS


COLUMNS: tuple[Column, ...] = (
    Column("issued", "取号数", "issued", "count"),
    Column("called", "叫号数", "called", "count"),
    Column("served", "办结登记", "served", "count"),
    Column("no_shows", "过号", "no-shows", "count"),
    Column("transferred", "转移", "transferred", "count"),
    Column("avg_wait_s", "平均等候(分钟)", "avg wait (min)", "minutes"),
    Column("p90_wait_s", "90%等候(分钟)", "p90 wait (min)", "minutes"),
    Column("max_wait_s", "最长等候(分钟)", "longest wait (min)", "minutes"),
    Column("avg_service_s", "平均办理(分钟)", "avg service (min)", "minutes"),
    Column("min_service_s", "最短办理(分钟)", "shortest service (min)", "minutes"),
    Column("max_service_s", "最长办理(分钟)", "longest service (min)", "minutes"),
    Column("on_the_spot", "现场办理", "on the spot", "count"),
    Column("by_agent", "代办", "by agent", "count"),
    Column("completion_rate", "办结率(%)", "completion rate (%)", "rate"),
    Column("satisfaction_rate", "满意率(%)", "satisfaction rate (%)", "rate"),
    Column("rated", "评价数", "ratings", "count"),
    *(Column(f"rating:{level}", zh, en, "count") for level, (zh, en) in RATING_LABELS.items()),
    Column("staff", "工作人员", "staff", "count"),
    Column("windows", "窗口", "windows", "count"),
    *(Column(f"case:{code}", zh, en, "count") for code, (zh, en) in case_class_labels().items()),
)
assert [c.key.removeprefix("case:") for c in COLUMNS[-len(CASE_CLASSES) :]] == list(CASE_CLASSES)
#: The cross-hall report's columns: direct (直接办结) and agent (委托代办) cases under the county's words.
NETWORK_COLUMNS: tuple[Column, ...] = tuple(
    Column(c.key, "直接办结", "direct", c.kind) if c.key == "on_the_spot"
    else Column(c.key, "委托代办", "by agent", c.kind) if c.key == "by_agent" else c
    for c in COLUMNS
)  # fmt: skip


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def cell(column: Column, figures: Figures) -> int | float | str:
    """A figure as the CSV writes it (and as the XLSX shows it)."""
    value = column.raw(figures)
    if column.kind == "minutes":
        value = minutes(value)
    elif column.kind == "rate":
        value = percent(value)
    return MISSING if value is None else value


def _headline(report: Report) -> list[list[Any]]:
    return [
        ["便民 Bianmin 服务报表 Service report"],
        ["大厅 Hall", report.hall_name_zh, report.hall],
        ["期间 Period", report.label_zh, report.start.isoformat(), report.end.isoformat()],
        ["分组 Grouped by", report.by.label_zh, report.by.value],
        ["事件序号 Last event seq", report.last_seq],
    ]


def _sections(report: Report, value: Callable[[Column, Figures], Any]) -> list[tuple[str, list[list[Any]]]]:
    """The report's tables: (title, rows with a header row first)."""
    totals: list[list[Any]] = [["指标 Figure", "数值 Value"]]
    for column in COLUMNS:
        shown = value(column, report.totals)
        if column.key == "satisfaction_rate" and report.totals.satisfaction_rate is None:
            totals.append([column.label, shown, NOT_RATED])
        else:
            totals.append([column.label, shown])
    if report.complaints is not None:  # 投诉举报 of the period (queue_server/reports/complaints.py)
        c = report.complaints
        totals += [
            ["投诉举报 Complaints received", c.received],
            ["已答复 Answered", c.answered],
            ["按期答复 Answered on time", c.answered_on_time],
            ["超期答复 Answered late", c.answered_late],
            ["逾期未答复 Overdue, not answered", c.overdue],
        ]
    by: list[list[Any]] = [[f"{report.by.label_zh} {report.by.value}", "key", *(c.label for c in COLUMNS)]]
    by.append(["合计 Total", "", *(value(c, report.totals) for c in COLUMNS)])
    for group in report.groups:
        by.append([group.label_zh, group.key or "", *(value(c, group.figures) for c in COLUMNS)])
    hourly: list[list[Any]] = [["小时 Hour", "取号数 Issued"]]
    hourly += [[f"{hour:02d}:00", count] for hour, count in enumerate(report.hourly_arrivals)]
    waits: list[list[Any]] = [
        ["等候(分钟) Wait (min)", "人数 Tickets"],
        *([b.label, b.count] for b in report.wait_bins),
    ]
    items: list[list[Any]] = [["事项 Item", "item_id", "办结登记 Served", "平均办理(分钟) Avg service (min)"]]
    items += [[s.name_zh, s.item_id or "", s.served, minutes(s.avg_service_s)] for s in report.service_by_item]
    daily: list[list[Any]] = [["日期 Date", "取号数 Issued", "办结登记 Served", "过号 No-shows"]]
    daily += [[d.date.isoformat(), d.issued, d.served, d.no_shows] for d in report.daily]
    return [
        ("汇总 Totals", totals),
        (f"按{report.by.label_zh} By {report.by.value}", by),
        ("每小时取号 Hourly arrivals", hourly),
        ("等候时长分布 Wait distribution", waits),
        ("事项办理时长 Service time per item", items),
        ("每日 Daily", daily),
        ("办件 Cases (办结率, 按时办结率, 平均办结用时)", case_rows(report)),
    ]


CASE_HEAD = ["分组 Group", "key", "受理 Cases", "办结 Completed", "办结率 Completion %", "按时办结 On time",
             "按时办结率 On-time %", "平均办结(工作日) Mean days", "退回 Returned", "不予受理 Rejected",
             "代理件 By agent", "代理件占比 Agent share %"]  # fmt: skip


def case_rows(report: Report) -> list[list[Any]]:
    """The case figures (reports/cases.py): the total, then by item, category, window, clerk and agent point."""
    rows: list[list[Any]] = [CASE_HEAD]
    cases = report.cases
    if cases is None:
        return rows

    def line(group: str, row: CaseRow, point: bool = False) -> list[Any]:
        f = row.figures  # a point's share is of all the period's cases (its own are all 代理件)
        return [group, row.key or "", f.cases, f.completed, _pct(f.completion_rate), f.on_time, _pct(f.on_time_rate),
                MISSING if f.mean_days is None else f.mean_days, f.returned, f.rejected, f.by_agent,
                _pct(row.share if point else f.agent_share)]  # fmt: skip

    rows.append(line("合计 Total", CaseRow(key=None, figures=cases.totals)))
    for group, found in (("事项 Item", cases.by_item), ("类别 Category", cases.by_category),
                         ("窗口 Window", cases.by_window), ("人员 Clerk", cases.by_clerk)):  # fmt: skip
        rows += [line(group, r) for r in found]
    rows += [line("代办点 Agent point", r, point=True) for r in cases.by_point]
    return rows


def _pct(rate: float | None) -> Any:
    shown = percent(rate)
    return MISSING if shown is None else shown


def to_csv(report: Report) -> bytes:
    """The report as CSV: a headline, then each section after a blank line and its [title]."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_headline(report))
    for title, rows in _sections(report, cell):
        writer.writerow([])
        writer.writerow([f"[{title}]"])
        writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


SHEET_NAMES = (
    "汇总 Summary",
    "分组 Groups",
    "每小时 Hourly",
    "等候分布 Waits",
    "事项 Items",
    "每日 Daily",
    "办件 Cases",
)


def _xlsx_value(column: Column, figures: Figures) -> Any:
    raw = column.raw(figures)
    if raw is None:
        return MISSING
    return minutes(raw) if column.kind == "minutes" else raw


def to_xlsx(report: Report) -> bytes:
    """The report as a workbook: one sheet per section; rates are stored as fractions shown as %."""
    return _workbook(_headline(report), _sections(report, _xlsx_value), SHEET_NAMES)


def _workbook(headline: list[list[Any]], sections: list[tuple[str, list[list[Any]]]], names: tuple[str, ...]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)
    for index, ((title, rows), name) in enumerate(zip(sections, names, strict=True)):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = name
        lead = [*headline, []] if index == 0 else []
        for row in [*lead, [title], *rows]:
            sheet.append(row)
        header_row = len(lead) + 2
        for header in sheet[header_row]:
            header.font = bold
        sheet.cell(row=len(lead) + 1, column=1).font = Font(bold=True, size=13)
        _format(sheet, rows, header_row)
        sheet.column_dimensions["A"].width = 26
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _format(sheet: Any, rows: list[list[Any]], header_row: int) -> None:
    """Percent and one-decimal formats for the columns that need them."""
    header = rows[0]
    for col, label in enumerate(header, start=1):
        text = str(label)
        if "(%)" in text:
            fmt = "0.0%"
        elif "(分钟)" in text:
            fmt = "0.0"
        else:
            continue
        for (target,) in sheet.iter_rows(min_row=header_row + 1, min_col=col, max_col=col):
            if isinstance(target.value, int | float):
                target.number_format = fmt
    if header[0] == "指标 Figure":  # the totals: one row per figure
        for label_cell, value_cell, *_rest in sheet.iter_rows(min_row=header_row + 1):
            text = str(label_cell.value)
            if isinstance(value_cell.value, int | float):
                value_cell.number_format = "0.0%" if "(%)" in text else "0.0" if "(分钟)" in text else "0"


# --- a report across halls (reports/network.py) ------------------------------------------------------


def _network_headline(report: NetworkReport) -> list[list[Any]]:
    return [
        ["便民 Bianmin 汇总报表 Report across halls"],
        ["范围 Scope", report.name_zh, report.scope],
        ["期间 Period", report.label_zh, report.start.isoformat(), report.end.isoformat()],
        ["分组 Grouped by", report.by_label_zh, report.by],
        ["服务大厅 Halls", len(report.halls)],
    ]


def _network_sections(
    report: NetworkReport, value: Callable[[Column, Figures], Any]
) -> list[tuple[str, list[list[Any]]]]:
    columns = NETWORK_COLUMNS
    rows: list[list[Any]] = [[f"{report.by_label_zh} {report.by}", "key", *(c.label for c in columns)]]
    rows.append(["合计 Total", "", *(value(c, report.total) for c in columns)])
    rows += [[r.label_zh, r.key or "", *(value(c, r.figures) for c in columns)] for r in report.rows]
    ranked = next(c for c in columns if c.key == report.rank_by)
    ranking: list[list[Any]] = [["名次 Rank", "服务大厅 Hall", "hall", ranked.label]]
    by_hall = {h.hall: h.figures for h in report.halls}
    ranking += [[r.rank if r.rank is not None else MISSING, r.name_zh, r.hall, value(ranked, by_hall[r.hall])]
                for r in report.ranking]  # fmt: skip
    daily: list[list[Any]] = [["日期 Date", "取号数 Issued", "办结登记 Served", "过号 No-shows"]]
    daily += [[d.date.isoformat(), d.issued, d.served, d.no_shows] for d in report.daily]
    return [
        (f"按{report.by_label_zh} By {report.by}", rows),
        (f"排名（{ranked.label_zh}） Ranking by {ranked.label_en}", ranking),
        ("每日 Daily", daily),
    ]


NETWORK_SHEETS = ("分组 Groups", "排名 Ranking", "每日 Daily")


def network_to_csv(report: NetworkReport) -> bytes:
    """The report across halls as CSV: a headline, then its rows (total first), the ranking and the days."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_network_headline(report))
    for title, rows in _network_sections(report, cell):
        writer.writerow([])
        writer.writerow([f"[{title}]"])
        writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def network_to_xlsx(report: NetworkReport) -> bytes:
    """The report across halls as a workbook: one sheet per section, rates as fractions shown as %."""
    return _workbook(_network_headline(report), _network_sections(report, _xlsx_value), NETWORK_SHEETS)


# --- a city's headline table (reports/city.py) --------------------------------------------------------

HEADLINE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("centers", "服务中心", "centers"),
    ("centers_active", "有办件的中心", "centers active"),
    ("windows", "窗口（配置）", "windows configured"),
    ("windows_used", "窗口（办件）", "windows used"),
    ("staff", "工作人员", "staff"),
    ("served", "办件量", "cases handled"),
    ("on_the_spot", "直接办结", "direct"),
    ("by_agent", "委托代办", "by agent"),
    ("completion_rate", "办结率 (%)", "completion rate"),
    ("satisfaction_rate", "满意率 (%)", "satisfaction rate"),
)


def _headline_rows(table: Headline, rate: Callable[[float | None], Any]) -> list[list[Any]]:
    def line(row: HeadlineRow) -> list[Any]:
        values = [getattr(row, key) for key, _zh, _en in HEADLINE_COLUMNS]
        return [
            row.name_zh,
            row.county or "",
            *(
                rate(v) if key.endswith("_rate") else v
                for (key, _zh, _en), v in zip(HEADLINE_COLUMNS, values, strict=True)
            ),
        ]

    rows: list[list[Any]] = [["县（市、区） County", "county", *(f"{zh} {en}" for _key, zh, en in HEADLINE_COLUMNS)]]
    return [*rows, *(line(row) for row in table.counties), line(table.total)]


def _headline_head(table: Headline) -> list[list[Any]]:
    return [
        ["便民 Bianmin 市级汇总 City rollup"],
        ["城市 City", table.name_zh, table.city],
        ["期间 Period", table.label_zh, table.start.isoformat(), table.end.isoformat()],
    ]


def headline_to_csv(table: Headline) -> bytes:
    """The city's headline table as CSV (UTF-8 with a BOM): a line per county, then the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_headline_head(table))
    writer.writerow([])
    writer.writerows(_headline_rows(table, lambda v: MISSING if v is None else percent(v)))
    return out.getvalue().encode("utf-8-sig")


def headline_to_xlsx(table: Headline) -> bytes:
    """The city's headline table as a workbook (rates as fractions shown as %)."""
    rows = _headline_rows(table, lambda v: MISSING if v is None else v)
    return _workbook(_headline_head(table), [("市级汇总 City rollup", rows)], ("汇总 Headline",))
