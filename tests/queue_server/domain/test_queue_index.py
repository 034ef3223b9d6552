"""Tests for the queue index: ranks, counts and the next call kept in step with the queue, against the scans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain.estimate import Forecast, QueueCounts, WindowLoad, estimate_waits, queue_counts
from queue_server.domain.queue_index import QueueIndex
from queue_server.domain.routing import QueuedTicket, pick_next
from queue_server.domain.tickets import Priority

ORD, G, AP = Priority.ORDINARY, Priority.GREEN, Priority.APPOINTMENT
SERVICE = {"A": 100.0, "B": 250.0, "C": 60.0, "D": 500.0}  # D: no window serves it
# Windows with their preference lists, as a hall configures them (C is served by window 3 only).
WINDOWS = {1: ("A",), 2: ("B", "A"), 3: ("A", "B", "C"), 4: ("B",)}


class Estimate:
    """The point figures of an estimate (ahead, wait): the interval and roughness have tests of their own."""

    def __init__(self, ahead: int, wait_s: int | None) -> None:
        self.ahead, self.wait_s = ahead, wait_s

    def __eq__(self, other: object) -> bool:
        return (self.ahead, self.wait_s) == (getattr(other, "ahead", None), getattr(other, "wait_s", None))

    def __repr__(self) -> str:
        return f"Estimate({self.ahead}, {self.wait_s})"


def t(id: int, category: str = "A", priority: Priority = ORD, key: int = 0, target: int | None = None) -> QueuedTicket:
    return QueuedTicket(id, category, priority, key, target)


def check(index: QueueIndex, queued: dict[int, QueuedTicket], loads: list[WindowLoad]) -> None:
    """Every read of the index equals what the scans compute from the same tickets."""
    tickets = list(queued.values())
    expected = estimate_waits(tickets, loads, SERVICE)
    counts = index.counts()
    assert counts == queue_counts(tickets)
    assert len(index) == len(queued) and {q.id for q in index} == set(queued)
    forecast = Forecast(counts.untargeted, loads, SERVICE)
    for q in tickets:
        assert q.id in index and index.get(q.id) == q
        assert index.rank(q.id) == expected[q.id].ahead
        assert forecast.estimate(q, index.rank(q.id)) == expected[q.id]
    for category in "ABCD":
        ranks = [expected[q.id].ahead for q in index.waiting(category)]
        assert ranks == list(range(counts.untargeted.get(category, 0)))
    for number, categories in WINDOWS.items():
        transferred = list(index.transferred_to(number))
        assert [expected[q.id].ahead for q in transferred] == list(range(len(transferred)))
        assert all(q.target_window == number for q in transferred)
        for streak, streak_max in ((0, 2), (2, 2), (0, 0), (1, 3)):
            assert index.pick(number, categories, streak, streak_max) == pick_next(
                number, categories, tickets, streak, streak_max
            )


# An operation: ("add" | "change" | "remove", which ticket, category, priority, key, target window).
_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "change", "remove"]),
        st.integers(0, 30),
        st.sampled_from("ABCD"),
        st.sampled_from(list(Priority)),
        st.integers(0, 8),
        st.one_of(st.none(), st.none(), st.integers(1, 5)),
    ),
    max_size=60,
)


@settings(max_examples=200)
@given(_OPERATIONS, st.lists(st.tuples(st.booleans(), st.booleans()), min_size=4, max_size=4))
def test_random_changes_keep_ranks_counts_and_picks_equal_to_the_scans(
    operations: list[tuple[str, int, str, Priority, int, int | None]], states: list[tuple[bool, bool]]
) -> None:
    loads = [WindowLoad(n, cats, a, b) for (n, cats), (a, b) in zip(WINDOWS.items(), states, strict=True)]
    index = QueueIndex()
    queued: dict[int, QueuedTicket] = {}
    next_id = 1
    for kind, which, category, priority, key, target in operations:
        held = sorted(queued)
        if kind == "add" or not held:
            ticket = t(next_id, category, priority, key, target)
            next_id += 1
            index.add(ticket)
            queued[ticket.id] = ticket
        elif kind == "change":  # a transfer, a re-queue with a new key, a priority or category change
            ticket = t(held[which % len(held)], category, priority, key, target)
            index.put(ticket)
            queued[ticket.id] = ticket
        else:
            gone = held[which % len(held)]
            assert index.remove(gone) == queued.pop(gone)
        check(index, queued, loads)
    check(QueueIndex(queued.values()), queued, loads)  # loading a hall's queue at once gives the same index


def test_built_from_tickets_as_added_one_by_one() -> None:
    tickets = [t(1, "A", key=5), t(2, "A", G, key=9), t(3, "B", AP, key=1), t(4, "A", key=5, target=2)]
    index = QueueIndex(tickets)
    assert [index.rank(i) for i in (1, 2, 3, 4)] == [1, 0, 0, 0]
    assert index.counts() == QueueCounts({"A": 2, "B": 1}, {"A": 1, "B": 1})
    assert [q.id for q in index.waiting("A")] == [2, 1]  # priority first
    assert [q.id for q in index.transferred_to(2)] == [4]


def test_emptied_competitions_leave_no_zero_counts() -> None:
    index = QueueIndex([t(1, "A", G), t(2, "B"), t(3, "C", target=1)])
    for ticket_id in (1, 2, 3):
        index.remove(ticket_id)
    assert index.counts() == QueueCounts({}, {}) == queue_counts([])
    assert len(index) == 0 and list(index) == [] and list(index.waiting("A")) == []
    assert index.pick(1, ["A", "B", "C"], 0, 2) is None


def test_the_same_id_twice_is_a_bug() -> None:
    index = QueueIndex([t(1)])
    with pytest.raises(ValueError, match="ticket 1 is queued twice"):
        index.add(t(1, "B"))
    with pytest.raises(ValueError, match="queued twice"):
        QueueIndex([t(1), t(1)])
    assert index.counts() == QueueCounts({"A": 1}, {})  # the refused add changed nothing


def test_what_is_not_held() -> None:
    index = QueueIndex([t(1)])
    assert index.discard(7) is None and index.get(7) is None and 7 not in index
    with pytest.raises(KeyError):
        index.remove(7)
    with pytest.raises(KeyError):
        index.rank(7)
    assert index.discard(1) == t(1) and index.discard(1) is None


def test_put_moves_a_ticket_between_competitions() -> None:
    index = QueueIndex([t(1, "A", key=1), t(2, "A", key=2), t(3, "A", key=3, target=4)])
    index.put(t(1, "A", key=1, target=4))  # transferred to window 4, keeping its place in time
    assert index.rank(2) == 0 and index.rank(1) == 0 and index.rank(3) == 1
    assert index.counts() == QueueCounts({"A": 1}, {})
    index.put(t(2, "A", G, key=2))  # marked green channel
    assert index.counts() == QueueCounts({"A": 1}, {"A": 1})
    assert [q.id for q in index.waiting("A")] == [2] and [q.id for q in index.transferred_to(4)] == [1, 3]


@pytest.mark.parametrize("streaks", [(-1, 2), (0, -1)])
def test_negative_streaks_are_a_bug_as_in_pick_next(streaks: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="streaks cannot be negative"):
        QueueIndex([t(1)]).pick(1, ["A"], *streaks)


def test_a_rank_is_the_ahead_of_the_estimate() -> None:
    # Three ordinary A tickets and a green one behind them in time: green is counted wholly ahead.
    tickets = [t(1, key=10), t(2, key=20), t(3, key=30), t(4, "A", G, key=40)]
    index = QueueIndex(tickets)
    loads = [WindowLoad(1, ("A",), True, True)]
    forecast = Forecast(index.counts().untargeted, loads, SERVICE)
    assert [forecast.estimate(q, index.rank(q.id)) for q in tickets] == [
        Estimate(1, 200),
        Estimate(2, 300),
        Estimate(3, 400),
        Estimate(0, 100),
    ]
