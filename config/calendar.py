"""The working-day calendar from config: official schedules, one `config/calendar/<year>.toml` per year."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from config.schema import CalendarYear
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
