"""The bundled 2026 calendar against the State Council notice, and the calendar loader."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from config.calendar import BUNDLED_DIR, build_calendar, bundled_calendar, load_calendar, load_calendar_year
from config.schema import CalendarYear, Holiday
from queue_server.domain.workdays import WorkCalendar

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

# 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04), transcribed with the weekdays it prints:
# name, first day, its weekday, last day, its weekday, make-up workdays.
NOTICE_2026 = [
    ("元旦", date(2026, 1, 1), THU, date(2026, 1, 3), SAT, [date(2026, 1, 4)]),
    ("春节", date(2026, 2, 15), SUN, date(2026, 2, 23), MON, [date(2026, 2, 14), date(2026, 2, 28)]),
    ("清明节", date(2026, 4, 4), SAT, date(2026, 4, 6), MON, []),
    ("劳动节", date(2026, 5, 1), FRI, date(2026, 5, 5), TUE, [date(2026, 5, 9)]),
    ("端午节", date(2026, 6, 19), FRI, date(2026, 6, 21), SUN, []),
    ("中秋节", date(2026, 9, 25), FRI, date(2026, 9, 27), SUN, []),
    ("国庆节", date(2026, 10, 1), THU, date(2026, 10, 7), WED, [date(2026, 9, 20), date(2026, 10, 10)]),
]
HOLIDAY_DAYS_2026 = {"元旦": 3, "春节": 9, "清明节": 3, "劳动节": 5, "端午节": 3, "中秋节": 3, "国庆节": 7}
MAKEUP_DAYS_2026 = [day for *_, makeups in NOTICE_2026 for day in makeups]
HOLIDAYS_2026 = [
    start + timedelta(days=offset) for _, start, _, end, _, _ in NOTICE_2026 for offset in range((end - start).days + 1)
]


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return bundled_calendar()


def test_2026_file_matches_the_notice() -> None:
    year = load_calendar_year(BUNDLED_DIR / "2026.toml")
    assert year.year == 2026
    found = [(h.name_zh, h.start, h.end, h.makeup_workdays) for h in year.holidays]
    assert found == [(name, start, end, makeups) for name, start, _, end, _, makeups in NOTICE_2026]


@pytest.mark.parametrize(("name", "start", "start_weekday", "end", "end_weekday", "makeups"), NOTICE_2026)
def test_notice_transcription_is_self_consistent(
    name: str, start: date, start_weekday: int, end: date, end_weekday: int, makeups: list[date]
) -> None:
    # The notice prints each day's weekday and the length of each break; the dates must agree with both.
    assert (start.weekday(), end.weekday()) == (start_weekday, end_weekday)
    assert (end - start).days + 1 == HOLIDAY_DAYS_2026[name]
    assert all(day.weekday() in (SAT, SUN) for day in makeups)


def test_bundled_calendar_knows_2026(calendar: WorkCalendar) -> None:
    assert 2026 in calendar.known_years
    assert calendar.covers(date(2026, 7, 1))


@pytest.mark.parametrize("day", HOLIDAYS_2026, ids=str)
def test_every_holiday_day_is_off(calendar: WorkCalendar, day: date) -> None:
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize("day", MAKEUP_DAYS_2026, ids=str)
def test_every_makeup_weekend_day_is_worked(calendar: WorkCalendar, day: date) -> None:
    assert day.weekday() in (SAT, SUN)
    assert calendar.is_working_day(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 5), True),  # Monday after 元旦
        (date(2026, 2, 13), True),  # Friday before 春节
        (date(2026, 2, 21), False),  # Saturday inside 春节
        (date(2026, 2, 24), True),  # Tuesday after 春节
        (date(2026, 3, 1), False),  # Sunday after the 2-28 make-up Saturday
        (date(2026, 5, 10), False),  # Sunday after the 5-9 make-up Saturday
        (date(2026, 9, 19), False),  # Saturday before the 9-20 make-up Sunday
        (date(2026, 10, 8), True),  # Thursday after 国庆
        (date(2026, 10, 11), False),  # Sunday after the 10-10 make-up Saturday
    ],
)
def test_spot_checks(calendar: WorkCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize(
    ("accepted", "n", "due"),
    [
        # Wed 9-30: 10-1..7 off, Thu 10-8 (1), Fri 10-9 (2), Sat 10-10 make-up (3), Mon 10-12 (4), Tue 10-13 (5).
        (date(2026, 9, 30), 5, date(2026, 10, 13)),
        # Fri 2-13: Sat 2-14 make-up (1), 2-15..23 off, Tue 2-24 (2), Wed 2-25 (3).
        (date(2026, 2, 13), 3, date(2026, 2, 25)),
        # Wed 2025-12-31: 1-1..3 off, Sun 1-4 make-up (1).
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        # Thu 4-30: 5-1..5 off, Wed 5-6 (1), Thu 5-7 (2), Fri 5-8 (3), Sat 5-9 make-up (4), Mon 5-11 (5).
        (date(2026, 4, 30), 5, date(2026, 5, 11)),
        # Fri 9-18: Sat 9-19 off, Sun 9-20 make-up (1).
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        # Thu 9-24: 9-25..27 off, Mon 9-28 (1), Tue 9-29 (2), Wed 9-30 (3), 10-1..7 off, Thu 10-8 (4).
        (date(2026, 9, 24), 4, date(2026, 10, 8)),
        # Fri 4-3: 4-4..6 off, Tue 4-7 (1).
        (date(2026, 4, 3), 1, date(2026, 4, 7)),
        # Thu 6-18: 6-19..21 off, Mon 6-22 (1).
        (date(2026, 6, 18), 1, date(2026, 6, 22)),
    ],
)
def test_promised_due_dates(calendar: WorkCalendar, accepted: date, n: int, due: date) -> None:
    assert calendar.add_working_days(accepted, n) == due


def test_working_days_in_2026(calendar: WorkCalendar) -> None:
    # 2026 starts on a Thursday and has 365 days: 52 weeks plus one Thursday, so 261 weekdays.
    # 19 holiday days fall on weekdays (元旦 2, 春节 6, 清明 1, 劳动 3, 端午 1, 中秋 1, 国庆 5) and 6
    # weekend days are worked: 261 - 19 + 6 = 248, i.e. the 13 statutory days off.
    assert calendar.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


def test_holidays_expand_from_start_to_end() -> None:
    year = CalendarYear(
        year=2030,
        holidays=[Holiday(name_zh="测试", name_en="Test", start=date(2030, 1, 30), end=date(2030, 2, 2))],
    )
    calendar = build_calendar([year])
    assert calendar.holidays == {date(2030, 1, 30), date(2030, 1, 31), date(2030, 2, 1), date(2030, 2, 2)}
    assert calendar.makeup_workdays == frozenset()
    assert calendar.known_years == {2030}


def test_build_calendar_from_nothing_counts_only_weekends() -> None:
    calendar = build_calendar([])
    assert calendar == WorkCalendar(frozenset(), frozenset(), frozenset())


def test_a_year_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="2030"):
        build_calendar([CalendarYear(year=2030), CalendarYear(year=2030)])


def test_load_calendar_reads_every_toml(tmp_path: Path) -> None:
    (tmp_path / "2030.toml").write_text(
        'year = 2030\n[[holidays]]\nname_zh = "测试"\nname_en = "Test"\n'
        "start = 2030-01-01\nend = 2030-01-01\nmakeup_workdays = [2030-01-05]\n",
        encoding="utf-8",
    )
    (tmp_path / "2031.toml").write_text("year = 2031\n", encoding="utf-8")
    calendar = load_calendar(tmp_path)
    assert calendar.known_years == {2030, 2031}
    assert calendar.holidays == {date(2030, 1, 1)}
    assert calendar.makeup_workdays == {date(2030, 1, 5)}


def test_a_file_named_after_another_year_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2031.toml").write_text("year = 2030\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"name it 2030\.toml"):
        load_calendar(tmp_path)


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    (tmp_path / "2030.toml").write_text("year = 2030\nsource = 'x'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="source"):
        load_calendar(tmp_path)
