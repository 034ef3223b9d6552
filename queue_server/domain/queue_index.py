"""The callable tickets of a hall, indexed so that a rank, the counts and the next call cost O(log n), not a scan.

Each competition estimate_waits and routing know keeps its tickets in a sorted list: the untargeted tickets of a
category in (priority first, queue_key, id) order — estimate's `_urgency`, where a ticket's index is its
`ahead` — and the tickets transferred to a window in (queue_key, id) order, as routing rule 1 calls them.
Adding, removing or changing a ticket touches one or two of these lists (O(log n) each, sortedcontainers'
SortedList); a rank is a bisection; the counts are kept as the tickets come and go. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sortedcontainers import SortedList

from queue_server.domain.estimate import QueueCounts
from queue_server.domain.routing import Pick, QueuedTicket, choose
from queue_server.domain.tickets import Priority

__all__ = ["QueueIndex"]

# A ticket's place in its competition: (0 priority / 1 ordinary, queue_key, id) untargeted, (queue_key, id) targeted.
_Key = tuple[int, ...]


def _key(t: QueuedTicket) -> _Key:
    if t.target_window is not None:
        return (t.queue_key, t.id)
    return (0 if t.priority is not Priority.ORDINARY else 1, t.queue_key, t.id)


class QueueIndex:
    """The queued tickets routing may call, with each one's rank among its competitors and the queue's counts.

    `rank(id)` is the `ahead` estimate_waits gives the ticket, `counts()` equals `queue_counts` of the
    tickets, and `pick(...)` equals `routing.pick_next` over them. A ticket id is held at most once;
    `put` adds a ticket or replaces the one with its id (a transfer, a re-queue, a priority change).
    """

    __slots__ = ("_by_category", "_by_target", "_priority", "_tickets")

    def __init__(self, tickets: Iterable[QueuedTicket] = ()) -> None:
        self._tickets: dict[int, QueuedTicket] = {}
        self._by_category: dict[str, SortedList] = {}  # untargeted tickets' keys per category
        self._by_target: dict[int, SortedList] = {}  # targeted tickets' keys per target window
        self._priority: dict[str, int] = {}  # untargeted priority tickets per category, never 0
        # Loading a hall: one sort per competition rather than n insertions.
        untargeted: dict[str, list[_Key]] = {}
        targeted: dict[int, list[_Key]] = {}
        for t in tickets:
            if t.id in self._tickets:
                raise ValueError(f"ticket {t.id} is queued twice")
            self._tickets[t.id] = t
            if t.target_window is not None:
                targeted.setdefault(t.target_window, []).append(_key(t))
                continue
            untargeted.setdefault(t.category, []).append(_key(t))
            if t.priority is not Priority.ORDINARY:
                self._priority[t.category] = self._priority.get(t.category, 0) + 1
        self._by_category = {c: SortedList(keys) for c, keys in untargeted.items()}
        self._by_target = {w: SortedList(keys) for w, keys in targeted.items()}

    # -- changes ---------------------------------------------------------------------------------

    def add(self, ticket: QueuedTicket) -> None:
        """Add a ticket; ValueError if a ticket with its id is already held."""
        if ticket.id in self._tickets:
            raise ValueError(f"ticket {ticket.id} is queued twice")
        self._tickets[ticket.id] = ticket
        self._list_of(ticket, create=True).add(_key(ticket))
        if ticket.target_window is None and ticket.priority is not Priority.ORDINARY:
            self._priority[ticket.category] = self._priority.get(ticket.category, 0) + 1

    def discard(self, ticket_id: int) -> QueuedTicket | None:
        """Drop a ticket (called, cancelled, expired); the ticket dropped, or None when it was not held."""
        ticket = self._tickets.pop(ticket_id, None)
        if ticket is None:
            return None
        keys = self._list_of(ticket, create=False)
        keys.remove(_key(ticket))
        if not keys:  # empty competitions go, so the counts name only categories with tickets
            if ticket.target_window is None:
                del self._by_category[ticket.category]
            else:
                del self._by_target[ticket.target_window]
        if ticket.target_window is None and ticket.priority is not Priority.ORDINARY:
            left = self._priority[ticket.category] - 1
            if left:
                self._priority[ticket.category] = left
            else:
                del self._priority[ticket.category]
        return ticket

    def remove(self, ticket_id: int) -> QueuedTicket:
        """Drop a ticket that must be held (KeyError otherwise); the ticket dropped."""
        ticket = self.discard(ticket_id)
        if ticket is None:
            raise KeyError(ticket_id)
        return ticket

    def put(self, ticket: QueuedTicket) -> None:
        """Add a ticket, or replace the one held with its id."""
        self.discard(ticket.id)
        self.add(ticket)

    def _list_of(self, ticket: QueuedTicket, *, create: bool) -> SortedList:
        """The sorted keys of the ticket's competition (made when `create`, else it must exist)."""
        if ticket.target_window is None:
            keys = self._by_category.get(ticket.category)
            if keys is None and create:
                keys = self._by_category[ticket.category] = SortedList()
        else:
            keys = self._by_target.get(ticket.target_window)
            if keys is None and create:
                keys = self._by_target[ticket.target_window] = SortedList()
        if keys is None:
            raise AssertionError(f"ticket {ticket.id} is held but not in its competition's list")
        return keys

    # -- reads -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tickets)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._tickets

    def __iter__(self) -> Iterator[QueuedTicket]:
        """Every ticket held, in the order they were added (routing does not depend on it)."""
        return iter(self._tickets.values())

    def get(self, ticket_id: int) -> QueuedTicket | None:
        return self._tickets.get(ticket_id)

    def rank(self, ticket_id: int) -> int:
        """How many competitors routing calls before this ticket: estimate_waits' `ahead` (KeyError if not held)."""
        ticket = self._tickets[ticket_id]
        return int(self._list_of(ticket, create=False).bisect_left(_key(ticket)))

    def counts(self) -> QueueCounts:
        """The untargeted and priority tickets per category, as `queue_counts` (O(categories))."""
        return QueueCounts({c: len(keys) for c, keys in self._by_category.items()}, dict(self._priority))

    def waiting(self, category: str) -> Iterator[QueuedTicket]:
        """The untargeted tickets of `category` in the order their ranks count (priority first, then FIFO)."""
        for key in self._by_category.get(category, ()):
            yield self._tickets[key[-1]]

    def transferred_to(self, window: int) -> Iterator[QueuedTicket]:
        """The tickets transferred to `window`, oldest first (the order rule 1 calls them)."""
        for key in self._by_target.get(window, ()):
            yield self._tickets[key[-1]]

    def pick(self, window: int, categories: Sequence[str], priority_streak: int, streak_max: int) -> Pick | None:
        """`routing.pick_next(window, categories, <the tickets held>, ...)`, in O(categories · log n).

        A category's list holds its priority tickets first, each part oldest first: its first entry is its
        oldest priority ticket (if it is one), and the entry after its priority tickets its oldest ordinary one.
        """
        if priority_streak < 0 or streak_max < 0:
            raise ValueError(f"streaks cannot be negative (priority_streak={priority_streak}, streak_max={streak_max})")
        targeted = self._by_target.get(window)
        transferred = self._tickets[targeted[0][-1]] if targeted else None
        priority: QueuedTicket | None = None
        ordinary: QueuedTicket | None = None
        for category in dict.fromkeys(categories):
            keys = self._by_category.get(category)
            if not keys:
                continue
            first: _Key = keys[0]
            if first[0] == 0 and (priority is None or first[1:] < priority.order):
                priority = self._tickets[first[-1]]
            if ordinary is None:
                priorities = self._priority.get(category, 0)
                if priorities < len(keys):
                    ordinary = self._tickets[keys[priorities][-1]]
        return choose(transferred, priority, ordinary, priority_streak, streak_max)
