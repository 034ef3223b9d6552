"""Estimated wait per queued ticket, from the queue, the windows' load and mean service times per category.

Method
------
*Ahead.* The tickets routing would call before this one among those competing for the same windows: for an
untargeted ticket, the untargeted queued tickets of its category ordered before it by (priority first, then
queue_key, id) — priority tickets are counted as wholly ahead of ordinary ones, which is what a window sees
whenever its priority streak allows; for a ticket transferred to one window, the tickets transferred to that
window ordered before it by (queue_key, id), as routing rule 1 calls them.

*Servers.* Each available window (open, not paused) that serves category c gives c a share of itself equal
to c's fraction of the work waiting for that window: share_w(c) = n_c·S_c / Σ n_k·S_k over the categories k
the window serves, with n the untargeted queued tickets and S the mean service time. The configured order of
the window's categories is deliberately not weighted in: it only decides which work the window does first,
not how much it must do, and a work-proportional share gives the exact clearing time for the last ticket of
each category when nobody else arrives, while a strict first-category-first share would promise a ticket of
the second category an unbounded wait on a busy morning. A window serving only c is a whole server (share 1).
c_eff = Σ share_w(c); idle_c = the same sum over the available windows that are not busy (hold no called or
serving ticket). A ticket transferred to a window has that window alone as its server (share 1), since rule 1
serves it before anything else, and the mean service time of its own category.

*Wait.* wait = 0 if ahead < idle_c (an idle server takes it now), else (ahead + 1 − idle_c)·S_c / c_eff,
rounded half up to whole seconds; None when no available window serves the ticket. With one category and c
whole windows all busy this is (n + 1)·S/c: with exponential service of rate μ = 1/S, each of the n tickets
ahead and the ticket's own wait for a free server is one of n + 1 departures of a c-server pool, each
1/(cμ) apart in expectation — the full-information M/M/c waiting time given the queue length.

Deliberate simplifications: targeted tickets do not reduce the windows' shares for untargeted ones, the
remaining time of a service in progress is taken as a full mean (memoryless), and future priority arrivals,
which may overtake an ordinary ticket, are not forecast.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority

__all__ = [
    "MAX_SERVICE_S",
    "MIN_SERVICE_S",
    "Estimate",
    "ServiceTimes",
    "WindowLoad",
    "estimate_new",
    "estimate_waits",
]


@dataclass(frozen=True)
class WindowLoad:
    """A window as the estimator sees it."""

    number: int
    categories: tuple[str, ...]
    available: bool  # open and not paused
    busy: bool  # holds a called or serving ticket


@dataclass(frozen=True)
class Estimate:
    """How many tickets are ahead, and the expected wait in seconds (None when no window can serve it now)."""

    ahead: int
    wait_s: int | None


def _service_time(service_s: Mapping[str, float], category: str) -> float:
    try:
        value = float(service_s[category])
    except KeyError:
        raise ValueError(f"no mean service time for category {category!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"the mean service time for category {category!r} must be positive, got {value}")
    return value


def _wait(ahead: int, idle: float, servers: float, mean_s: float) -> int:
    if ahead < idle:
        return 0
    return math.floor((ahead + 1 - idle) * mean_s / servers + 0.5)


def _urgency(t: QueuedTicket) -> tuple[int, int, int]:
    return (0 if t.priority is not Priority.ORDINARY else 1, t.queue_key, t.id)


def estimate_waits(
    queued: Sequence[QueuedTicket],
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
) -> dict[int, Estimate]:
    """The estimate for every queued ticket, keyed by ticket id (method in the module docstring)."""
    by_category: dict[str, list[QueuedTicket]] = defaultdict(list)
    by_target: dict[int, list[QueuedTicket]] = defaultdict(list)
    seen: set[int] = set()
    for t in queued:
        if t.id in seen:
            raise ValueError(f"ticket {t.id} is queued twice")
        seen.add(t.id)
        if t.target_window is None:
            by_category[t.category].append(t)
        else:
            by_target[t.target_window].append(t)

    # Work waiting per category, and each category's effective and idle servers.
    work = {c: len(ts) * _service_time(service_s, c) for c, ts in by_category.items() if _serves_any(windows, c)}
    servers: dict[str, float] = defaultdict(float)
    idle: dict[str, float] = defaultdict(float)
    for w in windows:
        if not w.available:
            continue
        served = [c for c in dict.fromkeys(w.categories) if c in work]
        total = sum(work[c] for c in served)
        for c in served:
            share = work[c] / total
            servers[c] += share
            if not w.busy:
                idle[c] += share

    result: dict[int, Estimate] = {}
    for c, tickets in by_category.items():
        tickets.sort(key=_urgency)
        for ahead, t in enumerate(tickets):
            wait = _wait(ahead, idle[c], servers[c], _service_time(service_s, c)) if servers.get(c) else None
            result[t.id] = Estimate(ahead, wait)

    loads = {w.number: w for w in windows}
    for number, tickets in by_target.items():
        tickets.sort(key=lambda t: (t.queue_key, t.id))
        window = loads.get(number)
        for ahead, t in enumerate(tickets):
            if window is None or not window.available:
                result[t.id] = Estimate(ahead, None)
            else:
                free = 0.0 if window.busy else 1.0
                result[t.id] = Estimate(ahead, _wait(ahead, free, 1.0, _service_time(service_s, t.category)))
    return result


def estimate_new(
    queued: Sequence[QueuedTicket],
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    categories: Sequence[str],
) -> dict[str, Estimate]:
    """For each category, the estimate of one ordinary ticket taken now, by the same method as estimate_waits.

    Equal to adding that one ticket to `queued` and calling estimate_waits, category by category, but in
    one pass over the queue: kiosk tiles and every board message carry it.
    """
    counts: dict[str, int] = defaultdict(int)
    for t in queued:
        if t.target_window is None:
            counts[t.category] += 1
    result: dict[str, Estimate] = {}
    for c in categories:
        if not _serves_any(windows, c):
            result[c] = Estimate(counts[c], None)
            continue
        # The new ticket adds its own work to c, which shifts the windows' shares toward c.
        work_c = (counts[c] + 1) * _service_time(service_s, c)
        servers = idle = 0.0
        for w in windows:
            if not w.available or c not in w.categories:
                continue
            others = sum(
                counts[k] * _service_time(service_s, k)
                for k in dict.fromkeys(w.categories)
                if k != c and counts[k] and _serves_any(windows, k)
            )
            share = work_c / (work_c + others)
            servers += share
            if not w.busy:
                idle += share
        result[c] = Estimate(counts[c], _wait(counts[c], idle, servers, _service_time(service_s, c)))
    return result


def _serves_any(windows: Sequence[WindowLoad], category: str) -> bool:
    """Whether an available window serves `category` (only then is its service time needed)."""
    return any(w.available and category in w.categories for w in windows)


#: Shortest duration an observation counts as: a service never takes no time, and the mean must stay positive.
MIN_SERVICE_S = 1.0
#: Longest plausible service: a longer one is a clerk who forgot to press finish, and is ignored.
MAX_SERVICE_S = 4 * 3600.0


class ServiceTimes:
    """Mean service duration per category as an exponentially weighted moving average (pure; no clock).

    mean ← (1 − alpha)·mean + alpha·x, starting from the configured default (or `fallback` for a category
    without one). Observations that are negative, not finite or longer than MAX_SERVICE_S are ignored; the
    rest are clipped to [MIN_SERVICE_S, clip_factor × the current mean], so one forgotten finish button moves
    the mean by a bounded factor (at most 1 − alpha + alpha·clip_factor) while a real, lasting change is still
    followed within a few observations.
    """

    def __init__(
        self,
        defaults: Mapping[str, float],
        alpha: float = 0.2,
        *,
        fallback: float = 300.0,
        clip_factor: float = 4.0,
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        if not (math.isfinite(clip_factor) and clip_factor >= 1.0):
            raise ValueError(f"clip_factor must be at least 1, got {clip_factor}")
        for name, value in {**defaults, "(fallback)": fallback}.items():
            if not (math.isfinite(value) and MIN_SERVICE_S <= value <= MAX_SERVICE_S):
                raise ValueError(
                    f"the service time for {name} must be between {MIN_SERVICE_S} and {MAX_SERVICE_S} s, got {value}"
                )
        self.alpha = alpha
        self.fallback = float(fallback)
        self.clip_factor = clip_factor
        self._means: dict[str, float] = {c: float(v) for c, v in defaults.items()}

    def observe(self, category: str, seconds: float) -> None:
        """Fold one finished service's duration into the category's mean (absurd values are ignored)."""
        if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SERVICE_S:
            return
        mean = self.mean(category)
        x = min(max(seconds, MIN_SERVICE_S), self.clip_factor * mean)
        self._means[category] = (1.0 - self.alpha) * mean + self.alpha * x

    def mean(self, category: str) -> float:
        """The current mean for `category` in seconds (the fallback for a category never seen)."""
        return self._means.get(category, self.fallback)

    def snapshot(self) -> dict[str, float]:
        """A copy of the means of every category with a default or an observation."""
        return dict(self._means)
