"""The opening hours, the arrival rates and the arrivals to come, as the wait estimate uses them."""

from __future__ import annotations

import math

import pytest

from queue_server.domain.estimate import (
    Inflow,
    WindowLoad,
    estimate_waits,
    expected_rest,
    wait_interval,
)
from queue_server.domain.opening import HORIZON_S, RecentArrivals, day_inflow, day_time, session_seconds
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority

SESSIONS = session_seconds([("08:30", "12:00"), ("14:30", "17:30")])


def test_where_a_moment_falls_in_the_opening_hours() -> None:
    assert day_time(SESSIONS, 8 * 3600).opens_in_s == 1800  # before the doors open
    morning = day_time(SESSIONS, 9 * 3600)
    assert (morning.open_so_far_s, morning.issuing_for_s, morning.opens_in_s) == (1800, 3 * 3600, 0)
    lunch = day_time(SESSIONS, 13 * 3600)
    assert (lunch.open_so_far_s, lunch.issuing_for_s, lunch.opens_in_s) == (3.5 * 3600, 0, 1.5 * 3600)
    assert day_time(SESSIONS, 18 * 3600).opens_in_s == (24 - 18 + 8.5) * 3600  # tomorrow's first session


def test_the_arrival_rate_is_the_last_half_hours() -> None:
    rates = RecentArrivals()
    for minute in range(60):  # one a minute for an hour of open time
        rates.observe("a", minute * 60.0)
    assert rates.rates(3600.0)["a"] == pytest.approx(1 / 60, rel=0.05)
    assert rates.rates(3600.0 + 3 * 1800)["a"] < 0.06 / 60  # quiet for an hour and a half: nearly gone
    early = RecentArrivals()
    early.observe("a", 0.0)
    assert early.rates(60.0)["a"] < 1 / 1000  # one ticket in the first minute is not a rate of 60 an hour


def test_arrivals_are_foreseen_for_half_an_hour_in_session_only() -> None:
    time = day_time(SESSIONS, 9 * 3600)
    inflow = day_inflow({"a": 0.01}, {"a": 4}, {"a": 1}, time)
    assert inflow == Inflow({"a": 0.01}, {"a": 0.25}, HORIZON_S)
    assert day_inflow({"a": 0.01}, {}, {}, day_time(SESSIONS, 13 * 3600)) is None


def t(i: int, category: str, priority: Priority = Priority.ORDINARY) -> QueuedTicket:
    return QueuedTicket(i, category, priority, i * 10)


def test_arrivals_of_a_preferred_category_slow_the_next_one() -> None:
    # Window 1 serves A first, then B; nobody waits for A, but A's arrivals keep taking half the window.
    windows = [WindowLoad(1, ("a", "b"), True, True)]
    queued = [t(1, "b"), t(2, "b")]
    plain = estimate_waits(queued, windows, {"a": 300, "b": 300})
    inflow = Inflow({"a": 1 / 600}, {}, 10_000)  # load 300/600: half the window
    busy = estimate_waits(queued, windows, {"a": 300, "b": 300}, inflow=inflow)
    assert (plain[1].wait_s, plain[2].wait_s) == (300, 600)
    assert (busy[1].wait_s, busy[2].wait_s) == (600, 1200)


def test_priority_arrivals_go_ahead_of_ordinary_tickets_only() -> None:
    windows = [WindowLoad(1, ("a",), True, True)]
    queued = [t(1, "a", Priority.GREEN), t(2, "a")]
    inflow = Inflow({"a": 1 / 1200}, {"a": 1.0}, 10_000)  # every arrival is a green one
    found = estimate_waits(queued, windows, {"a": 300}, inflow=inflow)
    assert found[1].wait_s == 300  # the green ticket: nobody new goes before it
    assert found[2].wait_s > 600  # the ordinary one: the greens arriving meanwhile go first


