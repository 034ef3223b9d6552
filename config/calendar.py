"""The working-day calendar from config: official schedules, one `config/calendar/<year>.toml` per year."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.schema import CalendarYear, HallConfig
from queue_server.domain.workdays import WorkCalendar

BUNDLED_DIR = Path(__file__).with_name("calendar")


def build_calendar(years: Sequence[CalendarYear]) -> WorkCalendar:
    """A WorkCalendar from yearly schedules; every day from a holiday's start to its end is a holiday."""
    numbers = [year.year for year in years]
    repeated = sorted({number for number in numbers if numbers.count(number) > 1})
    if repeated:
        raise ValueError(f"calendar year given twice: {', '.join(map(str, repeated))}")
    holidays: set[date] = set()
    makeup: set[date] = set()
    for year in years:
        for holiday in year.holidays:
            for offset in range((holiday.end - holiday.start).days + 1):
                holidays.add(holiday.start + timedelta(days=offset))
            makeup.update(holiday.makeup_workdays)
    return WorkCalendar(frozenset(holidays), frozenset(makeup), frozenset(numbers))


def load_calendar_year(path: Path) -> CalendarYear:
    """One year's schedule from a TOML file named after its year, e.g. 2026.toml."""
    with path.open("rb") as file:
        year = CalendarYear.model_validate(tomllib.load(file))
    # A copied file whose year was not edited would silently drop the real year.
    if path.stem != str(year.year):
        raise ValueError(f"{path.name} holds the schedule of {year.year}; name it {year.year}.toml")
    return year


def load_calendar(directory: Path) -> WorkCalendar:
    """The calendar built from every *.toml in directory."""
    return build_calendar([load_calendar_year(path) for path in sorted(directory.glob("*.toml"))])


def bundled_calendar() -> WorkCalendar:
    """The calendar built from the schedules shipped in config/calendar/."""
    return load_calendar(BUNDLED_DIR)


#: From this many days before the calendar's last day, every place that shows it warns (wall, serve, config check).
WARN_DAYS = 60


@dataclass(frozen=True)
class CalendarNotice:
    """The calendar runs out soon (or has): when, how many days are left, the year to add; said in both languages."""

    ends: date | None
    days_left: int
    year_needed: int

    @property
    def message_zh(self) -> str:
        if self.ends is None:
            return f"工作日历没有任何年份的放假安排：请添加{self.year_needed}年的放假安排（bianmin calendar add 文件）"
        if self.days_left < 0:
            return (
                f"工作日历已于{self.ends.isoformat()}到期：{self.year_needed}年的承诺办结日期和预约日期只按周末计算，"
                f"为暂定日期；请添加{self.year_needed}年国务院放假安排（bianmin calendar add 文件）"
            )
        return (
            f"工作日历将于{self.ends.isoformat()}到期（还剩{self.days_left}天）："
            f"请添加{self.year_needed}年国务院放假安排（bianmin calendar add 文件），此后计算的日期为暂定"
        )

    @property
    def message_en(self) -> str:
        if self.ends is None:
            return (
                f"the working-day calendar has no year: add the {self.year_needed} holiday schedule "
                "(bianmin calendar add FILE)"
            )
        if self.days_left < 0:
            return (
                f"the working-day calendar ended on {self.ends.isoformat()}: due dates and appointment days in "
                f"{self.year_needed} count weekends only and are provisional; add the State Council's "
                f"{self.year_needed} holiday schedule (bianmin calendar add FILE)"
            )
        return (
            f"the working-day calendar ends on {self.ends.isoformat()} ({self.days_left} days left): add the State "
            f"Council's {self.year_needed} holiday schedule (bianmin calendar add FILE); dates past it are provisional"
        )

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


def calendar_notice(calendar: WorkCalendar, today: date) -> CalendarNotice | None:
    """The warning to show from WARN_DAYS days before the calendar's last day on (and after it); else None."""
    ends = calendar.ends()
    if ends is None:
        return CalendarNotice(None, -1, today.year)
    left = (ends - today).days
    if left > WARN_DAYS:
        return None
    return CalendarNotice(ends, left, max(ends.year + 1, today.year))


def config_notice(config: HallConfig, now: datetime) -> CalendarNotice | None:
    """The calendar warning for a configuration, on today's date in its first hall's time zone (a city's: the first
    hall of its counties)."""
    first = next(iter([*config.halls, *config.townships]), None)
    today = now.astimezone(ZoneInfo(first.timezone if first is not None else "Asia/Shanghai")).date()
    return calendar_notice(build_calendar(config.calendar), today)
