"""Working-day arithmetic on small hand-made calendars."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from queue_server.domain.workdays import MAX_GAP_DAYS, MAX_SPAN_DAYS, MAX_WORKING_DAYS, WorkCalendar

# Reference weekdays: 2025-12-27 Sat, 12-28 Sun, 12-29 Mon, 12-30 Tue, 12-31 Wed,
# 2026-01-01 Thu, 01-02 Fri, 01-03 Sat, 01-04 Sun, 01-05 Mon ... 01-09 Fri, 01-10 Sat, 01-12 Mon.

PLAIN = WorkCalendar(holidays=frozenset(), makeup_workdays=frozenset(), known_years=frozenset())

# A made-up New Year break across the year boundary: Wed 31 Dec to Fri 2 Jan off, Sunday 4 Jan worked.
FESTIVE = WorkCalendar(
    holidays=frozenset({date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)}),
    makeup_workdays=frozenset({date(2026, 1, 4)}),
    known_years=frozenset({2025, 2026}),
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 5), True),  # Monday
        (date(2026, 1, 9), True),  # Friday
        (date(2026, 1, 3), False),  # Saturday
        (date(2026, 1, 4), False),  # Sunday
    ],
)
def test_plain_calendar_is_monday_to_friday(day: date, working: bool) -> None:
    assert PLAIN.is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 12, 30), True),  # Tuesday before the break
        (date(2025, 12, 31), False),  # holiday on a Wednesday
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), False),
        (date(2026, 1, 3), False),  # plain Saturday
        (date(2026, 1, 4), True),  # make-up Sunday
        (date(2026, 1, 5), True),
        (date(2026, 1, 10), False),  # next Saturday is an ordinary weekend day again
    ],
)
def test_holidays_and_makeup_days(day: date, working: bool) -> None:
    assert FESTIVE.is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 5), date(2026, 1, 6)),  # strictly after: Monday gives Tuesday
        (date(2026, 1, 9), date(2026, 1, 12)),  # Friday gives Monday
        (date(2026, 1, 10), date(2026, 1, 12)),  # Saturday gives Monday
    ],
)
def test_next_working_day_plain(day: date, expected: date) -> None:
    assert PLAIN.next_working_day(day) == expected


def test_next_working_day_skips_holidays_into_a_makeup_day() -> None:
    assert FESTIVE.next_working_day(date(2025, 12, 30)) == date(2026, 1, 4)
    assert FESTIVE.next_working_day(date(2026, 1, 4)) == date(2026, 1, 5)


@pytest.mark.parametrize(
    ("accepted", "n", "due"),
    [
        (date(2026, 1, 7), 0, date(2026, 1, 7)),
        (date(2026, 1, 10), 0, date(2026, 1, 10)),  # n == 0 is the day itself, even a Saturday
        (date(2026, 1, 9), 1, date(2026, 1, 12)),
        (date(2026, 1, 10), 1, date(2026, 1, 12)),
        (date(2026, 1, 5), 5, date(2026, 1, 12)),  # Monday + 5 is next Monday
        (date(2025, 12, 26), 3, date(2025, 12, 31)),  # Fri: Mon 29, Tue 30, Wed 31
        (date(2025, 12, 30), 3, date(2026, 1, 2)),  # across the year: Wed 31, Thu 1, Fri 2
    ],
)
def test_add_working_days_plain(accepted: date, n: int, due: date) -> None:
    assert PLAIN.add_working_days(accepted, n) == due


@pytest.mark.parametrize(
    ("accepted", "n", "due"),
    [
        (date(2025, 12, 30), 0, date(2025, 12, 30)),
        (date(2025, 12, 30), 1, date(2026, 1, 4)),  # 31, 1, 2 off, Sat 3 off, Sun 4 worked
        (date(2025, 12, 30), 2, date(2026, 1, 5)),
        (date(2025, 12, 29), 2, date(2026, 1, 4)),  # Tue 30, then Sun 4
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # accepted on a holiday: not counted either way
        (date(2026, 1, 2), 5, date(2026, 1, 8)),  # Sun 4, Mon 5, Tue 6, Wed 7, Thu 8
    ],
)
def test_add_working_days_across_holidays(accepted: date, n: int, due: date) -> None:
    assert FESTIVE.add_working_days(accepted, n) == due


def test_one_working_day_is_the_next_working_day() -> None:
    day = date(2025, 12, 20)
    for _ in range(30):
        assert FESTIVE.add_working_days(day, 1) == FESTIVE.next_working_day(day)
        day += timedelta(days=1)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 365])
def test_due_date_is_a_working_day_n_working_days_later(n: int) -> None:
    day = date(2025, 12, 24)
    for _ in range(14):
        due = FESTIVE.add_working_days(day, n)
        assert FESTIVE.is_working_day(due)
        assert FESTIVE.working_days_between(day, due) == n
        assert FESTIVE.working_days_between(day, due - timedelta(days=1)) == n - 1
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (date(2026, 1, 5), date(2026, 1, 5), 0),  # empty interval
        (date(2025, 12, 30), date(2026, 1, 3), 0),  # only holidays and a Saturday
        (date(2025, 12, 30), date(2026, 1, 4), 1),  # the make-up Sunday
        (date(2025, 12, 30), date(2026, 1, 5), 2),  # a itself is not counted
        (date(2025, 12, 29), date(2026, 1, 5), 3),  # Tue 30, Sun 4, Mon 5
        (date(2026, 1, 4), date(2026, 1, 11), 5),  # Mon 5 .. Fri 9
    ],
)
def test_working_days_between(a: date, b: date, count: int) -> None:
    assert FESTIVE.working_days_between(a, b) == count


def test_working_days_between_refuses_a_reversed_interval() -> None:
    with pytest.raises(ValueError, match="before start"):
        FESTIVE.working_days_between(date(2026, 1, 5), date(2026, 1, 4))


def test_working_days_between_is_bounded() -> None:
    start = date(2026, 1, 1)
    assert PLAIN.working_days_between(start, start + timedelta(days=MAX_SPAN_DAYS)) > 0
    with pytest.raises(ValueError, match="days apart"):
        PLAIN.working_days_between(start, start + timedelta(days=MAX_SPAN_DAYS + 1))


def test_covers_only_known_years() -> None:
    assert FESTIVE.covers(date(2025, 1, 1))
    assert FESTIVE.covers(date(2026, 12, 31))
    assert not FESTIVE.covers(date(2027, 1, 1))
    assert not PLAIN.covers(date(2026, 1, 1))


def test_outside_known_years_only_weekends_are_days_off() -> None:
    # 2027-01-01 is a Friday; with no 2027 schedule it is an ordinary working day.
    assert not FESTIVE.covers(date(2027, 1, 1))
    assert FESTIVE.is_working_day(date(2027, 1, 1))
    assert not FESTIVE.is_working_day(date(2027, 1, 2))


@pytest.mark.parametrize("n", [-1, -365])
def test_negative_working_days_are_refused(n: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        PLAIN.add_working_days(date(2026, 1, 5), n)


def test_working_days_are_bounded() -> None:
    start = date(2026, 1, 5)
    due = PLAIN.add_working_days(start, MAX_WORKING_DAYS)
    assert PLAIN.working_days_between(start, due) == MAX_WORKING_DAYS
    with pytest.raises(ValueError, match=f"at most {MAX_WORKING_DAYS}"):
        PLAIN.add_working_days(start, MAX_WORKING_DAYS + 1)


def test_a_calendar_without_working_days_fails_instead_of_looping() -> None:
    start = date(2026, 1, 1)
    every_day = frozenset(start + timedelta(days=offset) for offset in range(MAX_GAP_DAYS + 10))
    broken = WorkCalendar(holidays=every_day, makeup_workdays=frozenset(), known_years=frozenset({2026, 2027}))
    with pytest.raises(ValueError, match="no working day"):
        broken.next_working_day(start - timedelta(days=1))
    with pytest.raises(ValueError, match="no working day"):
        broken.add_working_days(start - timedelta(days=1), 1)


def test_a_day_cannot_be_both_holiday_and_makeup_day() -> None:
    day = date(2026, 1, 4)
    with pytest.raises(ValueError, match="2026-01-04"):
        WorkCalendar(holidays=frozenset({day}), makeup_workdays=frozenset({day}), known_years=frozenset({2026}))


def test_calendar_is_frozen() -> None:
    with pytest.raises(AttributeError):
        PLAIN.known_years = frozenset({2026})  # type: ignore[misc]


def test_a_date_counted_over_a_year_without_a_schedule_is_provisional() -> None:
    assert not FESTIVE.provisional(date(2025, 12, 29), date(2026, 1, 12))
    assert FESTIVE.provisional(date(2026, 12, 28), date(2027, 1, 4))  # 2027 has no schedule
    assert FESTIVE.provisional(date(2027, 1, 4), date(2026, 12, 28))  # either order
    assert PLAIN.provisional(date(2026, 1, 5), date(2026, 1, 5))


def test_the_calendar_ends_on_the_last_day_of_its_last_year() -> None:
    assert FESTIVE.ends() == date(2026, 12, 31)
    assert PLAIN.ends() is None
