"""A report of a day, week or month: totals, figures by category, window or clerk, and the charts' series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from config.schema import Hall
from queue_server.reports.cases import CaseReport, case_report
from queue_server.reports.complaints import ComplaintFigures, complaint_figures
from queue_server.reports.days import LIVE, period_partial
from queue_server.reports.events import EventRow, iter_events
from queue_server.reports.figures import WAIT_BINS_MIN, FigureBuilder, Figures
from queue_server.reports.partial import Cell, Partial, partial_of
from queue_server.reports.periods import GRACE_US, Period
from queue_server.reports.remote import RemoteFigures, remote_figures
from queue_server.store.tables import users

__all__ = ["GRACE_US", "GroupBy", "Report", "build_report", "full_report", "report_from_events", "report_from_facts"]

NOT_CALLED = ("未叫号", "not called")


class GroupBy(StrEnum):
    CATEGORY = "category"
    WINDOW = "window"
    CLERK = "clerk"

    @property
    def label_zh(self) -> str:
        return {"category": "业务类别", "window": "窗口", "clerk": "工作人员"}[self.value]

    @property
    def label_en(self) -> str:
        return {"category": "category", "window": "window", "clerk": "clerk"}[self.value]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Group(Model):
    key: str | None
    label_zh: str
    label_en: str
    figures: Figures


class WaitBin(Model):
    from_min: int
    to_min: int | None  # None: open-ended
    count: int

    @property
    def label(self) -> str:
        return f"{self.from_min}–{self.to_min}" if self.to_min is not None else f"≥{self.from_min}"


class ItemService(Model):
    item_id: str | None  # None: tickets taken by category, without an item
    name_zh: str
    name_en: str
    served: int
    avg_service_s: float


class DayCount(Model):
    date: dt.date
    issued: int
    served: int
    no_shows: int


class Report(Model):
    hall: str
    hall_name_zh: str
    hall_name_en: str
    period: str
    start: dt.date
    end: dt.date  # the last day of the period (inclusive)
    label_zh: str
    label_en: str
    by: GroupBy
    last_seq: int
    totals: Figures
    groups: list[Group]
    hourly_arrivals: list[int]  # 24 hours, local time
    wait_bins: list[WaitBin]
    service_by_item: list[ItemService]
    daily: list[DayCount]
    cases: CaseReport | None = None  # 办件: 办结率, on-time rate, mean days (reports/cases.py); None from events alone
    complaints: ComplaintFigures | None = None  # 投诉举报 filed in the period (routes add it: reports/complaints.py)
    remote: RemoteFigures | None = None  # 远程取号 of the period (routes add it: reports/remote.py); None: none


def staff_names(conn: Connection) -> dict[str, str]:
    """Username → display name of every account (deactivated ones too: they appear in old reports)."""
    return {r.username: r.display_name for r in conn.execute(select(users.c.username, users.c.display_name))}


def read_period(conn: Connection, hall: Hall, period: Period) -> FigureBuilder:
    """The facts of the tickets issued in the period, folded in one go from the hall's event log."""
    start, end = period.bounds_us(ZoneInfo(hall.timezone))
    return FigureBuilder(start, end).feed(iter_events(conn, hall.id, start, end + GRACE_US))


def build_report(
    conn: Connection, hall: Hall, period: Period, by: GroupBy, *, now_us: int | None = None, stored: bool = True
) -> Report:
    """The period's report: its closed days from the stored day figures (folding and storing those
    not stored yet), the others from their events (days.py). With stored=False, one fold of every event.

    `conn` is a read connection outside any explicit transaction (as Store.read gives it): days folded
    here are stored after the read's transaction ends, in a short transaction of their own.
    """
    names = staff_names(conn)
    start, end = period.bounds_us(ZoneInfo(hall.timezone))
    if not stored:
        built = report_from_facts(read_period(conn, hall, period), hall, period, by, names)
    else:
        partial, last_seq = period_partial(conn, hall, period, now_us=now_us, live=LIVE)
        built = report_from_partial(partial, last_seq, hall, period, by, names)
    return built.model_copy(update={"cases": case_report(conn, hall.id, start, end)})


def full_report(conn: Connection, hall: Hall, period: Period, by: GroupBy, today: dt.date) -> Report:
    """The report the manager gets: `build_report` with the period's complaints and remote tickets (today: the
    hall's local day, for the complaints' overdue count). Module-level: it runs in the store's report process."""
    tz = ZoneInfo(hall.timezone)
    built = build_report(conn, hall, period, by)
    return built.model_copy(
        update={
            "complaints": complaint_figures(conn, hall.id, tz, period, today),
            "remote": remote_figures(conn, hall.id, tz, period),
        }
    )