def test_a_service_in_progress_counts_by_its_expected_rest() -> None:
    assert expected_rest(600, 0) == 600
    assert expected_rest(600, 60) < 600  # lognormal, cv 0.6: a service just begun is mostly ahead, not all
    assert expected_rest(600, 60 * 60) > 0 and math.isfinite(expected_rest(600, 60 * 60))
    fresh = WindowLoad(1, ("a",), True, True, "a", 0.0)
    nearly_done = WindowLoad(1, ("a",), True, True, "a", 900.0)
    (first,) = estimate_waits([t(1, "a")], [fresh], {"a": 600}).values()
    (second,) = estimate_waits([t(1, "a")], [nearly_done], {"a": 600}).values()
    assert second.wait_s is not None and first.wait_s is not None and second.wait_s < first.wait_s


def test_the_interval_holds_the_estimate_and_leans_long() -> None:
    assert wait_interval(0, 300) == (0, 0)
    low, high = wait_interval(600, 300)
    assert 0 <= low < 600 < high and high - 600 > 600 - low
    far_low, far_high = wait_interval(6000, 60)  # a hundred calls: about ±10–30%
    assert 0.85 * 6000 < far_low < 6000 < far_high < 1.4 * 6000


def test_with_a_history_the_arrivals_to_come_follow_the_profile_until_the_session_ends() -> None:
    # Two days: category a comes 10 an open half hour in the first hour, 2 after it; 2 green a day.
    counts = RecentArrivals()
    for _ in range(2):
        for slot in range(7):
            for k in range(10 if slot < 2 else 2):
                counts.observe("a", slot * 1800.0 + k, priority=k == 0 and slot < 2)
        counts = counts.next_day()
    assert counts.profile is not None and counts.profile.days == 2
    early = day_time(SESSIONS, 8.5 * 3600 + 600)  # 10 minutes in: nothing issued yet today
    inflow = counts.inflow({}, {}, early)
    assert inflow is not None and inflow.for_s == early.issuing_for_s  # to the end of the morning, not half an hour
    # 10 minutes in, 3 h 20 to go: (10·(50/30) + 10 + 5·2) tickets expected, shrunk towards today's none at all.
    expected_so_far = 10 * 600 / 1800
    level = 20 / (expected_so_far + 20)
    assert inflow.rates["a"] == pytest.approx(level * (10 * 1200 / 1800 + 10 + 5 * 2) / early.issuing_for_s)
    assert inflow.priority_share["a"] == pytest.approx(2 / 30)  # 2 green of 30 a day, none today yet
    # A busier day than the profile raises the forecast; the last half hour's rate is no longer what counts.
    busy = counts.copy()
    for k in range(40):
        busy.observe("a", 600.0 + k)
    assert busy.inflow({}, {}, early).rates["a"] > 2 * inflow.rates["a"]
    assert counts.inflow({}, {}, day_time(SESSIONS, 13 * 3600)) is None  # lunch: nobody is issued a ticket


def test_a_day_without_tickets_is_not_a_day_of_the_profile() -> None:
    empty = RecentArrivals().next_day()
    assert empty.profile is None
    assert empty.inflow({"a": 1}, {}, day_time(SESSIONS, 9 * 3600)) == Inflow({}, {"a": 0.0}, HORIZON_S)


def test_a_window_with_nothing_to_call_takes_the_arrivals_first() -> None:
    # Windows 1 and 2 list A before B; only window 1 has B to call. Window 2, free, is the one an A ticket goes
    # to, so A's arrivals (a third of a window) no longer slow window 1's B queue.
    windows = [WindowLoad(1, ("a", "b"), True, True), WindowLoad(2, ("a",), True, True)]
    queued = [t(1, "b"), t(2, "b"), t(3, "b")]
    means = {"a": 300, "b": 300}
    alone = estimate_waits(queued, windows[:1], means, inflow=Inflow({"a": 1 / 900}, {}, 10_000))
    shared = estimate_waits(queued, windows, means, inflow=Inflow({"a": 1 / 900}, {}, 10_000))
    plain = estimate_waits(queued, windows, means)
    assert alone[3].wait_s is not None and plain[3].wait_s is not None
    assert shared[3].wait_s == plain[3].wait_s < alone[3].wait_s
