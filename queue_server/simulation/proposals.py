"""Proposed changes to the domain's wait estimation, measured by the simulator before anyone adopts them.

`fluid_waits` is a drop-in for `queue_server.domain.estimate.estimate_waits` (same arguments, same result)
that shares windows among categories the way routing does — in the window's order of preference — rather
than in proportion to the work waiting. `LongMemoryServiceTimes` is `ServiceTimes` with a longer memory
once enough services were seen.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from queue_server.domain.estimate import MAX_SERVICE_S, Estimate, ServiceTimes, WindowLoad
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority

__all__ = ["LongMemoryServiceTimes", "fluid_waits"]

_EPS = 1e-9


def _urgency(t: QueuedTicket) -> tuple[int, int, int]:
    return (0 if t.priority is not Priority.ORDINARY else 1, t.queue_key, t.id)


def _mean(service_s: Mapping[str, float], category: str) -> float:
    try:
        value = float(service_s[category])
    except KeyError:
        raise ValueError(f"no mean service time for category {category!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"the mean service time for category {category!r} must be positive, got {value}")
    return value


def fluid_waits(
    queued: Sequence[QueuedTicket],
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
) -> dict[int, Estimate]:
    """The estimate for every queued ticket, by clearing the queues as a fluid in the windows' preference order.

    *Ahead* is as in `estimate_waits`. *Calls* of a category are counted from now: each available idle
    window calls one ticket at once — of the first category in its own order that has one — and from then
    on every available window calls tickets of the first category in its order that still has uncalled
    tickets, at the rate 1/S of that category (S its mean service time). When a category runs out, the
    windows that were calling it move on to their next category. A ticket with `ahead` tickets before it
    is called when its category's calls reach ahead + 1: wait = 0 when the idle windows' calls reach it,
    else the time the fluid takes to get there, rounded half up to whole seconds; None when no available
    window serves its category. With one category and c whole windows this is the same M/M/c rule as
    `estimate_waits`, (ahead + 1 − idle)·S/c; with shared windows it keeps a window on its first category
    while that has a queue, as routing does, instead of splitting it in proportion to the work waiting.
    Tickets transferred to one window are estimated as in `estimate_waits`.
    """
    by_category: dict[str, list[QueuedTicket]] = defaultdict(list)
    by_target: dict[int, list[QueuedTicket]] = defaultdict(list)
    seen: set[int] = set()
    for t in queued:
        if t.id in seen:
            raise ValueError(f"ticket {t.id} is queued twice")
        seen.add(t.id)
        (by_category[t.category] if t.target_window is None else by_target[t.target_window]).append(t)

    available = [w for w in windows if w.available]
    served = {c for w in available for c in w.categories if c in by_category}
    means = {c: _mean(service_s, c) for c in served}
    left = {c: float(len(by_category[c])) for c in served}  # tickets not yet called, as a fluid
    calls = dict.fromkeys(served, 0.0)

    def first_with_work(w: WindowLoad) -> str | None:
        return next((c for c in w.categories if c in left and left[c] > _EPS), None)

    # Idle windows call at once, in number order (whichever clerk presses first; one order is as good).
    for w in sorted(available, key=lambda w: w.number):
        if not w.busy and (c := first_with_work(w)) is not None:
            taken = min(1.0, left[c])
            left[c] -= taken
            calls[c] += taken
    immediate = dict(calls)

    # Phases: within one, each window calls its first category with work at a constant rate.
    phases: dict[str, list[tuple[float, float, float]]] = defaultdict(list)  # (start time, calls then, rate)
    now = 0.0
    while True:
        rate: dict[str, float] = defaultdict(float)
        for w in available:
            c = first_with_work(w)
            if c is not None:
                rate[c] += 1.0 / means[c]
        if not rate:
            break
        for c, r in rate.items():
            phases[c].append((now, calls[c], r))
        step = min(left[c] / r for c, r in rate.items())
        for c, r in rate.items():
            moved = r * step
            calls[c] += moved
            left[c] = 0.0 if left[c] - moved <= _EPS else left[c] - moved
        now += step

    result: dict[int, Estimate] = {}
    for c, tickets in by_category.items():
        tickets.sort(key=_urgency)
        for ahead, t in enumerate(tickets):
            if c not in served:
                result[t.id] = Estimate(ahead, None)
                continue
            needed = ahead + 1.0
            if needed <= immediate[c] + _EPS:
                result[t.id] = Estimate(ahead, 0)
                continue
            wait = math.nan
            for start, calls_then, r in phases[c]:  # the last phase that started below `needed` reaches it
                if calls_then < needed - _EPS:
                    wait = start + (needed - calls_then) / r
            result[t.id] = Estimate(ahead, math.floor(wait + 0.5))

    loads = {w.number: w for w in windows}
    for number, tickets in by_target.items():
        tickets.sort(key=lambda t: (t.queue_key, t.id))
        window = loads.get(number)
        for ahead, t in enumerate(tickets):
            if window is None or not window.available:
                result[t.id] = Estimate(ahead, None)
            else:
                idle = 0 if window.busy else 1
                mean = _mean(service_s, t.category)
                result[t.id] = Estimate(ahead, 0 if ahead < idle else math.floor((ahead + 1 - idle) * mean + 0.5))
    return result


class LongMemoryServiceTimes(ServiceTimes):
    """`ServiceTimes` whose weight for a new observation is max(alpha, 1/(k + 1 + prior)) after k observations.

    The configured default counts as `prior` observations; the first services are averaged with it (so a
    wrong default is corrected within a few services), then the mean becomes an EWMA with the small `alpha`
    (a memory of about 2/alpha services), whose noise is sqrt(alpha/(2 − alpha)) of the service times'
    standard deviation: 0.33 of it for alpha 0.2, 0.07 for alpha 0.01.
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
        super().__init__(defaults, alpha, fallback=fallback, clip_factor=clip_factor)
        if not (math.isfinite(prior) and prior >= 0):
            raise ValueError(f"prior must be a non-negative number, got {prior}")
        self.prior = prior
        self._seen: dict[str, int] = {}

    def observe(self, category: str, seconds: float) -> None:
        if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SERVICE_S:
            return
        k = self._seen.get(category, 0)
        weight = max(self.alpha, 1.0 / (k + 1.0 + self.prior))
        saved = self.alpha
        self.alpha = weight  # the parent's rule with this observation's weight (same clipping)
        try:
            super().observe(category, seconds)
        finally:
            self.alpha = saved
        self._seen[category] = k + 1
