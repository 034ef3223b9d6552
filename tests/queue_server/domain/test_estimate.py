"""Tests for wait estimation and the service-time moving average."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain.estimate import (
    MAX_SERVICE_S,
    Forecast,
    ServiceTimes,
    WindowLoad,
    estimate_new,
    estimate_taken_now,
    estimate_ticket,
    estimate_waits,
    queue_counts,
)
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority


class Estimate:
    """The point figures of an estimate (ahead, wait): the interval and roughness have tests of their own."""

    def __init__(self, ahead: int, wait_s: int | None) -> None:
        self.ahead, self.wait_s = ahead, wait_s

    def __eq__(self, other: object) -> bool:
        return (self.ahead, self.wait_s) == (getattr(other, "ahead", None), getattr(other, "wait_s", None))

    def __repr__(self) -> str:
        return f"Estimate({self.ahead}, {self.wait_s})"


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


def test_paused_or_closed_windows_give_a_rough_estimate_from_the_windows_that_will_open() -> None:
    # Never "no estimate" while someone waits: both windows, once open, count as busy: (0 + 1) × 300 / 2.
    windows = [win(1, "A", available=False, busy=False), win(2, "A", available=False)]
    (found,) = estimate_waits([t(1)], windows, {"A": 300}).values()
    assert found == Estimate(0, 150) and found.rough
    # Before the hall opens, the time until it does comes first.
    (later,) = estimate_waits([t(1)], windows, {"A": 300}, opens_in_s=1800).values()
    assert later == Estimate(0, 1950) and later.rough
    assert later.low_s is not None and later.high_s is not None and 1800 <= later.low_s < 1950 < later.high_s


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
    assert result == {1: Estimate(0, 100), 2: Estimate(0, None)}  # window 1 comes back busy; window 9 is unknown
    assert result[1].rough and not result[2].rough


# --- shared windows: the fluid in each window's order of preference ------------------------------------------


def test_a_shared_window_calls_its_first_category_first() -> None:
    # W1 serves A then B, W2 only B, all busy; A 2 × 100 s, B 3 × 200 s.
    # Until t = 200 W1 calls A (one per 100 s) and W2 calls B (one per 200 s): A runs out, B has had 1 call.
    # Then both windows call B: one per 100 s.
    queued = [t(1, "A"), t(2, "A"), t(3, "B"), t(4, "B"), t(5, "B")]
    windows = [win(1, "A", "B"), win(2, "B")]
    result = estimate_waits(queued, windows, {"A": 100, "B": 200})
    assert [result[i] for i in range(1, 6)] == [
        Estimate(0, 100),
        Estimate(1, 200),
        Estimate(0, 200),  # W2 alone: 1 × 200
        Estimate(1, 300),  # 200 + (2 − 1) × 200 / 2
        Estimate(2, 400),  # 200 + (3 − 1) × 200 / 2
    ]


def test_the_order_of_preference_decides_who_gets_a_shared_window() -> None:
    queued = [t(1, "A"), t(2, "A"), t(3, "B"), t(4, "B")]
    a_first = estimate_waits(queued, [win(1, "A", "B"), win(2, "A", "B")], {"A": 100, "B": 100})
    b_first = estimate_waits(queued, [win(1, "B", "A"), win(2, "B", "A")], {"A": 100, "B": 100})
    assert [a_first[i].wait_s for i in range(1, 5)] == [50, 100, 150, 200]
    assert [b_first[i].wait_s for i in range(1, 5)] == [150, 200, 50, 100]


def test_a_windows_categories_run_at_their_own_service_times() -> None:
    # Nobody waits for A: the window calls B at B's pace, then C at C's.
    queued = [t(1, "B"), t(2, "B"), t(3, "C")]
    result = estimate_waits(queued, [win(1, "A", "B", "C")], {"A": 999, "B": 200, "C": 50})
    assert [result[i].wait_s for i in range(1, 4)] == [200, 400, 450]


@pytest.mark.parametrize("n_a", range(4))
@pytest.mark.parametrize("n_b", range(4))
@pytest.mark.parametrize("n_c", range(4))
def test_one_busy_window_clears_its_categories_in_order(n_a: int, n_b: int, n_c: int) -> None:
    # One window serving A, B, C in that order: the k-th ticket of a category waits for every ticket of the
    # categories before it, then k services of its own (exhaustive over small queues).
    service = {"A": 120.0, "B": 300.0, "C": 45.0}
    counts = {"A": n_a, "B": n_b, "C": n_c}
    queued = [t(i, c) for i, c in enumerate("A" * n_a + "B" * n_b + "C" * n_c, start=1)]
    result = estimate_waits(queued, [win(1, "A", "B", "C")], service)
    before = 0.0
    for c in "ABC":
        waits = sorted(result[q.id].wait_s or 0 for q in queued if q.category == c)
        assert waits == [math.floor(before + k * service[c] + 0.5) for k in range(1, counts[c] + 1)]
        before += counts[c] * service[c]


@pytest.mark.parametrize("servers", [1, 2, 3])
def test_windows_with_the_same_list_clear_all_the_work_together(servers: int) -> None:
    # c busy windows serving A then B: the last ticket of B waits for all the work waiting, shared by c.
    queued = [t(i, "A") for i in range(1, 4)] + [t(i, "B") for i in range(4, 9)]
    windows = [win(n, "A", "B") for n in range(1, servers + 1)]
    result = estimate_waits(queued, windows, {"A": 120, "B": 300})
    assert result[8].wait_s == round((3 * 120 + 5 * 300) / servers)
    assert result[3].wait_s == round(3 * 120 / servers)


def test_a_second_category_waits_only_for_the_first_ones_queue() -> None:
    # However long A's service, B's first ticket waits for A's current queue and one B service: bounded.
    queued = [t(1, "A"), t(2, "A"), t(3, "B")]
    result = estimate_waits(queued, [win(1, "A", "B")], {"A": 1000, "B": 10})
    assert result[3] == Estimate(0, 2010)


def test_dedicated_windows_keep_categories_independent() -> None:
    queued = [t(1, "A"), t(2, "B"), t(3, "A"), t(4, "B"), t(5, "B")]
    windows = [win(1, "A"), win(2, "B"), win(3, "B", busy=False)]
    result = estimate_waits(queued, windows, {"A": 100, "B": 60})
    assert [result[i] for i in (1, 3)] == [Estimate(0, 100), Estimate(1, 200)]
    assert [result[i] for i in (2, 4, 5)] == [Estimate(0, 0), Estimate(1, 30), Estimate(2, 60)]


def test_an_idle_shared_window_calls_its_first_category_with_someone_waiting() -> None:
    # W1 (A, B) idle, W2 (B) busy, one A and two B: W1 calls A at once, then both windows call B.
    queued = [t(1, "A"), t(2, "B"), t(3, "B")]
    windows = [win(1, "A", "B", busy=False), win(2, "B")]
    result = estimate_waits(queued, windows, {"A": 100, "B": 100})
    assert result == {1: Estimate(0, 0), 2: Estimate(0, 50), 3: Estimate(1, 100)}
    # Nobody waits for A: W1 calls B at once, then both windows call B.
    result = estimate_waits([t(2, "B"), t(3, "B")], windows, {"A": 100, "B": 100})
    assert result == {2: Estimate(0, 0), 3: Estimate(1, 50)}


def test_idle_windows_call_in_number_order() -> None:
    # W1 (A, B) and W2 (A) idle, one A and one B, listed W2 first: W1 calls first and takes A, W2 has nothing
    # left, and B waits for W1's next call.
    queued = [t(1, "A"), t(2, "B")]
    windows = [win(2, "A", busy=False), win(1, "A", "B", busy=False)]
    result = estimate_waits(queued, windows, {"A": 100, "B": 80})
    assert result == {1: Estimate(0, 0), 2: Estimate(0, 80)}


def test_unavailable_windows_take_no_part_in_the_fluid() -> None:
    queued = [t(1, "A"), t(2, "B")]
    windows = [win(1, "A", "B", available=False, busy=False), win(2, "B")]
    result = estimate_waits(queued, windows, {"A": 100, "B": 80})
    assert result == {1: Estimate(0, 100), 2: Estimate(0, 80)}  # A: from window 1 once open (rough)
    assert result[1].rough and not result[2].rough


def test_categories_with_nothing_waiting_take_no_share() -> None:
    # The window also serves B, but nobody waits for B: it is a whole server for A.
    result = estimate_waits([t(1, "A"), t(2, "A")], [win(1, "A", "B")], {"A": 100, "B": 999})
    assert result == {1: Estimate(0, 100), 2: Estimate(1, 200)}


def test_duplicate_category_in_window_config_counts_once() -> None:
    result = estimate_waits([t(1, "A")], [win(1, "A", "A")], {"A": 100})
    assert result == {1: Estimate(0, 100)}


def test_targeted_tickets_do_not_delay_untargeted_ones() -> None:
    plain = estimate_waits([t(1, "A")], [win(1, "A")], {"A": 100})
    with_targeted = estimate_waits([t(1, "A"), t(2, "A", target=1), t(3, "A", target=1)], [win(1, "A")], {"A": 100})
    assert with_targeted[1] == plain[1]


_WINDOW_LISTS = st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True)


@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(list(Priority))), max_size=30),
    st.lists(st.tuples(_WINDOW_LISTS, st.booleans(), st.booleans()), max_size=4),
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
        listed = any(category in w.categories for w in windows)  # unavailable ones: a rough estimate
        assert all((w is not None) is listed for w in waits)
        if listed:
            assert waits == sorted(waits)  # type: ignore[type-var]
            assert all(w is not None and w >= 0 for w in waits)


@given(
    st.lists(st.sampled_from("ABC"), max_size=20),
    st.lists(st.tuples(_WINDOW_LISTS, st.booleans()), min_size=1, max_size=4),
    _WINDOW_LISTS,
)
def test_one_more_busy_window_never_makes_anyone_wait_longer(
    categories: list[str], window_specs: list[tuple[list[str], bool]], extra: list[str]
) -> None:
    queued = [t(i, c) for i, c in enumerate(categories, start=1)]
    windows = [win(n, *cats, busy=b) for n, (cats, b) in enumerate(window_specs, start=1)]
    service = {"A": 100.0, "B": 250.0, "C": 60.0}
    before = estimate_waits(queued, windows, service)
    after = estimate_waits(queued, [*windows, win(len(windows) + 1, *extra)], service)
    for q in queued:
        old, new = before[q.id].wait_s, after[q.id].wait_s
        if old is not None:
            assert new is not None and new <= old


# --- ServiceTimes ---------------------------------------------------------------------------------------------


def test_defaults_and_fallback() -> None:
    st_ = ServiceTimes({"A": 300, "B": 120})
    assert st_.mean("A") == 300
    assert st_.mean("B") == 120
    assert st_.mean("Z") == 300.0  # the fallback
    assert ServiceTimes({}, fallback=90).mean("Z") == 90


def test_default_parameters() -> None:
    times = ServiceTimes({})
    assert (times.alpha, times.prior, times.fallback, times.clip_factor) == (0.01, 4.0, 300.0, 4.0)


def _weights(times: ServiceTimes, category: str, count: int) -> list[float]:
    """The weight each of `count` observations got: the mean moves by w·(x − mean) toward x (50 or 200 s)."""
    weights = []
    for k in range(count):
        mean, x = times.mean(category), 200.0 if k % 2 else 50.0
        times.observe(category, x)
        weights.append((times.mean(category) - mean) / (x - mean))
    return weights


@pytest.mark.parametrize(("alpha", "prior"), [(0.01, 4.0), (0.1, 4.0), (0.1, 0.0), (0.2, 4.0), (0.05, 2.5), (1.0, 4.0)])
def test_the_kth_observation_weighs_max_alpha_and_one_over_k_plus_one_plus_prior(alpha: float, prior: float) -> None:
    times = ServiceTimes({"A": 100}, alpha=alpha, prior=prior)
    expected = [max(alpha, 1 / (k + 1 + prior)) for k in range(120)]
    assert _weights(times, "A", 120) == pytest.approx(expected, rel=1e-9)
    assert times.observed("A") == 120


def test_first_services_are_averaged_with_the_default_as_prior_observations() -> None:
    times = ServiceTimes({"A": 300})  # prior 4: the default counts as four services
    observed = [400.0, 200.0, 600.0, 350.0, 500.0]
    for x in observed:
        times.observe("A", x)
    assert times.mean("A") == pytest.approx((4 * 300 + sum(observed)) / (4 + len(observed)))


def test_a_wrong_default_is_corrected_within_a_few_services() -> None:
    times = ServiceTimes({"A": 60})
    for _ in range(20):
        times.observe("A", 200)  # clipped to 4 × the mean while the mean is low, then exact
    assert times.mean("A") == pytest.approx(200, rel=0.25)


def test_prior_zero_takes_the_first_observation_as_the_mean() -> None:
    times = ServiceTimes({"A": 300}, prior=0)
    times.observe("A", 250)
    assert times.mean("A") == 250


def test_ewma_arithmetic() -> None:
    # alpha 0.2 with prior 4: every weight is 0.2, the plain EWMA.
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


def test_converges_to_a_steady_duration() -> None:
    times = ServiceTimes({"A": 60})
    for _ in range(3000):
        times.observe("A", 600)
    assert times.mean("A") == pytest.approx(600)


def test_the_long_memory_smooths_noisy_services() -> None:
    # Services alternating 100 s and 500 s: after the start, the mean stays within alpha·200 s of 300 s.
    times = ServiceTimes({"A": 300})
    for i in range(400):
        times.observe("A", 100 if i % 2 else 500)
        if i >= 200:
            assert abs(times.mean("A") - 300) <= 0.01 * 200 + 1e-6


def test_categories_count_their_observations_separately() -> None:
    times = ServiceTimes({"A": 100, "B": 100})
    for _ in range(10):
        times.observe("A", 100)
    times.observe("B", 200)
    assert (times.observed("A"), times.observed("B"), times.observed("C")) == (10, 1, 0)
    assert times.mean("B") == pytest.approx(120)  # B's first observation: weight 1/5


def test_unknown_category_starts_from_the_fallback() -> None:
    times = ServiceTimes({}, alpha=0.5, fallback=200)
    times.observe("N", 100)
    assert times.mean("N") == pytest.approx(150)
    assert times.snapshot() == {"N": pytest.approx(150)}
    prior = ServiceTimes({}, fallback=200)
    prior.observe("N", 100)
    assert prior.mean("N") == pytest.approx(180)  # (4 × 200 + 100) / 5


@pytest.mark.parametrize("bad", [-1.0, -0.001, MAX_SERVICE_S + 1, 10 * 3600.0, math.nan, math.inf, -math.inf])
def test_absurd_observations_are_ignored_and_not_counted(bad: float) -> None:
    times = ServiceTimes({"A": 300})
    times.observe("A", bad)
    assert times.mean("A") == 300
    assert times.snapshot() == {"A": 300}
    assert times.observed("A") == 0
    times.observe("A", 400)
    assert times.mean("A") == pytest.approx(320)  # still the first observation's weight, 1/5


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


def test_a_forgotten_finish_moves_a_settled_mean_by_at_most_alpha_times_clip() -> None:
    times = ServiceTimes({"A": 300})
    for _ in range(200):
        times.observe("A", 300)
    times.observe("A", MAX_SERVICE_S)
    assert times.mean("A") == pytest.approx(300 * (1 - 0.01 + 0.01 * 4))


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


@pytest.mark.parametrize("prior", [-1.0, math.nan, math.inf])
def test_prior_must_be_a_finite_count(prior: float) -> None:
    with pytest.raises(ValueError, match="prior"):
        ServiceTimes({"A": 300}, prior=prior)


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


def test_estimate_new_examples() -> None:
    queued = [t(1, "A"), t(2, "A"), t(3, "B")]
    windows = [win(1, "A", "B"), win(2, "C", busy=False), win(3, "D", available=False)]
    new = estimate_new(queue_counts(queued), windows, {"A": 100, "B": 50, "C": 70, "D": 90}, ["A", "B", "C", "D"])
    assert new == {
        "A": Estimate(2, 300),  # behind two A tickets on the busy window
        "B": Estimate(1, 300),  # behind A's whole queue, then one B and its own turn
        "C": Estimate(0, 0),  # an idle window
        "D": Estimate(0, 90),  # its only window is paused: once back, one service (rough)
    }
    assert [new[c].rough for c in "ABCD"] == [False, False, False, True]


@settings(max_examples=300, deadline=None)
@given(
    counts=st.lists(st.integers(0, 6), min_size=3, max_size=3),
    priority=st.lists(st.integers(0, 2), min_size=3, max_size=3),
    targeted=st.integers(0, 3),
    layout=st.lists(
        st.tuples(
            st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True),
            st.booleans(),
            st.booleans(),
        ),
        min_size=0,
        max_size=5,
    ),
    numbers=st.permutations(range(1, 6)),
)
def test_estimate_new_equals_adding_one_ticket_and_estimating(
    counts: list[int],
    priority: list[int],
    targeted: int,
    layout: list[tuple[list[str], bool, bool]],
    numbers: list[int],
) -> None:
    """estimate_new is exactly estimate_waits with one more ordinary ticket at the end of the category."""
    service = {"a": 300.0, "b": 420.0, "c": 133.3}
    queued: list[QueuedTicket] = []
    for category, count, green in zip("abc", counts, priority, strict=True):
        for i in range(count):
            p = Priority.GREEN if i < green else Priority.ORDINARY
            queued.append(QueuedTicket(len(queued) + 1, category, p, 1_000 + len(queued)))
    for _ in range(targeted):
        queued.append(QueuedTicket(len(queued) + 1, "a", Priority.ORDINARY, 5_000 + len(queued), target_window=1))
    # Windows in any order of their numbers, each with its categories in any order of preference.
    windows = [
        WindowLoad(number, tuple(cats), available, busy)
        for number, (cats, available, busy) in zip(numbers, layout, strict=False)
    ]
    new = estimate_new(queue_counts(queued), windows, service, ["a", "b", "c"])
    for category in "abc":
        probe = QueuedTicket(10_000, category, Priority.ORDINARY, 10**12)
        assert new[category] == estimate_waits([*queued, probe], windows, service)[10_000]


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 5), min_size=3, max_size=3),
    greens=st.lists(st.integers(0, 2), min_size=3, max_size=3),
    layout=st.lists(
        st.tuples(
            st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True),
            st.booleans(),
            st.booleans(),
        ),
        max_size=4,
    ),
    category=st.sampled_from(["a", "b", "c"]),
    green=st.booleans(),
)
def test_estimate_taken_now_equals_queueing_the_ticket_and_estimating(
    counts: list[int],
    greens: list[int],
    layout: list[tuple[list[str], bool, bool]],
    category: str,
    green: bool,
) -> None:
    """A ticket issued now (ordinary or green) gets the estimate estimate_waits gives it once queued."""
    service = {"a": 300.0, "b": 420.0, "c": 600.0}
    queued: list[QueuedTicket] = []
    for code, ordinary, priority in zip("abc", counts, greens, strict=True):
        for kind, n in ((Priority.ORDINARY, ordinary), (Priority.GREEN, priority)):
            for _ in range(n):
                queued.append(QueuedTicket(len(queued) + 1, code, kind, 1_000 + len(queued)))
    windows = [WindowLoad(n, tuple(cats), available, busy) for n, (cats, available, busy) in enumerate(layout, 1)]
    priority = Priority.GREEN if green else Priority.ORDINARY
    new = QueuedTicket(10_000, category, priority, 10**12)
    expected = estimate_waits([*queued, new], windows, service)[10_000]
    assert estimate_taken_now(queue_counts(queued), windows, service, category, priority) == expected


# --- one ticket from its rank and the counts ------------------------------------------------------------------

_CATEGORIES = "ABCD"  # D: no window serves it


def _competes_before(a: QueuedTicket, b: QueuedTicket) -> bool:
    """The definition of `ahead`, spelt out: a competes with b and routing calls it first."""
    if b.target_window is None:  # priority (False sorts first), then FIFO
        urgency_a, urgency_b = (a.priority is ORD, *a.order), (b.priority is ORD, *b.order)
        return a.target_window is None and a.category == b.category and urgency_a < urgency_b
    return a.target_window == b.target_window and a.order < b.order


_TICKET_SPECS = st.lists(
    st.tuples(
        st.sampled_from(_CATEGORIES),
        st.sampled_from(list(Priority)),
        st.integers(0, 6),  # few keys: ties are broken by id
        st.one_of(st.none(), st.none(), st.integers(1, 5)),  # 5: a window that does not exist
    ),
    max_size=40,
)
_WINDOW_SPECS = st.lists(st.tuples(_WINDOW_LISTS, st.booleans(), st.booleans()), max_size=4)
_SERVICE = st.fixed_dictionaries({c: st.floats(1.0, 4000.0) for c in _CATEGORIES})


@settings(max_examples=400)
@given(_TICKET_SPECS, _WINDOW_SPECS, _SERVICE, st.randoms(use_true_random=False))
def test_one_tickets_estimate_from_its_rank_is_estimate_waits(
    specs: list[tuple[str, Priority, int, int | None]],
    window_specs: list[tuple[list[str], bool, bool]],
    service: dict[str, float],
    random: Any,
) -> None:
    queued = [t(i, c, p, key, target) for i, (c, p, key, target) in enumerate(specs, start=1)]
    windows = [win(n, *cats, available=a, busy=b) for n, (cats, a, b) in enumerate(window_specs, start=1)]
    random.shuffle(windows)  # the number orders the windows, not the list
    expected = estimate_waits(queued, windows, service)
    counts = queue_counts(queued).untargeted
    forecast = Forecast(counts, windows, service)
    for q in queued:
        ahead = sum(_competes_before(other, q) for other in queued)
        assert estimate_ticket(q, ahead, counts, windows, service) == expected[q.id]
        assert forecast.estimate(q, ahead) == expected[q.id]


def test_a_forecast_keeps_the_state_it_was_made_for() -> None:
    counts = {"A": 3}
    windows = [win(1, "A")]
    forecast = Forecast(counts, windows, {"A": 100.0})
    counts["A"] = 1  # the caller's own counts move on
    windows.clear()
    assert forecast.estimate(t(3, "A"), 2) == Estimate(2, 300)


def test_a_forecast_knows_only_counted_tickets() -> None:
    forecast = Forecast({"A": 2, "B": 0}, [win(1, "A", "B")], {"A": 100.0, "B": 100.0})
    with pytest.raises(ValueError, match="2 untargeted 'A' tickets are counted"):
        forecast.estimate(t(9, "A"), 2)
    with pytest.raises(ValueError, match="0 untargeted 'B'"):
        forecast.estimate(t(9, "B"), 0)
    with pytest.raises(ValueError, match="negative"):
        forecast.estimate(t(9, "A"), -1)
    # A transferred ticket is not in the counts: its window alone serves it.
    assert forecast.estimate(t(9, "B", target=1), 1) == Estimate(1, 200)
    assert forecast.estimate(t(9, "B", target=2), 0) == Estimate(0, None)


def test_a_forecast_checks_service_times_as_estimate_waits_does() -> None:
    forecast = Forecast({"A": 1}, [win(1, "A")], {})
    with pytest.raises(ValueError, match="no mean service time for category 'A'"):
        forecast.estimate(t(1, "A"), 0)
    assert Forecast({"A": 1}, [win(1, "B")], {}).estimate(t(1, "A"), 0) == Estimate(0, None)
