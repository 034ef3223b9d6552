"""The hall's published monthly figures (政务公开, the public page /q/{hall}): last month's report, for everyone.

Published monthly: the figures of the last whole calendar month, from the same report the managers
read (queue_server/reports/report.py), so a published figure equals the manager's monthly figure: 办件量,
办结率 and 按时办结率 are the report's case figures (`cases.totals`, reports/cases.py), the waits and 满意率
its ticket figures. Only totals, never a clerk or a ticket. A figure that does not exist (no case, nothing
completed, no rating) is None, shown as "—", never an invented 0.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from config.schema import Hall
from queue_server.reports.complaints import ComplaintFigures, complaint_figures
from queue_server.reports.periods import Period, PeriodKind
from queue_server.reports.report import GroupBy, build_report


class PublishedFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    hall: str
    month: str  # YYYY-MM
    label_zh: str  # 2026年2月
    label_en: str
    published_on: dt.date  # the first day of the following month
    next_on: dt.date  # when the next month's figures appear
    tickets_issued: int
    served: int  # visits finished with a case class
    cases: int  # 办件量: cases accepted (受理) in the month (the report's cases.totals.cases)
    completed: int  # cases completed (办结) in the month
    completion_rate: float | None  # 办结率 = completed / cases, 0..1 (reports/cases.py)
    on_time_rate: float | None  # 按时办结率 = completed on time / completed
    satisfaction_rate: float | None  # 满意率, 0..1
    rated: int
    avg_wait_s: float | None
    complaints: ComplaintFigures


def last_month(today: dt.date) -> Period:
    return Period.of(PeriodKind.MONTH, today.replace(day=1) - dt.timedelta(days=1))


def published_figures(conn: Connection, hall: Hall, today: dt.date) -> PublishedFigures:
    """Last month's figures of the hall, as published on the first of this month."""
    month = last_month(today)
    report = build_report(conn, hall, month, GroupBy.CATEGORY)
    totals = report.totals
    assert report.cases is not None  # build_report always folds the case events
    cases = report.cases.totals
    following = Period.of(PeriodKind.MONTH, month.end)
    return PublishedFigures(
        hall=hall.id,
        month=month.start.strftime("%Y-%m"),
        label_zh=month.label_zh,
        label_en=month.start.strftime("%B %Y"),
        published_on=month.end,
        next_on=following.end,
        tickets_issued=totals.issued,
        served=totals.served,
        cases=cases.cases,
        completed=cases.completed,
        completion_rate=cases.completion_rate,
        on_time_rate=cases.on_time_rate,
        satisfaction_rate=totals.satisfaction_rate,
        rated=totals.rated,
        avg_wait_s=totals.avg_wait_s,
        complaints=complaint_figures(conn, hall.id, ZoneInfo(hall.timezone), month, today),
    )
