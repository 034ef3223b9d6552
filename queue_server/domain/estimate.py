"""Estimated wait per queued ticket, from the queue, the windows' load and mean service times per category.

Method
------
*Ahead.* The tickets routing would call before this one among those competing for the same windows: for an
untargeted ticket, the untargeted queued tickets of its category ordered before it by (priority first, then
queue_key, id) — priority tickets are counted as wholly ahead of ordinary ones, which is what a window sees
whenever its priority streak allows; for a ticket transferred to one window, the tickets transferred to that
window ordered before it by (queue_key, id), as routing rule 1 calls them.

*Calls, as a fluid.* The untargeted queues are cleared the way routing clears them, in each window's own
order of preference. At once, each available (open, not paused) window that is idle (holds no called or
serving ticket) calls one ticket of the first category in its list that has one, in window-number order.
From then on every available window calls the first category in its list that still has tickets not yet
called, continuously at the rate 1/S of that category (S its mean service time); when a category runs out,
its windows move on to their next one. A ticket with `ahead` tickets before it is called when its category's
calls reach ahead + 1: wait = 0 if the idle windows' calls reach it, else the time the fluid takes to get
there, rounded half up to whole seconds; None when no available window serves its category. A ticket
transferred to a window has that window alone as its server, since rule 1 serves it before anything else:
wait = 0 if the window is idle and nobody transferred there is ahead, else (ahead + 1 − idle)·S of its own
category.

*Why.* With one category on c whole windows this is (ahead + 1 − idle)·S/c, and with all windows busy
(n + 1)·S/c: with exponential service of rate μ = 1/S, each of the n tickets ahead and the ticket's own wait
for a free server is one of n + 1 departures of a c-server pool, each 1/(cμ) apart in expectation — the
full-information M/M/c waiting time given the queue length. With shared windows, following the windows'
preferences is what routing does: a window stays on its first category while that has a queue, so a second
category's ticket waits for that queue to clear (a bounded time), then gets the window. The previous method
split a shared window among its categories in proportion to the work waiting: that promised a window's first
category far longer waits than it saw and its last ones shorter (docs/simulation.md measures both).

Deliberate simplifications: targeted tickets do not delay untargeted ones, the remaining time of a service in
progress is taken as a full mean of the category called next (memoryless), idle windows call in number order
(whichever clerk presses first), and future arrivals — priority ones may overtake an ordinary ticket, and a
window's preferred category may refill — are not forecast.

*One ticket.* The fluid depends on the queue only through the number of untargeted tickets per category, and a
ticket's wait only on its `ahead` and its category's calls (or, targeted, its window): `Forecast` runs the fluid
once over the counts (O(categories × windows), never over the tickets) and answers any queued ticket from its
rank, exactly as estimate_waits would; `queue_index.QueueIndex` keeps the ranks and counts in step in O(log n).

*Mean service time.* `ServiceTimes`: per category, the configured time counts as `prior` observations and
the first services are averaged with it, then the mean becomes a moving average of about the last 2/alpha
services (alpha 0.01: ~200). The server learns from call to finish, the time a window is held.
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
    "Forecast",
    "QueueCounts",
    "ServiceTimes",
    "WindowLoad",
    "estimate_new",
    "estimate_taken_now",
    "estimate_ticket",
    "estimate_waits",
    "queue_counts",
]

# Fluid quantities are sums of fractions of tickets: below this a category has run out.
_EPS = 1e-9


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


# A stretch of the fluid during which the same windows call one category: (its start in seconds, the
# category's calls made before it, how many windows call the category during it).
_Phase = tuple[float, float, int]
# An available window as the fluid sees it: whether it is busy, and its categories in order, without repeats.
_Server = tuple[bool, tuple[str, ...]]


@dataclass(frozen=True)
class _Calls:
    """One category's calls over time: `at_once` by idle windows at time 0, then the fluid's phases."""

    mean_s: float
    at_once: int
    phases: tuple[_Phase, ...]

    def wait(self, ahead: int) -> int:
        needed = ahead + 1
        if needed <= self.at_once:
            return 0
        # Calls only grow: the last phase that started below `needed` reaches it.
        start_s, calls, windows = next(p for p in reversed(self.phases) if p[1] < needed - _EPS)
        return _round((needed - calls) * self.mean_s / windows + start_s)


def _service_time(service_s: Mapping[str, float], category: str) -> float:
    try:
        value = float(service_s[category])
    except KeyError:
        raise ValueError(f"no mean service time for category {category!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"the mean service time for category {category!r} must be positive, got {value}")
    return value


def _round(seconds: float) -> int:
    # Half up; a microsecond's slack keeps the float noise of the fluid's steps from flipping a half.
    return math.floor(seconds + 0.5 + 1e-6)


def _urgency(t: QueuedTicket) -> tuple[int, int, int]:
    return (0 if t.priority is not Priority.ORDINARY else 1, t.queue_key, t.id)


def _servers(windows: Sequence[WindowLoad]) -> list[_Server]:
    """The available windows in number order: the order idle windows call in."""
    return [
        (w.busy, tuple(dict.fromkeys(w.categories))) for w in sorted(windows, key=lambda w: w.number) if w.available
    ]


def _fluid(counts: Mapping[str, int], servers: Sequence[_Server], service_s: Mapping[str, float]) -> dict[str, _Calls]:
    """The calls of every category with untargeted tickets waiting that an available window serves.

    Depends on `counts` only through its values (never its order), so one more ticket in a category gives
    exactly what estimate_waits computes with that ticket queued.
    """
    left = {c: float(counts[c]) for _, served in servers for c in served if counts.get(c, 0) > 0}  # not yet called
    means = {c: _service_time(service_s, c) for c in left}
    called = dict.fromkeys(left, 0.0)
    at_once = dict.fromkeys(left, 0)
    phases: dict[str, list[_Phase]] = {c: [] for c in left}
    lists = [[c for c in served if c in left] for _, served in servers]
    position = [0] * len(lists)  # each window's current category; categories only run out, so it only moves on

    def current(i: int) -> str | None:
        served, p = lists[i], position[i]
        while p < len(served) and left[served[p]] <= _EPS:
            p += 1
        position[i] = p
        return served[p] if p < len(served) else None

    for i, (busy, _) in enumerate(servers):
        if not busy and (first := current(i)) is not None:
            at_once[first] += 1
            left[first] -= 1.0
            called[first] += 1.0

    on: dict[str, list[int]] = {}  # the windows calling each category
    for i in range(len(lists)):
        if (first := current(i)) is not None:
            on.setdefault(first, []).append(i)
    now = 0.0
    while on:
        # A phase lasts until the first of the categories being called runs out; then its windows move on.
        step = min(left[c] * means[c] / len(ws) for c, ws in on.items())
        ran_out = []
        for c, ws in on.items():
            phases[c].append((now, called[c], len(ws)))
            moved = step * len(ws) / means[c]
            called[c] += moved
            if left[c] - moved > _EPS:
                left[c] -= moved
            else:
                left[c] = 0.0
                ran_out.append(c)
        now += step
        for c in ran_out:
            for i in on.pop(c):
                if (following := current(i)) is not None:
                    on.setdefault(following, []).append(i)
    return {c: _Calls(means[c], at_once[c], tuple(phases[c])) for c in left}


def _targeted_wait(ahead: int, window: WindowLoad, mean_s: float) -> int:
    idle = 0 if window.busy else 1
    return 0 if ahead < idle else _round((ahead + 1 - idle) * mean_s)


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

    calls = _fluid({c: len(ts) for c, ts in by_category.items()}, _servers(windows), service_s)
    result: dict[int, Estimate] = {}
    for c, tickets in by_category.items():
        tickets.sort(key=_urgency)
        for ahead, t in enumerate(tickets):
            result[t.id] = Estimate(ahead, calls[c].wait(ahead) if c in calls else None)

    loads = {w.number: w for w in windows}
    for number, tickets in by_target.items():
        tickets.sort(key=lambda t: (t.queue_key, t.id))
        window = loads.get(number)
        for ahead, t in enumerate(tickets):
            if window is None or not window.available:
                result[t.id] = Estimate(ahead, None)
            else:
                result[t.id] = Estimate(ahead, _targeted_wait(ahead, window, _service_time(service_s, t.category)))
    return result


class Forecast:
    """The estimate of any queued ticket from its rank, for one state of the queue and the windows.

    Built from the untargeted tickets per category (`QueueCounts.untargeted`), the window loads and the mean
    service times; the fluid runs once, on the first estimate (O(categories × windows)), and each estimate
    after it is a look-up. `estimate(ticket, ahead)` is exactly `estimate_waits(queued, windows,
    service_s)[ticket.id]` when `counts` are the queue's and `ahead` is the ticket's rank among its
    competitors (untargeted: its category's untargeted tickets in (priority first, queue_key, id) order;
    targeted: the tickets transferred to its window in (queue_key, id) order). The inputs are copied, so a
    caller may go on changing its own counts.
    """

    __slots__ = ("_calls", "_counts", "_loads", "_service_s", "_windows")

    def __init__(
        self, counts: Mapping[str, int], windows: Sequence[WindowLoad], service_s: Mapping[str, float]
    ) -> None:
        self._counts = {c: n for c, n in counts.items() if n > 0}
        self._windows = tuple(windows)
        self._service_s = dict(service_s)
        self._loads = {w.number: w for w in self._windows}  # the last of a repeated number, as estimate_waits
        self._calls: dict[str, _Calls] | None = None

    def estimate(self, ticket: QueuedTicket, ahead: int) -> Estimate:
        """The estimate of a queued `ticket` with `ahead` competitors before it (see the class docstring)."""
        if ahead < 0:
            raise ValueError(f"ahead cannot be negative, got {ahead}")
        if ticket.target_window is not None:
            window = self._loads.get(ticket.target_window)
            if window is None or not window.available:
                return Estimate(ahead, None)
            return Estimate(ahead, _targeted_wait(ahead, window, _service_time(self._service_s, ticket.category)))
        queued = self._counts.get(ticket.category, 0)
        if ahead >= queued:
            raise ValueError(
                f"ticket {ticket.id} has {ahead} ahead, but {queued} untargeted {ticket.category!r} tickets are counted"
            )
        if self._calls is None:
            self._calls = _fluid(self._counts, _servers(self._windows), self._service_s)
        calls = self._calls.get(ticket.category)
        return Estimate(ahead, None if calls is None else calls.wait(ahead))


def estimate_ticket(
    ticket: QueuedTicket,
    ahead: int,
    counts: Mapping[str, int],
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
) -> Estimate:
    """One queued ticket's estimate from its rank and the counts: `estimate_waits(...)[ticket.id]` without the queue.

    `counts` is `QueueCounts.untargeted` of the queue holding the ticket; see `Forecast`, which reuses one
    fluid for many tickets of the same state.
    """
    return Forecast(counts, windows, service_s).estimate(ticket, ahead)


@dataclass(frozen=True)
class QueueCounts:
    """What estimating a new ticket needs of the queue: untargeted tickets, and priority ones, per category."""

    untargeted: Mapping[str, int]
    priority: Mapping[str, int]


def queue_counts(queued: Sequence[QueuedTicket]) -> QueueCounts:
    untargeted: dict[str, int] = defaultdict(int)
    priority: dict[str, int] = defaultdict(int)
    for t in queued:
        if t.target_window is None:
            untargeted[t.category] += 1
            if t.priority is not Priority.ORDINARY:
                priority[t.category] += 1
    return QueueCounts(dict(untargeted), dict(priority))


def _new_ticket(
    counts: Mapping[str, int], servers: Sequence[_Server], service_s: Mapping[str, float], category: str, ahead: int
) -> Estimate:
    # The new ticket adds its own work to its category: an idle window may now call it, a shared one stays longer.
    calls = _fluid({**counts, category: counts.get(category, 0) + 1}, servers, service_s)
    return Estimate(ahead, calls[category].wait(ahead) if category in calls else None)


def estimate_taken_now(
    counts: QueueCounts,
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    category: str,
    priority: Priority,
) -> Estimate:
    """The estimate of a ticket of `category` issued now: the same as estimate_waits gives it once it is queued.

    Issued now, it comes after every queued ticket of its class: an ordinary ticket has every untargeted
    ticket of its category ahead, a priority ticket only the priority ones. Needs only the counts.
    """
    ahead = (counts.untargeted if priority is Priority.ORDINARY else counts.priority).get(category, 0)
    return _new_ticket(counts.untargeted, _servers(windows), service_s, category, ahead)


def estimate_new(
    counts: QueueCounts,
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    categories: Sequence[str],
) -> dict[str, Estimate]:
    """For each category, the estimate of one ordinary ticket taken now (kiosk tiles, every board message)."""
    servers = _servers(windows)
    return {c: _new_ticket(counts.untargeted, servers, service_s, c, counts.untargeted.get(c, 0)) for c in categories}


#: Shortest duration an observation counts as: a service never takes no time, and the mean must stay positive.
MIN_SERVICE_S = 1.0
#: Longest plausible service: a longer one is a clerk who forgot to press finish, and is ignored.
MAX_SERVICE_S = 4 * 3600.0


class ServiceTimes:
    """Mean service duration per category: a running mean with the configured time, then a moving average.

    The k-th observation of a category (k = 0, 1, …) gets the weight w = max(alpha, 1/(k + 1 + prior)):
    mean ← (1 − w)·mean + w·x, starting from the configured default (or `fallback` for a category without
    one). So the default counts as `prior` observations and the first services are averaged with it — a wrong
    default is corrected within a few services — and after about 1/alpha − prior services the mean is an
    exponentially weighted average remembering about 2/alpha services, whose noise is √(alpha/(2 − alpha))
    of the services' standard deviation: 0.07 of it for alpha 0.01 (0.33 for alpha 0.2, which made the
    estimate of a long queue swing with the last few services). The price is a slow response to a lasting
    change: its half-life is ln 2/alpha ≈ 70 services of the category.

    Observations that are negative, not finite or longer than MAX_SERVICE_S are ignored and not counted; the
    rest are clipped to [MIN_SERVICE_S, clip_factor × the current mean], so one forgotten finish button moves
    the mean by a bounded factor (at most 1 − w + w·clip_factor). Pure: no clock, no I/O.
    """

    def __init__(
        self,
        defaults: Mapping[str, float],
        alpha: float = 0.01,
        *,
        prior: float = 4.0,
        fallback: float = 300.0,
        clip_factor: float = 4.0,
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        if not (math.isfinite(prior) and prior >= 0.0):
            raise ValueError(f"prior must be a finite number of observations, at least 0, got {prior}")
        if not (math.isfinite(clip_factor) and clip_factor >= 1.0):
            raise ValueError(f"clip_factor must be at least 1, got {clip_factor}")
        for name, value in {**defaults, "(fallback)": fallback}.items():
            if not (math.isfinite(value) and MIN_SERVICE_S <= value <= MAX_SERVICE_S):
                raise ValueError(
                    f"the service time for {name} must be between {MIN_SERVICE_S} and {MAX_SERVICE_S} s, got {value}"
                )
        self.alpha = alpha
        self.prior = float(prior)
        self.fallback = float(fallback)
        self.clip_factor = clip_factor
        self._means: dict[str, float] = {c: float(v) for c, v in defaults.items()}
        self._seen: dict[str, int] = {}

    def observe(self, category: str, seconds: float) -> None:
        """Fold one finished service's duration into the category's mean (absurd values are ignored)."""
        if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SERVICE_S:
            return
        k = self._seen.get(category, 0)
        weight = max(self.alpha, 1.0 / (k + 1.0 + self.prior))
        mean = self.mean(category)
        x = min(max(seconds, MIN_SERVICE_S), self.clip_factor * mean)
        self._means[category] = (1.0 - weight) * mean + weight * x
        self._seen[category] = k + 1

    def mean(self, category: str) -> float:
        """The current mean for `category` in seconds (the fallback for a category never seen)."""
        return self._means.get(category, self.fallback)

    def observed(self, category: str) -> int:
        """How many observations of `category` were folded in (absurd ones are not counted)."""
        return self._seen.get(category, 0)

    def snapshot(self) -> dict[str, float]:
        """A copy of the means of every category with a default or an observation."""
        return dict(self._means)
