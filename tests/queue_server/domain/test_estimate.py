"""Tests for wait estimation and the service-time moving average."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain.estimate import (
    MAX_SERVICE_S,
    Estimate,
    ServiceTimes,
    WindowLoad,
    estimate_new,
    estimate_waits,
)
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority

ORD, G, AP = Priority.ORDINARY, Priority.GREEN, Priority.APPOINTMENT


def t(
    id: int, category: str = "A", priority: Priority = ORD, key: int | None = None, target: int | None = None
) -> QueuedTicket:
    return QueuedTicket(id, category, priority, id * 10 if key is None else key, target)


def win(number: int, *categories: str, available: bool = True, busy: bool = True) -> WindowLoad:
    return WindowLoad(number, categories, available, busy)


# --- idle and busy single-category windows --------------------------------------------------------------------


def test_empty_queue() -> None:
    assert estimate_waits([], [win(1, "A")], {"A": 300}) == {}


def test_idle_windows_mean_no_wait() -> None:
    windows = [win(1, "A", busy=False), win(2, "A", busy=False)]
    result = estimate_waits([t(1), t(2)], windows, {"A": 300})
    assert result == {1: Estimate(0, 0), 2: Estimate(1, 0)}


def test_beyond_the_idle_windows_waits_for_the_first_free_one() -> None:
    windows = [win(1, "A", busy=False), win(2, "A", busy=False)]
    result = estimate_waits([t(1), t(2), t(3), t(4)], windows, {"A": 300})
    # ahead 2 with 2 idle of 2 servers: (2 + 1 - 2) * 300 / 2
    assert result[3] == Estimate(2, 150)
    assert result[4] == Estimate(3, 300)


def test_some_idle_some_busy() -> None:
    windows = [win(1, "A", busy=False), win(2, "A"), win(3, "A")]
    result = estimate_waits([t(i) for i in range(1, 5)], windows, {"A": 300})
    assert [result[i] for i in range(1, 5)] == [Estimate(0, 0), Estimate(1, 100), Estimate(2, 200), Estimate(3, 300)]


@pytest.mark.parametrize("servers", [1, 2, 3, 5])
@pytest.mark.parametrize("queued", [1, 4, 9])
def test_all_busy_single_category_is_the_mmc_rule(servers: int, queued: int) -> None:
    # With c busy windows and n tickets ahead, the wait is (n + 1) * S / c.
    s = 240.0
    windows = [win(i, "A") for i in range(1, servers + 1)]
    result = estimate_waits([t(i) for i in range(1, queued + 1)], windows, {"A": s})
    for i in range(1, queued + 1):
        n = i - 1
        assert result[i] == Estimate(n, round((n + 1) * s / servers))


@given(
    servers=st.integers(1, 8),
    ahead=st.integers(0, 60),
    mean_s=st.floats(1.0, 3600.0),
)
def test_mmc_rule_property(servers: int, ahead: int, mean_s: float) -> None:
    windows = [win(i, "A") for i in range(1, servers + 1)]
    result = estimate_waits([t(i) for i in range(ahead + 1)], windows, {"A": mean_s})
    wait = result[ahead].wait_s
    assert wait is not None
    assert abs(wait - (ahead + 1) * mean_s / servers) <= 0.5 + 1e-6


def test_rounding_is_half_up() -> None:
    # 1 * 3 / 2 = 1.5 -> 2; 2 * 3 / 2 = 3
    windows = [win(1, "A"), win(2, "A")]
    result = estimate_waits([t(1), t(2)], windows, {"A": 3})
    assert [result[1].wait_s, result[2].wait_s] == [2, 3]


# --- no window can serve it -----------------------------------------------------------------------------------


def test_no_windows_at_all() -> None:
    assert estimate_waits([t(1), t(2)], [], {"A": 300}) == {1: Estimate(0, None), 2: Estimate(1, None)}


def test_paused_or_closed_windows_give_none() -> None:
    windows = [win(1, "A", available=False, busy=False), win(2, "A", available=False)]
    assert estimate_waits([t(1)], windows, {"A": 300}) == {1: Estimate(0, None)}


def test_windows_of_other_categories_give_none() -> None:
    result = estimate_waits([t(1, "A"), t(2, "B")], [win(1, "B", busy=False)], {"A": 300, "B": 200})
    assert result == {1: Estimate(0, None), 2: Estimate(0, 0)}


def test_service_time_only_needed_when_some_window_serves_the_category() -> None:
    assert estimate_waits([t(1, "X")], [win(1, "A")], {}) == {1: Estimate(0, None)}
    with pytest.raises(ValueError, match="no mean service time for category 'X'"):
        estimate_waits([t(1, "X")], [win(1, "X")], {})


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan, math.inf])
def test_service_time_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        estimate_waits([t(1)], [win(1, "A")], {"A": bad})


def test_duplicate_ticket_is_a_bug() -> None:
    with pytest.raises(ValueError, match="queued twice"):
        estimate_waits([t(1), t(1)], [win(1, "A")], {"A": 300})


# --- ahead ----------------------------------------------------------------------------------------------------


def test_ahead_counts_priority_first_then_key_then_id() -> None:
    queued = [t(1, key=10), t(2, key=20), t(3, priority=G, key=30), t(4, priority=AP, key=25), t(5, key=20)]
    result = estimate_waits(queued, [win(1, "A")], {"A": 100})
    assert {i: e.ahead for i, e in result.items()} == {4: 0, 3: 1, 1: 2, 2: 3, 5: 4}


def test_ahead_counts_only_the_same_category() -> None:
    queued = [t(1, "A"), t(2, "B"), t(3, "A"), t(4, "B"), t(5, "C")]
    result = estimate_waits(queued, [], {})
    assert {i: e.ahead for i, e in result.items()} == {1: 0, 3: 1, 2: 0, 4: 1, 5: 0}


def test_transferred_ticket_counts_tickets_targeted_at_its_window() -> None:
    queued = [
        t(1, "A", key=5),  # untargeted: not ahead of targeted ones
        t(2, "B", key=40, target=1),
        t(3, "A", G, key=30, target=1),  # priority does not matter among targeted tickets
        t(4, "A", key=1, target=2),  # another window
    ]
    windows = [win(1, "A"), win(2, "A", busy=False)]
    result = estimate_waits(queued, windows, {"A": 100, "B": 60})
    assert result[3] == Estimate(0, 100)  # window 1 is busy: one service, of its own category
    assert result[2] == Estimate(1, 120)  # (1 + 1) * 60
    assert result[4] == Estimate(0, 0)  # window 2 is idle
    assert result[1].ahead == 0


def test_transferred_to_an_unavailable_or_unknown_window() -> None:
    queued = [t(1, target=1), t(2, target=9)]
    result = estimate_waits(queued, [win(1, "A", available=False)], {"A": 100})
    assert result == {1: Estimate(0, None), 2: Estimate(0, None)}


# --- multi-category windows -----------------------------------------------------------------------------------


def test_multi_category_shares_are_proportional_to_waiting_work() -> None:
    # W1 serves A and B, W2 only B, all busy. Work waiting: A 2*100 = 200, B 3*200 = 600.
    # W1 gives A 200/800 = 0.25 and B 0.75; W2 gives B 1. So c_eff(A) = 0.25, c_eff(B) = 1.75.
    queued = [t(1, "A"), t(2, "A"), t(3, "B"), t(4, "B"), t(5, "B")]
    windows = [win(1, "A", "B"), win(2, "B")]
    result = estimate_waits(queued, windows, {"A": 100, "B": 200})
    assert result[1] == Estimate(0, 400)  # 1 * 100 / 0.25
    assert result[2] == Estimate(1, 800)
    assert result[3] == Estimate(0, 114)  # 1 * 200 / 1.75 = 114.29
    assert result[4] == Estimate(1, 229)  # 228.57
    assert result[5] == Estimate(2, 343)  # 342.86


def test_multi_category_idle_share() -> None:
    # W1 (A, B) idle, W2 (B) busy; one ticket each of A and B, S 100 each: W1 gives 0.5 to each.
    queued = [t(1, "A"), t(2, "B"), t(3, "B")]
    windows = [win(1, "A", "B", busy=False), win(2, "B")]
    result = estimate_waits(queued, windows, {"A": 100, "B": 100})
    # A: work 100, B: work 200 -> W1 shares A 1/3, B 2/3; idle_A = 1/3, idle_B = 2/3, c_eff(B) = 5/3.
    assert result[1] == Estimate(0, 0)  # 0 < 1/3
    assert result[2] == Estimate(0, 0)  # 0 < 2/3
    assert result[3] == Estimate(1, 80)  # (1 + 1 - 2/3) * 100 / (5/3) = 80


def test_last_ticket_of_a_shared_window_waits_for_all_its_work() -> None:
    # One busy window serving A then B: the last B ticket waits for all the waiting work, whatever the order.
    queued = [t(1, "A"), t(2, "A"), t(3, "A"), t(4, "B"), t(5, "B")]
    result = estimate_waits(queued, [win(1, "A", "B")], {"A": 120, "B": 300})
    assert result[3].wait_s == 3 * 120 + 2 * 300
    assert result[5].wait_s == 3 * 120 + 2 * 300


def test_categories_with_nothing_waiting_take_no_share() -> None:
    # The window also serves B, but nobody waits for B: it is a whole server for A.
    result = estimate_waits([t(1, "A"), t(2, "A")], [win(1, "A", "B")], {"A": 100, "B": 999})
    assert result == {1: Estimate(0, 100), 2: Estimate(1, 200)}


def test_duplicate_category_in_window_config_counts_once() -> None:
    result = estimate_waits([t(1, "A")], [win(1, "A", "A")], {"A": 100})
    assert result == {1: Estimate(0, 100)}


@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(list(Priority))), max_size=30),
    st.lists(
        st.tuples(st.lists(st.sampled_from("ABC"), min_size=1, max_size=3), st.booleans(), st.booleans()),
        max_size=4,
    ),
)
def test_waits_are_monotone_and_ahead_is_a_ranking(
    specs: list[tuple[str, Priority]], window_specs: list[tuple[list[str], bool, bool]]
) -> None:
    queued = [t(i, c, p) for i, (c, p) in enumerate(specs, start=1)]
    windows = [win(n, *cats, available=a, busy=b) for n, (cats, a, b) in enumerate(window_specs, start=1)]
    result = estimate_waits(queued, windows, {"A": 100.0, "B": 250.0, "C": 60.0})
    assert set(result) == {q.id for q in queued}
    for category in "ABC":
        ests = sorted((e for q in queued if q.category == category for e in [result[q.id]]), key=lambda e: e.ahead)
        assert [e.ahead for e in ests] == list(range(len(ests)))
        waits = [e.wait_s for e in ests]
        if any(w is None for w in waits):
            assert all(w is None for w in waits)
        else:
            assert waits == sorted(waits)  # type: ignore[type-var]
            assert all(w is not None and w >= 0 for w in waits)


# --- ServiceTimes ---------------------------------------------------------------------------------------------


def test_defaults_and_fallback() -> None:
    st_ = ServiceTimes({"A": 300, "B": 120})
    assert st_.mean("A") == 300
    assert st_.mean("B") == 120
    assert st_.mean("Z") == 300.0  # the fallback
    assert ServiceTimes({}, fallback=90).mean("Z") == 90


def test_ewma_arithmetic() -> None:
    times = ServiceTimes({"A": 300}, alpha=0.2)
    times.observe("A", 400)
    assert times.mean("A") == pytest.approx(320)
    times.observe("A", 100)
    assert times.mean("A") == pytest.approx(276)
    times.observe("A", 276)
    assert times.mean("A") == pytest.approx(276)


def test_ewma_alpha_one_follows_the_last_observation() -> None:
    times = ServiceTimes({"A": 300}, alpha=1.0)
    times.observe("A", 200)
    assert times.mean("A") == 200


def test_ewma_converges_to_a_steady_duration() -> None:
    times = ServiceTimes({"A": 60}, alpha=0.2)
    for _ in range(200):
        times.observe("A", 600)
    assert times.mean("A") == pytest.approx(600)


def test_unknown_category_starts_from_the_fallback() -> None:
    times = ServiceTimes({}, alpha=0.5, fallback=200)
    times.observe("N", 100)
    assert times.mean("N") == pytest.approx(150)
    assert times.snapshot() == {"N": pytest.approx(150)}


@pytest.mark.parametrize("bad", [-1.0, -0.001, MAX_SERVICE_S + 1, 10 * 3600.0, math.nan, math.inf, -math.inf])
def test_absurd_observations_are_ignored(bad: float) -> None:
    times = ServiceTimes({"A": 300})
    times.observe("A", bad)
    assert times.mean("A") == 300
    assert times.snapshot() == {"A": 300}


def test_zero_is_clipped_up_to_one_second() -> None:
    times = ServiceTimes({"A": 300}, alpha=0.2)
    times.observe("A", 0)
    assert times.mean("A") == pytest.approx(0.8 * 300 + 0.2 * 1)


def test_long_outlier_is_clipped_to_a_multiple_of_the_mean() -> None:
    times = ServiceTimes({"A": 300}, alpha=0.2)
    times.observe("A", MAX_SERVICE_S)  # a forgotten finish button: counted as 4 * 300
    assert times.mean("A") == pytest.approx(0.8 * 300 + 0.2 * 1200)
    unclipped = ServiceTimes({"A": 300}, alpha=0.2, clip_factor=1000)
    unclipped.observe("A", 3000)
    assert unclipped.mean("A") == pytest.approx(0.8 * 300 + 0.2 * 3000)


def test_snapshot_is_a_copy() -> None:
    times = ServiceTimes({"A": 300})
    snap = times.snapshot()
    snap["A"] = 1
    assert times.mean("A") == 300


def test_defaults_mapping_is_not_aliased() -> None:
    defaults = {"A": 300.0}
    times = ServiceTimes(defaults)
    times.observe("A", 400)
    assert defaults == {"A": 300.0}


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5, math.nan])
def test_alpha_must_be_in_range(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        ServiceTimes({"A": 300}, alpha=alpha)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, MAX_SERVICE_S + 1])
def test_defaults_must_be_plausible(bad: float) -> None:
    with pytest.raises(ValueError, match="service time for A"):
        ServiceTimes({"A": bad})


def test_clip_factor_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="clip_factor"):
        ServiceTimes({"A": 300}, clip_factor=0.5)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=50))
def test_mean_stays_positive_and_bounded(observations: list[float]) -> None:
    times = ServiceTimes({"A": 300})
    for x in observations:
        times.observe("A", x)
    assert 1.0 <= times.mean("A") <= MAX_SERVICE_S


# --- estimate_new: the estimate of a ticket taken now, per category --------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 6), min_size=3, max_size=3),
    targeted=st.integers(0, 3),
    layout=st.lists(
        st.tuples(st.sets(st.sampled_from(["a", "b", "c"]), min_size=1), st.booleans(), st.booleans()),
        min_size=0,
        max_size=4,
    ),
)
def test_estimate_new_equals_adding_one_ticket_and_estimating(
    counts: list[int], targeted: int, layout: list[tuple[set[str], bool, bool]]
) -> None:
    """estimate_new is exactly estimate_waits with one more ordinary ticket at the end of the category."""
    service = {"a": 300.0, "b": 420.0, "c": 600.0}
    queued: list[QueuedTicket] = []
    for category, count in zip("abc", counts, strict=True):
        for _ in range(count):
            queued.append(QueuedTicket(len(queued) + 1, category, Priority.ORDINARY, 1_000 + len(queued)))
    for _ in range(targeted):
        queued.append(QueuedTicket(len(queued) + 1, "a", Priority.ORDINARY, 5_000 + len(queued), target_window=1))
    windows = [
        WindowLoad(number, tuple(sorted(cats)), available, busy)
        for number, (cats, available, busy) in enumerate(layout, start=1)
    ]
    new = estimate_new(queued, windows, service, ["a", "b", "c"])
    for category in "abc":
        probe = QueuedTicket(10_000, category, Priority.ORDINARY, 10**12)
        assert new[category] == estimate_waits([*queued, probe], windows, service)[10_000]
