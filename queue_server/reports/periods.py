"""Report periods: a day, an ISO week (Monday to Sunday), a calendar month or year, in the hall's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

US = 1_000_000
#: Events up to this long after a period are read too: a ticket being served at midnight is
#: finished after it, and still belongs to the day it was issued.
GRACE_US = 6 * 3600 * US


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def label_zh(self) -> str:
        return {"day": "日报", "week": "周报", "month": "月报", "year": "年报"}[self.value]


@dataclass(frozen=True)
class Period:
    """The local dates [start, end) of a report."""

    kind: PeriodKind
    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, kind: PeriodKind | str, day: dt.date) -> Period:
        """The day, week, month or year that contains `day`."""
        kind = PeriodKind(kind)
        if kind is PeriodKind.DAY:
            return cls(kind, day, day + dt.timedelta(days=1))
        if kind is PeriodKind.WEEK:
            monday = day - dt.timedelta(days=day.weekday())
            return cls(kind, monday, monday + dt.timedelta(days=7))
        if kind is PeriodKind.YEAR:
            return cls(kind, dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1))
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(kind, first, following)

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days)]

    def bounds_us(self, tz: ZoneInfo) -> tuple[int, int]:
        """The period as microseconds since the epoch: local midnight of `start` to that of `end`."""
        return local_midnight_us(self.start, tz), local_midnight_us(self.end, tz)

    @property
    def label_zh(self) -> str:
        if self.kind is PeriodKind.DAY:
            return f"{self.start.year}年{self.start.month}月{self.start.day}日"
        if self.kind is PeriodKind.WEEK:
            week = self.start.isocalendar().week
            return f"{self.start.isoformat()} 至 {self.last.isoformat()}（第{week}周）"
        if self.kind is PeriodKind.YEAR:
            return f"{self.start.year}年"
        return f"{self.start.year}年{self.start.month}月"

    @property
    def label_en(self) -> str:
        if self.kind is PeriodKind.DAY:
            return self.start.isoformat()
        if self.kind is PeriodKind.WEEK:
            return f"week {self.start.isocalendar().week}, {self.start.isoformat()} to {self.last.isoformat()}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return self.start.strftime("%Y-%m")


def local_midnight_us(day: dt.date, tz: ZoneInfo) -> int:
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    return int(moment.timestamp()) * US
