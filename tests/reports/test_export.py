"""CSV and XLSX exports read back with the report's figures; report periods in the hall's time zone."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from config.schema import Hall
from queue_server.reports.export import COLUMNS, MISSING, SHEET_NAMES, cell, minutes, to_csv, to_xlsx
from queue_server.reports.periods import Period
from queue_server.reports.report import GroupBy, Report, report_from_events
from tests.reports.simulate import SHANGHAI, simulate
from tests.support.server import demo_config

MONDAY = dt.date(2026, 3, 16)


@pytest.fixture(scope="module")
def hall() -> Hall:
    return demo_config().halls[0]


@pytest.fixture(scope="module")
def report(hall: Hall) -> Report:
    sim = simulate(5, [MONDAY + dt.timedelta(days=i) for i in range(3)])
    return report_from_events(sim.events, hall, Period.of("week", MONDAY), GroupBy.WINDOW, {"liuxia": "刘霞"})


def csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    """The CSV's [sections]: title → rows (header first)."""
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    sections: dict[str, list[list[str]]] = {"": []}
    current = ""
    for row in rows:
        if len(row) == 1 and row[0].startswith("[") and row[0].endswith("]"):
            current = row[0][1:-1]
            sections[current] = []
        elif row:
            sections[current].append(row)
    return sections


def as_csv_text(value: Any) -> str:
    return str(value)


def test_the_csv_holds_the_totals_and_every_group_with_the_reports_figures(report: Report) -> None:
    sections = csv_sections(to_csv(report))
    assert sections[""][1][1] == report.hall_name_zh
    totals = {row[0]: row[1] for row in sections["汇总 Totals"][1:]}
    for column in COLUMNS:
        assert totals[column.label] == as_csv_text(cell(column, report.totals)), column.key
    assert report.totals.satisfaction_rate is not None
    assert float(totals["满意率(%) satisfaction rate (%)"]) == round(report.totals.satisfaction_rate * 100, 1)
    table = sections["按窗口 By window"]
    header, total, *groups = table
    assert header[2:] == [c.label for c in COLUMNS]
    assert total[2:] == [as_csv_text(cell(c, report.totals)) for c in COLUMNS]
    assert [row[1] for row in groups] == [g.key or "" for g in report.groups]
    for row, group in zip(groups, report.groups, strict=True):
        assert row[2:] == [as_csv_text(cell(c, group.figures)) for c in COLUMNS]
    hourly = sections["每小时取号 Hourly arrivals"][1:]
    assert [int(row[1]) for row in hourly] == report.hourly_arrivals
    waits = sections["等候时长分布 Wait distribution"][1:]
    assert [int(row[1]) for row in waits] == [b.count for b in report.wait_bins]
    daily = sections["每日 Daily"][1:]
    assert [(row[0], int(row[1]), int(row[2]), int(row[3])) for row in daily] == [
        (d.date.isoformat(), d.issued, d.served, d.no_shows) for d in report.daily
    ]


def test_the_xlsx_holds_the_same_figures_as_numbers_with_rates_as_fractions(report: Report) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    assert book.sheetnames == list(SHEET_NAMES)
    summary = book["汇总 Summary"]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert values["大厅 Hall"] == report.hall_name_zh
    assert values["取号数 issued"] == report.totals.issued
    assert values["平均等候(分钟) avg wait (min)"] == minutes(report.totals.avg_wait_s)
    assert values["受理率(%) visits accepted (%)"] == report.totals.acceptance_rate
    assert values["满意率(%) satisfaction rate (%)"] == report.totals.satisfaction_rate
    rate_row = next(r for r in summary.iter_rows() if r[0].value == "受理率(%) visits accepted (%)")
    assert rate_row[1].number_format == "0.0%"
    groups = [row for row in book["分组 Groups"].iter_rows(values_only=True)]
    header = groups[1]
    assert list(header[2:]) == [c.label for c in COLUMNS]
    by_key = {row[1]: row for row in groups[3:]}
    for group in report.groups:
        row = by_key[group.key or None]
        assert row[2] == group.figures.issued
        assert row[4] == group.figures.served
        assert row[header.index("受理率(%) visits accepted (%)")] == (
            group.figures.acceptance_rate if group.figures.acceptance_rate is not None else MISSING
        )
    hourly = [row[1] for row in book["每小时 Hourly"].iter_rows(min_row=3, values_only=True)]
    assert hourly == report.hourly_arrivals


def test_a_satisfaction_rate_without_ratings_is_written_as_a_dash_with_a_note(hall: Hall) -> None:
    sim = simulate(6, [MONDAY], ratings=False)
    report = report_from_events(sim.events, hall, Period.of("day", MONDAY), GroupBy.CATEGORY, {})
    totals = {row[0]: row[1:] for row in csv_sections(to_csv(report))["汇总 Totals"][1:]}
    assert totals["满意率(%) satisfaction rate (%)"] == [MISSING, "尚无评价 not yet rated"]
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    values = {r[0]: r[1] for r in book["汇总 Summary"].iter_rows(values_only=True) if r and r[0]}
    assert values["满意率(%) satisfaction rate (%)"] == MISSING


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("day", dt.date(2026, 3, 18), dt.date(2026, 3, 18), dt.date(2026, 3, 19)),
        ("week", dt.date(2026, 3, 18), dt.date(2026, 3, 16), dt.date(2026, 3, 23)),
        ("week", dt.date(2026, 3, 22), dt.date(2026, 3, 16), dt.date(2026, 3, 23)),
        ("month", dt.date(2026, 2, 14), dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
        ("month", dt.date(2026, 12, 31), dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
    ],
)
def test_periods_are_a_day_an_iso_week_or_a_month(kind: str, day: dt.date, start: dt.date, end: dt.date) -> None:
    period = Period.of(kind, day)
    assert (period.start, period.end) == (start, end)
    first, last = period.bounds_us(SHANGHAI)
    assert first == int(dt.datetime(start.year, start.month, start.day, tzinfo=SHANGHAI).timestamp()) * 1_000_000
    assert (last - first) == (end - start).days * 86_400_000_000


def test_period_labels_are_chinese_first() -> None:
    assert Period.of("day", MONDAY).label_zh == "2026年3月16日"
    assert Period.of("week", MONDAY).label_zh == "2026-03-16 至 2026-03-22（第12周）"
    assert Period.of("month", MONDAY).label_zh == "2026年3月"
