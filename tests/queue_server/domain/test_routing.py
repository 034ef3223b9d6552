"""Tests for routing: which ticket a window calls next, and re-queue keys."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.domain.routing import Pick, QueuedTicket, pick_next, requeue_key
from queue_server.domain.tickets import Priority

ORD, G, AP = Priority.ORDINARY, Priority.GREEN, Priority.APPOINTMENT


def t(
    id: int, category: str = "A", priority: Priority = ORD, key: int | None = None, target: int | None = None
) -> QueuedTicket:
    return QueuedTicket(id=id, category=category, priority=priority, queue_key=id * 10 if key is None else key,
                        target_window=target)  # fmt: skip


def drain(
    window: int, categories: list[str], queued: Iterable[QueuedTicket], streak_max: int, streak: int = 0
) -> list[tuple[int, str]]:
    """Call tickets one after another until none fits; return (id, rule) in call order."""
    remaining = list(queued)
    calls: list[tuple[int, str]] = []
    while (pick := pick_next(window, categories, remaining, streak, streak_max)) is not None:
        calls.append((pick.ticket.id, pick.rule))
        streak = pick.priority_streak
        remaining.remove(pick.ticket)
    return calls


# --- basics ---------------------------------------------------------------------------------------------------


def test_empty_queue() -> None:
    assert pick_next(1, ["A"], [], 0, 2) is None


def test_nothing_of_my_categories() -> None:
    assert pick_next(1, ["A"], [t(1, "B"), t(2, "C", G)], 0, 2) is None


def test_window_with_no_categories_only_gets_transfers() -> None:
    assert pick_next(1, [], [t(1, "A")], 0, 2) is None
    assert pick_next(1, [], [t(1, "A"), t(2, "B", target=1)], 0, 2) == Pick(t(2, "B", target=1), 0, "transferred")


def test_fifo_by_key() -> None:
    pick = pick_next(1, ["A"], [t(3, key=30), t(1, key=50), t(2, key=10)], 0, 2)
    assert pick == Pick(t(2, key=10), 0, "category")


def test_fifo_tie_broken_by_id() -> None:
    assert drain(1, ["A"], [t(7, key=5), t(3, key=5), t(5, key=5)], 2) == [
        (3, "category"), (5, "category"), (7, "category"),
    ]  # fmt: skip


def test_accepts_any_iterable() -> None:
    pick = pick_next(1, ["A"], iter([t(2), t(1)]), 0, 2)
    assert pick is not None and pick.ticket.id == 1


# --- rule 1: transferred to this window -----------------------------------------------------------------------


def test_transferred_to_me_goes_first() -> None:
    queued = [t(1, "A"), t(2, "A", G), t(3, "Z", key=999, target=1)]
    assert pick_next(1, ["A"], queued, 0, 2) == Pick(t(3, "Z", key=999, target=1), 0, "transferred")


def test_transferred_keeps_the_streak() -> None:
    pick = pick_next(1, ["A"], [t(1, target=1), t(2, priority=G)], 2, 3)
    assert pick is not None and pick.rule == "transferred" and pick.priority_streak == 2


def test_transferred_fifo_by_key_then_id_ignoring_priority() -> None:
    queued = [t(4, priority=G, key=20, target=1), t(2, key=10, target=1), t(1, key=20, target=1)]
    assert drain(1, ["A"], queued, 2) == [(2, "transferred"), (1, "transferred"), (4, "transferred")]


def test_transferred_to_another_window_is_ignored() -> None:
    queued = [t(1, "A", key=1, target=2), t(2, "A", key=5)]
    assert pick_next(1, ["A"], queued, 0, 2) == Pick(t(2, "A", key=5), 0, "category")
    assert pick_next(1, ["A"], [t(1, "A", G, target=2)], 0, 2) is None
    assert pick_next(2, ["B"], queued, 0, 2) == Pick(t(1, "A", key=1, target=2), 0, "transferred")


def test_transferred_to_a_category_keeps_its_place() -> None:
    # A ticket transferred to a category (no target window) keeps its old, early key and so goes first.
    queued = [t(9, "B", key=100), t(1, "B", key=1)]
    assert pick_next(1, ["B"], queued, 0, 2) == Pick(t(1, "B", key=1), 0, "category")


# --- rule 2: priority interleave ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("streak_max", "expected"),
    [
        (1, "PoPoPoPoPoo"),
        (2, "PPoPPoPoooo"),
        (3, "PPPoPPooooo"),
    ],
)
def test_priority_interleave(streak_max: int, expected: str) -> None:
    # 5 priority tickets (ids 1-5, all arrived after the ordinary ones) and 6 ordinary (ids 11-16).
    priority = [t(i, priority=G if i % 2 else AP, key=1000 + i) for i in range(1, 6)]
    ordinary = [t(10 + i, key=i) for i in range(1, 7)]
    calls = drain(1, ["A"], priority + ordinary, streak_max)
    p, o = iter(range(1, 6)), iter(range(11, 17))
    assert calls == [(next(p), "priority") if c == "P" else (next(o), "category") for c in expected]


def test_priority_streak_is_counted_and_reset() -> None:
    queued = [t(1, priority=G, key=50), t(2, key=10)]
    assert pick_next(1, ["A"], queued, 0, 2) == Pick(t(1, priority=G, key=50), 1, "priority")
    assert pick_next(1, ["A"], queued, 1, 2) == Pick(t(1, priority=G, key=50), 2, "priority")
    assert pick_next(1, ["A"], queued, 2, 2) == Pick(t(2, key=10), 0, "category")


def test_priority_with_no_ordinary_waiting_ignores_the_streak() -> None:
    queued = [t(1, priority=G), t(2, priority=AP)]
    assert pick_next(1, ["A"], queued, 5, 2) == Pick(t(1, priority=G), 6, "priority")
    assert drain(1, ["A"], queued, 1, streak=1) == [(1, "priority"), (2, "priority")]


def test_green_and_appointment_share_one_fifo() -> None:
    queued = [t(1, priority=AP, key=30), t(2, priority=G, key=20), t(3, priority=AP, key=10)]
    assert [i for i, _ in drain(1, ["A"], queued, 3)] == [3, 2, 1]


def test_priority_candidate_over_all_my_categories() -> None:
    queued = [t(1, "A", key=5), t(2, "B", G, key=50), t(3, "A", G, key=60), t(4, "C", G, key=1)]
    # C is not served by this window; B's green ticket is older than A's.
    assert pick_next(1, ["A", "B"], queued, 0, 2) == Pick(t(2, "B", G, key=50), 1, "priority")


def test_streak_max_zero_means_priority_only_when_no_ordinary() -> None:
    queued = [t(1, priority=G, key=1), t(2, key=10)]
    assert drain(1, ["A"], queued, 0) == [(2, "category"), (1, "priority")]


@pytest.mark.parametrize(("streak", "streak_max"), [(-1, 2), (0, -1)])
def test_negative_streaks_are_a_bug(streak: int, streak_max: int) -> None:
    with pytest.raises(ValueError):
        pick_next(1, ["A"], [t(1)], streak, streak_max)


# --- rule 2: category order -----------------------------------------------------------------------------------


def test_first_category_with_an_ordinary_ticket_wins() -> None:
    queued = [t(1, "B", key=1), t(2, "A", key=100), t(3, "C", key=0)]
    assert pick_next(1, ["A", "B"], queued, 0, 2) == Pick(t(2, "A", key=100), 0, "category")
    assert pick_next(1, ["B", "A"], queued, 0, 2) == Pick(t(1, "B", key=1), 0, "category")


def test_falls_through_to_the_next_category() -> None:
    queued = [t(1, "B", key=30), t(2, "C", key=20), t(3, "B", key=10)]
    assert pick_next(1, ["A", "B", "C"], queued, 0, 2) == Pick(t(3, "B", key=10), 0, "category")


def test_category_order_drains_first_category_first() -> None:
    queued = [t(1, "B", key=1), t(2, "A", key=2), t(3, "B", key=3), t(4, "A", key=4)]
    assert [i for i, _ in drain(1, ["A", "B"], queued, 2)] == [2, 4, 1, 3]


def test_priority_of_second_category_does_not_make_it_first_for_ordinary() -> None:
    queued = [t(1, "B", G, key=1), t(2, "B", key=2), t(3, "A", key=3)]
    assert drain(1, ["A", "B"], queued, 1) == [(1, "priority"), (3, "category"), (2, "category")]


def test_duplicate_category_in_config_is_harmless() -> None:
    queued = [t(1, "B", key=1), t(2, "A", key=2)]
    assert pick_next(1, ["A", "B", "A"], queued, 0, 2) == Pick(t(2, "A", key=2), 0, "category")


# --- properties -----------------------------------------------------------------------------------------------

tickets_strategy = st.lists(
    st.builds(
        QueuedTicket,
        id=st.integers(1, 40),
        category=st.sampled_from(["A", "B", "C"]),
        priority=st.sampled_from(list(Priority)),
        queue_key=st.integers(0, 20),
        target_window=st.one_of(st.none(), st.integers(1, 3)),
    ),
    max_size=25,
    unique_by=lambda q: q.id,
)


@given(
    tickets_strategy,
    st.lists(st.sampled_from(["A", "B", "C"]), max_size=3, unique=True),
    st.integers(0, 4),
    st.integers(0, 4),
)
def test_pick_is_always_eligible_and_fifo_within_its_class(
    queued: list[QueuedTicket], categories: list[str], streak: int, streak_max: int
) -> None:
    pick = pick_next(1, categories, queued, streak, streak_max)
    eligible = [q for q in queued if q.target_window == 1 or (q.target_window is None and q.category in categories)]
    if not eligible:
        assert pick is None
        return
    assert pick is not None
    chosen = pick.ticket
    assert chosen in eligible
    if pick.rule == "transferred":
        same_class = [q for q in queued if q.target_window == 1]
        assert pick.priority_streak == streak
    elif pick.rule == "priority":
        assert not any(q.target_window == 1 for q in queued)
        same_class = [q for q in eligible if q.priority is not Priority.ORDINARY]
        assert pick.priority_streak == streak + 1
    else:
        assert pick.rule == "category"
        same_class = [q for q in eligible if q.priority is Priority.ORDINARY and q.category == chosen.category]
        assert pick.priority_streak == 0
    assert chosen == min(same_class, key=lambda q: (q.queue_key, q.id))


@given(tickets_strategy, st.integers(0, 3))
def test_draining_calls_every_eligible_ticket_exactly_once(queued: list[QueuedTicket], streak_max: int) -> None:
    calls = drain(1, ["A", "B"], queued, streak_max)
    eligible = {q.id for q in queued if q.target_window == 1 or (q.target_window is None and q.category in "AB")}
    assert sorted(i for i, _ in calls) == sorted(eligible)


# --- requeue_key ----------------------------------------------------------------------------------------------


def test_requeue_with_fewer_waiting_than_behind_goes_to_the_end() -> None:
    assert requeue_key(1000, [10, 20], 3) == 1000
    assert requeue_key(1000, [], 3) == 1000


def test_requeue_with_exactly_behind_waiting_goes_to_the_end() -> None:
    assert requeue_key(1000, [10, 20, 30], 3) == 1000


def test_requeue_with_clock_set_back_still_goes_to_the_end() -> None:
    assert requeue_key(5, [10, 20], 3) == 21


def test_requeue_behind_zero_goes_first() -> None:
    assert requeue_key(1000, [10, 20, 30], 0) == 9
    assert requeue_key(1000, [], 0) == 1000


def test_requeue_midpoint() -> None:
    assert requeue_key(1000, [10, 20, 30], 1) == 15
    assert requeue_key(1000, [10, 20, 30], 2) == 25
    assert requeue_key(1000, [10, 13, 30], 1) == 11


def test_requeue_adjacent_keys_tie_with_the_one_before() -> None:
    assert requeue_key(1000, [10, 11, 30], 1) == 10
    assert requeue_key(1000, [10, 10, 30], 2) == 20
    assert requeue_key(1000, [5, 10, 11], 2) == 10


def test_requeue_sorts_the_waiting_keys() -> None:
    assert requeue_key(1000, [30, 10, 20], 1) == 15


def test_requeue_negative_behind_is_a_bug() -> None:
    with pytest.raises(ValueError):
        requeue_key(1000, [10], -1)


@given(
    st.lists(st.integers(0, 10**6), max_size=20, unique=True).map(sorted),
    st.integers(0, 25),
)
def test_requeued_ticket_lands_behind_exactly_behind_tickets(waiting: list[int], behind: int) -> None:
    now = 10**7
    key = requeue_key(now, waiting, behind)
    ahead = sum(1 for k in waiting if k < key)
    ties = sum(1 for k in waiting if k == key)
    expected = min(behind, len(waiting))
    # Strictly behind `expected` tickets, or tied with the last of them (then the id decides).
    assert ahead == expected or (ahead == expected - 1 and ties == 1)
    if len(waiting) <= behind:
        assert key == now
