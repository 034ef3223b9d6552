"""Routing: which queued ticket a window calls next, and where a re-queued no-show goes back in line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from queue_server.domain.tickets import Priority

__all__ = ["Pick", "QueuedTicket", "choose", "pick_next", "requeue_key"]


@dataclass(frozen=True, slots=True)
class QueuedTicket:
    """A callable ticket as routing sees it.

    `queue_key` orders the queue: the arrival time in microseconds, or the position a re-queued no-show was
    given (see `requeue_key`). A transferred ticket keeps its key, so it does not lose its place by being
    sent on. `target_window` is set when the ticket was transferred to one specific window.
    """

    id: int
    category: str
    priority: Priority
    queue_key: int
    target_window: int | None = None

    @property
    def order(self) -> tuple[int, int]:
        """Strict FIFO within a class: by queue key, then by id (ids break ties deterministically)."""
        return (self.queue_key, self.id)


@dataclass(frozen=True)
class Pick:
    """The ticket a window should call, its new priority streak, and which rule chose it."""

    ticket: QueuedTicket
    priority_streak: int
    rule: str  # "transferred" | "priority" | "category"


def pick_next(
    window: int,
    categories: Sequence[str],
    queued: Iterable[QueuedTicket],
    priority_streak: int,
    streak_max: int,
) -> Pick | None:
    """Choose the next ticket for `window`, which serves `categories` in that order of preference.

    1. A ticket transferred to this window goes first (oldest first); the streak is unchanged. A ticket
       transferred to another window is never picked here.
    2. Otherwise, among untargeted tickets of the window's categories: the priority candidate is the oldest
       green-channel or appointment ticket over all those categories; the ordinary candidate is the oldest
       ordinary ticket of the first category, in the window's order, that has one. Priority goes first while
       the window has called fewer than `streak_max` priority tickets in a row (or when no ordinary ticket
       waits), so priority is served promptly without starving the ordinary queue. `streak_max` 0 means
       priority tickets are called only when no ordinary ticket waits.
    3. None when nothing fits.
    """
    if priority_streak < 0 or streak_max < 0:
        raise ValueError(f"streaks cannot be negative (priority_streak={priority_streak}, streak_max={streak_max})")
    rank = {category: i for i, category in reversed(list(enumerate(categories)))}  # first position wins

    transferred: QueuedTicket | None = None
    priority: QueuedTicket | None = None
    ordinary: QueuedTicket | None = None
    for t in queued:
        if t.target_window is not None:
            if t.target_window == window and (transferred is None or t.order < transferred.order):
                transferred = t
            continue
        if t.category not in rank:
            continue
        if t.priority is not Priority.ORDINARY:
            if priority is None or t.order < priority.order:
                priority = t
        elif ordinary is None or (rank[t.category], *t.order) < (rank[ordinary.category], *ordinary.order):
            ordinary = t

    return choose(transferred, priority, ordinary, priority_streak, streak_max)


def choose(
    transferred: QueuedTicket | None,
    priority: QueuedTicket | None,
    ordinary: QueuedTicket | None,
    priority_streak: int,
    streak_max: int,
) -> Pick | None:
    """Rules 1–3 of pick_next between a window's three candidates (also used by `queue_index.QueueIndex.pick`)."""
    if transferred is not None:
        return Pick(transferred, priority_streak, "transferred")
    if priority is not None and (ordinary is None or priority_streak < streak_max):
        return Pick(priority, priority_streak + 1, "priority")
    if ordinary is not None:
        return Pick(ordinary, 0, "category")
    return None


def requeue_key(now_key: int, waiting_keys: Sequence[int], behind: int) -> int:
    """The queue key for a no-show re-queued at the kiosk, placing it behind `behind` waiting ordinary tickets.

    `waiting_keys` are the keys of the ordinary tickets of its category that wait now (sorted here anyway).
    - fewer than `behind` wait (or exactly `behind`): the end of the queue, `now_key` (or just past the last
      waiting key, should the clock have been set back);
    - `behind` == 0: one before the first waiting key;
    - otherwise the midpoint between the `behind`-th and the next waiting key when there is room. When the two
      keys are adjacent integers there is none, and the `behind`-th key itself is returned: the tie is then
      broken by ticket id (see `QueuedTicket.order`), so the re-queued ticket may land one place earlier than
      asked. Keys are microseconds of arrival, so adjacent keys are practically never seen.
    """
    if behind < 0:
        raise ValueError(f"behind cannot be negative, got {behind}")
    keys = sorted(waiting_keys)
    if len(keys) <= behind:
        return max(now_key, keys[-1] + 1) if keys else now_key
    if behind == 0:
        return keys[0] - 1
    low, high = keys[behind - 1], keys[behind]
    if high - low >= 2:
        return low + (high - low) // 2
    return low
