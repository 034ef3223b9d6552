"""Working days (工作日) under the official calendar: weekends, public holidays and make-up workdays (调休)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# A promised case is at most 365 working days by the config schema; ten times that is surely a bug.
MAX_WORKING_DAYS = 3660
# A run of more than a year of days off means the calendar data is wrong; stop looking instead of looping on.
MAX_GAP_DAYS = 366
# working_days_between() walks day by day; twenty years is far more than any report needs.
MAX_SPAN_DAYS = 2 * MAX_WORKING_DAYS

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """The working-day calendar: Monday to Friday, minus public holidays, plus make-up workdays.

    Holidays and make-up workdays are only known for years with an official schedule
    (`known_years`). For any other year only weekends are days off; `covers()` tells the
    caller whether a date's year is known, so it can warn that a due date may move.
    """

    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    known_years: frozenset[int]

    def __post_init__(self) -> None:
        clash = sorted(self.holidays & self.makeup_workdays)
        if clash:
            listed = ", ".join(day.isoformat() for day in clash)
            raise ValueError(f"a day cannot be both a holiday and a make-up workday: {listed}")

    def covers(self, d: date) -> bool:
        """Whether d's year has an official schedule (otherwise only weekends count as days off)."""
        return d.year in self.known_years

    def provisional(self, start: date, end: date) -> bool:
        """Whether a date computed over start..end used a year without an official schedule (it may move)."""
        return any(year not in self.known_years for year in range(min(start, end).year, max(start, end).year + 1))

    def ends(self) -> date | None:
        """The last day of the last year with an official schedule; None without any."""
        return date(max(self.known_years), 12, 31) if self.known_years else None

    def is_working_day(self, d: date) -> bool:
        """A make-up workday, or a weekday that is not a holiday."""
        if d in self.makeup_workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        day = d
        for _ in range(MAX_GAP_DAYS):
            day += _ONE_DAY
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {MAX_GAP_DAYS} days after {d.isoformat()}; check the calendar")

    def add_working_days(self, d: date, n: int) -> date:
        """Due date of a case accepted on d and promised within n working days.

        The n-th working day after d; d itself is not counted, and n == 0 gives d.
        """
        if n < 0:
            raise ValueError(f"working days must not be negative, got {n}")
        if n > MAX_WORKING_DAYS:
            raise ValueError(f"at most {MAX_WORKING_DAYS} working days, got {n}")
        day = d
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days fall in (a, b]: after a, up to and including b."""
        span = (b - a).days
        if span < 0:
            raise ValueError(f"end {b.isoformat()} is before start {a.isoformat()}")
        if span > MAX_SPAN_DAYS:
            raise ValueError(f"at most {MAX_SPAN_DAYS} days apart, got {span}")
        return sum(1 for offset in range(1, span + 1) if self.is_working_day(a + timedelta(days=offset)))