def report_from_events(
    events: Iterable[EventRow], hall: Hall, period: Period, by: GroupBy, names: Mapping[str, str]
) -> Report:
    """The report of a period from events in log order (pure: for tests and tools)."""
    start, end = period.bounds_us(ZoneInfo(hall.timezone))
    return report_from_facts(FigureBuilder(start, end).feed(events), hall, period, by, names)


def report_from_facts(
    builder: FigureBuilder, hall: Hall, period: Period, by: GroupBy, names: Mapping[str, str]
) -> Report:
    partial = partial_of(builder.tickets.values(), ZoneInfo(hall.timezone))
    return report_from_partial(partial, builder.last_seq, hall, period, by, names)


def report_from_partial(
    partial: Partial, last_seq: int, hall: Hall, period: Period, by: GroupBy, names: Mapping[str, str]
) -> Report:
    per_day = partial.daily
    return Report(
        hall=hall.id,
        hall_name_zh=hall.name_zh,
        hall_name_en=hall.name_en,
        period=period.kind.value,
        start=period.start,
        end=period.last,
        label_zh=period.label_zh,
        label_en=period.label_en,
        by=by,
        last_seq=last_seq,
        totals=partial.totals(),
        groups=groups(partial, hall, by, names),
        hourly_arrivals=list(partial.hourly),
        wait_bins=[
            WaitBin(from_min=low, to_min=WAIT_BINS_MIN[i + 1] if i + 1 < len(WAIT_BINS_MIN) else None,
                    count=partial.waits[i])
            for i, low in enumerate(WAIT_BINS_MIN)
        ],
        service_by_item=item_services(partial, hall),
        daily=[DayCount(date=day, issued=0, served=0, no_shows=0) if day not in per_day else
               DayCount(date=day, issued=per_day[day][0], served=per_day[day][1], no_shows=per_day[day][2])
               for day in period.days()],
    )  # fmt: skip


def groups(partial: Partial, hall: Hall, by: GroupBy, names: Mapping[str, str]) -> list[Group]:
    """The figures of each category, window or clerk, in the hall's order; tickets never called last."""
    key: Callable[[Cell], Hashable]
    order: dict[Hashable, int]
    if by is GroupBy.CATEGORY:
        order = {c.code: i for i, c in enumerate(hall.categories)}
        key = _category_key
    elif by is GroupBy.WINDOW:
        order = {w.number: i for i, w in enumerate(hall.windows)}
        key = _window_key
    else:
        order = {}
        key = _clerk_key
    figures = partial.group_by(key)

    def rank(k: Hashable) -> tuple[int, int, str]:
        if k is None:
            return (2, 0, "")
        return (0, order[k], "") if k in order else (1, 0, str(k))

    result = []
    for k in sorted(figures, key=rank):
        zh, en = _label(hall, by, k, names)
        result.append(Group(key=None if k is None else str(k), label_zh=zh, label_en=en, figures=figures[k]))
    return result


def _category_key(cell: Cell) -> Hashable:
    return cell[0]


def _window_key(cell: Cell) -> Hashable:
    return cell[1]


def _clerk_key(cell: Cell) -> Hashable:
    return cell[2]


def _label(hall: Hall, by: GroupBy, key: Hashable, names: Mapping[str, str]) -> tuple[str, str]:
    if key is None:
        return NOT_CALLED
    if by is GroupBy.CATEGORY:
        try:
            category = hall.category(str(key))
        except KeyError:
            return str(key), str(key)
        return category.name_zh, category.name_en
    if by is GroupBy.WINDOW:
        assert isinstance(key, int)
        try:
            window = hall.window(key)
        except KeyError:
            return f"{key}号窗口", f"Window {key}"
        return f"{key}号 {window.name_zh}", f"Window {key} {window.name_en}"
    name = names.get(str(key), str(key))
    return f"{name}（{key}）" if name != key else name, str(key)


def item_services(partial: Partial, hall: Hall) -> list[ItemService]:
    """Mean service time per service item, most served first."""
    result = []
    for item_id, (served, mean_s) in partial.service_by_item().items():
        if item_id is None:
            zh, en = "按类别取号（未选事项）", "taken by category (no item)"
        else:
            try:
                item = hall.item(item_id)
                zh, en = item.name_zh, item.name_en
            except KeyError:
                zh = en = item_id
        result.append(ItemService(item_id=item_id, name_zh=zh, name_en=en, served=served, avg_service_s=mean_s))
    result.sort(key=lambda s: (-s.served, s.item_id or ""))
    return result
