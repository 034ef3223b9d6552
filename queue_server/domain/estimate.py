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

Deliberate simplifications: targeted tickets do not delay untargeted ones, idle windows call in number order
(whichever clerk presses first), and everything moves at its mean pace: a service in progress by its expected
rest (`expected_rest`), the arrivals to come (`Inflow`, from `opening.RecentArrivals.inflow`: priority ones
overtake ordinary tickets, a window's preferred category refills) as a steady stream. docs/simulation.md,
section 7, measures what this costs against the conditional mean of the random process.

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
    "Inflow",
    "QueueCounts",
    "ServiceTimes",
    "WindowLoad",
    "estimate_new",
    "estimate_taken_now",
    "estimate_ticket",
    "estimate_waits",
    "expected_rest",
    "queue_counts",
    "wait_interval",
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
    #: The category of the ticket it holds and how long ago it was called (None: not known, and the rest of the
    #: service counts as a whole mean, memoryless).
    serving: str | None = None
    held_s: float | None = None


@dataclass(frozen=True)
class Estimate:
    """How many tickets are ahead, the expected wait in seconds (None when no window can serve it now), its 90%
    interval, and whether it is rough (from the catalogue's typical times or the opening hours, not the day's)."""

    ahead: int
    wait_s: int | None
    low_s: int | None = None
    high_s: int | None = None
    rough: bool = False


# A stretch of the fluid during which the same windows call one category: (its start in seconds, the
# category's calls made before it, the priority arrivals (which go ahead of ordinary tickets) before it, the
# calls a second during it, the priority arrivals a second during it).
_Phase = tuple[float, float, float, float, float]
# An available window as the fluid sees it: whether it is busy, its categories in order without repeats, and
# the expected rest of the service it holds as a share of a mean service (None: a whole one).
_Server = tuple[bool, tuple[str, ...], float | None]

#: The coefficient of variation of a service (call to finish) the expected rest of a service in progress is
#: computed with (a lognormal law): the simulator's realistic day, and what halls' records look like.
SERVICE_CV = 0.6
#: The most calls the services in progress may give a category ahead of the fluid (see _fluid).
HEAD_START_MAX = 0.5


def expected_rest(mean_s: float, held_s: float, cv: float = SERVICE_CV) -> float:
    """E[S − h | S > h] for a lognormal service S of this mean and coefficient of variation, held `h` so far."""
    if held_s <= 0:
        return mean_s
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = math.log(mean_s) - sigma * sigma / 2.0
    z = (math.log(held_s) - mu) / sigma
    survive = _normal_tail(z)
    if survive < 1e-9:  # far beyond any usual service: a forgotten finish button, as good as a fresh one
        return mean_s
    return max(1.0, mean_s * _normal_tail(z - sigma) / survive - held_s)


def _normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class Inflow:
    """Arrivals to come as the fluid sees them: tickets a second per category, the share of them that are priority
    tickets (they go ahead of ordinary ones), and for how many seconds more the kiosk issues."""

    rates: Mapping[str, float]
    priority_share: Mapping[str, float]
    for_s: float


@dataclass(frozen=True)
class _Calls:
    """One category's calls over time: `at_once` by idle windows at time 0, then the fluid's phases."""

    at_once: int
    phases: tuple[_Phase, ...]
    soonest_s: float = 0.0  # no window can call it sooner than the earliest expected end of a service in progress

    def wait(self, ahead: int) -> int:
        return self.when(ahead)[0]

    def when(self, ahead: int, priority: bool = False) -> tuple[int, float]:
        """The wait of the ticket with `ahead` before it, and the spacing of its category's calls then (s).

        An ordinary ticket is called when the calls, less the priority tickets that arrived meanwhile (they are
        called first), reach ahead + 1; a priority ticket when the calls do.
        """
        needed = ahead + 1
        if needed <= self.at_once:
            return 0, 0.0
        for i, (start_s, calls, greens, rate, green_rate) in enumerate(self.phases):
            reached, gain = (calls, rate) if priority else (calls - greens, rate - min(green_rate, rate / 2))
            end_s = self.phases[i + 1][0] if i + 1 < len(self.phases) else math.inf
            if gain > _EPS and reached + gain * (end_s - start_s) >= needed - _EPS:
                wait = max(self.soonest_s, max(0.0, needed - reached) / gain + start_s)
                return _round(wait), 1.0 / gain
        # Not reached (float noise at the very end): the last phase's pace, carried on.
        start_s, calls, _, rate, _ = self.phases[-1] if self.phases else (0.0, 0.0, 0.0, 1.0, 0.0)
        rate = max(rate, _EPS)
        return _round(max(0.0, needed - calls) / rate + start_s), 1.0 / rate


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


#: The 90% interval around an estimate W whose category is called every `spacing` seconds when the ticket's turn
#: comes, by n = W / spacing (about the calls it waits for): (the largest n of the row, the 5th and the 95th
#: percentile of actual − W in spacings). Beyond the last row both grow in proportion to n. The randomness of
#: the services gives ±√n or so; the rest is what the estimate does not foresee (a window that frees and goes on
#: pause, a long service, arrivals ahead): mostly late, so the interval leans long. Measured in the simulator on
#: the demo hall at loads 0.5, 0.7, 0.9 (seed 31, 8 days each) and a 60-window county hall at 0.7–0.95 (seed 41,
#: a day each), tickets that wait; bench/estimate_quality.py checks the coverage on other seeds
#: (docs/simulation.md, section 7).
INTERVAL_TABLE: tuple[tuple[float, float, float], ...] = (
    (0.5, -0.46, 2.01),
    (1.0, -0.61, 1.61),
    (1.5, -1.09, 2.71),
    (2.5, -1.29, 2.57),
    (4.0, -1.63, 4.18),
    (7.0, -2.45, 5.83),
    (12.0, -3.04, 6.79),
    (20.0, -3.68, 8.59),
    (35.0, -2.68, 16.46),
    (60.0, -4.03, 20.10),
)
_BEYOND = (-8.16 / 90.0, 25.55 / 90.0)  # per n, past the table (its last bucket's n is about 90)


def wait_interval(wait_s: float, spacing_s: float) -> tuple[int, int]:
    """The 90% interval of a wait estimated at `wait_s` (INTERVAL_TABLE), in whole seconds, never below zero."""
    if wait_s <= 0:
        return 0, 0
    spacing = max(spacing_s, 1.0)
    n = wait_s / spacing
    low, high = next(((lo, hi) for top, lo, hi in INTERVAL_TABLE if n <= top), (_BEYOND[0] * n, _BEYOND[1] * n))
    return max(0, math.floor(wait_s + low * spacing)), math.ceil(wait_s + high * spacing)


def _ranged(ahead: int, wait_s: int, spacing_s: float, *, rough: bool = False, delay_s: float = 0.0) -> Estimate:
    low, high = wait_interval(wait_s, spacing_s)
    shift = _round(delay_s)
    return Estimate(ahead, wait_s + shift, low + shift, high + shift, rough)


def _urgency(t: QueuedTicket) -> tuple[int, int, int]:
    return (0 if t.priority is not Priority.ORDINARY else 1, t.queue_key, t.id)


def _servers(windows: Sequence[WindowLoad], service_s: Mapping[str, float]) -> list[_Server]:
    """The available windows in number order: the order idle windows call in."""
    servers: list[_Server] = []
    for w in sorted(windows, key=lambda w: w.number):
        if not w.available:
            continue
        rest = None
        if w.busy and w.serving is not None and w.held_s is not None and w.serving in service_s:
            mean = _service_time(service_s, w.serving)
            rest = expected_rest(mean, w.held_s) / mean
        servers.append((w.busy, tuple(dict.fromkeys(w.categories)), rest))
    return servers


def _fluid(
    counts: Mapping[str, int],
    servers: Sequence[_Server],
    service_s: Mapping[str, float],
    inflow: Inflow | None = None,
) -> dict[str, _Calls]:
    """The calls of every category with untargeted tickets waiting that an available window serves.

    Depends on `counts` only through its values (never its order), so one more ticket in a category gives
    exactly what estimate_waits computes with that ticket queued. With an `inflow`, arrivals keep coming until
    `inflow.for_s`: a category with a queue takes the whole of each window that reaches it first in its list; a
    category without one but with arrivals takes its load (rate × mean) first from the windows with nothing to
    call that list it (a free window calls an arriving ticket), and what is left of it in equal parts from the
    windows that list it before their first category with a queue, which give the rest to the next.
    """
    left = {c: float(counts[c]) for _, served, _ in servers for c in served if counts.get(c, 0) > 0}  # not yet called
    means = {c: _service_time(service_s, c) for c in left}
    rates: dict[str, float] = {}
    if inflow is not None and inflow.for_s > 0:
        for _, served, _ in servers:
            for c in served:
                rate = inflow.rates.get(c, 0.0)
                if rate > 0 and math.isfinite(rate) and (c in means or c in service_s):
                    rates[c] = rate
                    means.setdefault(c, _service_time(service_s, c))
    called = dict.fromkeys(left, 0.0)
    greens = dict.fromkeys(left, 0.0)
    at_once = dict.fromkeys(left, 0)
    phases: dict[str, list[_Phase]] = {c: [] for c in left}
    lists = [[c for c in served if c in means] for _, served, _ in servers]

    for i, (busy, _, _) in enumerate(servers):
        first = next((c for c in lists[i] if left.get(c, 0.0) > _EPS), None)
        if not busy and first is not None:
            at_once[first] += 1
            left[first] -= 1.0
            called[first] += 1.0
    # A busy window whose service is expected to end in r (a share of a mean) calls as if it had started calling
    # its next category 1 − r of a call ago: a head start when r < 1, a delay when the service runs long.
    # The head starts of several windows add up, but the first call still waits for the first of them to end:
    # about 1/Σ(1/rest) when each rest is known (as for a race of exponential ones), nothing when one is not.
    pace: dict[str, float] = {}
    unknown: set[str] = set()
    credited: dict[str, float] = {}
    for i, (busy, _, rest) in enumerate(servers):
        first = next((c for c in lists[i] if left.get(c, 0.0) > _EPS), None)
        if busy and first is not None:
            if rest is None:
                unknown.add(first)
            else:
                pace[first] = pace.get(first, 0.0) + 1.0 / max(rest * means[first], 1.0)
        if busy and rest is not None and first is not None:
            # At most half a call per category in all: a head start is right in the long run, but over the
            # first minutes the windows still busy have not called at all (many windows must not add up to
            # calls nobody has made yet).
            credit = min(max(1.0 - rest, -1.0), HEAD_START_MAX - credited.get(first, 0.0), left[first])
            credited[first] = credited.get(first, 0.0) + credit
            left[first] -= credit
            called[first] += credit
    soonest = {c: 1.0 / p for c, p in pace.items() if c not in unknown and not at_once.get(c, 0)}

    # From here on a window is only its list of categories: windows with the same list are one group of `count`
    # (a county hall's 60 windows have a handful of lists), so each step costs the lists, not the windows.
    groups: dict[tuple[str, ...], int] = {}
    for listed in lists:
        key = tuple(listed)
        groups[key] = groups.get(key, 0) + 1
    now, arriving = 0.0, bool(rates)
    while True:
        lam = rates if arriving else {}
        # Each list: the categories without a queue it meets before its first one with a queue.
        firsts: list[str | None] = []
        before: list[list[str]] = []
        for order in groups:
            drained = []
            first = None
            for c in order:
                if left.get(c, 0.0) > _EPS:
                    first = c
                    break
                if lam.get(c, 0.0) > 0:
                    drained.append(c)
            firsts.append(first)
            before.append(drained)
        # A drained category's load goes first to the windows with nothing to call (each shares itself equally
        # among the drained categories it lists): a ticket arriving is called by a window that is free; only the
        # rest of the load is taken, in equal parts, from the windows that list it before a queue.
        spare: dict[str, float] = {}
        taking: dict[str, int] = {}
        for first, drained, count in zip(firsts, before, groups.values(), strict=True):
            for c in drained:
                if first is None:
                    spare[c] = spare.get(c, 0.0) + count / len(drained)
                else:
                    taking[c] = taking.get(c, 0) + count
        burden = {c: max(0.0, lam[c] * means[c] - spare.get(c, 0.0)) / n for c, n in taking.items()}
        capacity: dict[str, float] = {}
        for first, drained, count in zip(firsts, before, groups.values(), strict=True):
            if first is None:
                continue
            remaining = 1.0
            for c in drained:
                remaining -= min(remaining, burden[c])
            capacity[first] = capacity.get(first, 0.0) + count * remaining
        if not capacity:
            break
        out = {c: share / means[c] for c, share in capacity.items()}
        steps = [left[c] / (out[c] - lam.get(c, 0.0)) for c in out if out[c] - lam.get(c, 0.0) > _EPS]
        if arriving:
            steps.append(max(0.0, inflow.for_s - now) if inflow is not None else 0.0)
        if not steps:  # every queue grows and arrivals never stop: cannot happen, for_s is finite
            break
        step = min(steps)
        for c, rate in out.items():
            green_rate = lam.get(c, 0.0) * (inflow.priority_share.get(c, 0.0) if inflow is not None else 0.0)
            phases[c].append((now, called[c], greens[c], rate, green_rate))
            called[c] += rate * step
            greens[c] += green_rate * step
            left[c] += (lam.get(c, 0.0) - rate) * step
            if left[c] <= _EPS:
                left[c] = 0.0
        now += step
        if arriving and inflow is not None and now >= inflow.for_s - _EPS:
            arriving = False
    return {c: _Calls(at_once[c], tuple(phases[c]), soonest.get(c, 0.0)) for c in at_once}


def _targeted(ahead: int, window: WindowLoad | None, mean_s: float, opens_in_s: float) -> Estimate:
    """A ticket transferred to `window`: that window alone serves it (closed or paused: once it is back, busy)."""
    if window is None:
        return Estimate(ahead, None)
    if not window.available:
        return _ranged(ahead, _round((ahead + 1) * mean_s), mean_s, rough=True, delay_s=opens_in_s)
    idle = 0 if window.busy else 1
    return _ranged(ahead, 0 if ahead < idle else _round((ahead + 1 - idle) * mean_s), mean_s)


def _opening(windows: Sequence[WindowLoad]) -> list[_Server]:
    """Every window as it will be once open: available, and busy (a clerk who opens is like a service ending)."""
    return [(True, tuple(dict.fromkeys(w.categories)), None) for w in sorted(windows, key=lambda w: w.number)]


class _Fluids:
    """The fluid of the windows available now and, when a category has none, of every window once open."""

    def __init__(
        self,
        counts: Mapping[str, int],
        windows: Sequence[WindowLoad],
        service_s: Mapping[str, float],
        opens_in_s: float,
        inflow: Inflow | None = None,
        servers: Sequence[_Server] | None = None,  # _servers(windows, service_s), when the caller has it already
    ) -> None:
        self.counts, self.windows, self.service_s, self.opens_in_s = counts, windows, service_s, opens_in_s
        self.now = _fluid(counts, _servers(windows, service_s) if servers is None else servers, service_s, inflow)
        self._later: dict[str, _Calls] | None = None

    def estimate(self, category: str, ahead: int, priority: bool = False) -> Estimate:
        calls = self.now.get(category)
        if calls is not None:
            return _ranged(ahead, *calls.when(ahead, priority))
        # No window serving it is available: from the opening hours and the windows that will open (rough).
        if self._later is None:
            self._later = _fluid(self.counts, _opening(self.windows), self.service_s)
        later = self._later.get(category)
        if later is None:
            return Estimate(ahead, None)
        return _ranged(ahead, *later.when(ahead, priority), rough=True, delay_s=self.opens_in_s)


def estimate_waits(
    queued: Sequence[QueuedTicket],
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    *,
    opens_in_s: float = 0.0,
    inflow: Inflow | None = None,
) -> dict[int, Estimate]:
    """The estimate for every queued ticket, keyed by ticket id (method in the module docstring).

    A ticket no available window serves is estimated as if every window were open and busy, `opens_in_s` from
    now (the time until the hall's next session, 0 during one), and marked rough.
    """
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

    fluids = _Fluids({c: len(ts) for c, ts in by_category.items()}, windows, service_s, opens_in_s, inflow)
    result: dict[int, Estimate] = {}
    for c, tickets in by_category.items():
        tickets.sort(key=_urgency)
        for ahead, t in enumerate(tickets):
            result[t.id] = fluids.estimate(c, ahead, t.priority is not Priority.ORDINARY)

    loads = {w.number: w for w in windows}
    for number, tickets in by_target.items():
        tickets.sort(key=lambda t: (t.queue_key, t.id))
        for ahead, t in enumerate(tickets):
            result[t.id] = _targeted(ahead, loads.get(number), _service_time(service_s, t.category), opens_in_s)
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

    __slots__ = ("_counts", "_fluids", "_inflow", "_loads", "_opens_in_s", "_service_s", "_windows")

    def __init__(
        self,
        counts: Mapping[str, int],
        windows: Sequence[WindowLoad],
        service_s: Mapping[str, float],
        *,
        opens_in_s: float = 0.0,
        inflow: Inflow | None = None,
    ) -> None:
        self._counts = {c: n for c, n in counts.items() if n > 0}
        self._inflow = inflow
        self._windows = tuple(windows)
        self._service_s = dict(service_s)
        self._opens_in_s = opens_in_s
        self._loads = {w.number: w for w in self._windows}  # the last of a repeated number, as estimate_waits
        self._fluids: _Fluids | None = None

    def estimate(self, ticket: QueuedTicket, ahead: int) -> Estimate:
        """The estimate of a queued `ticket` with `ahead` competitors before it (see the class docstring)."""
        if ahead < 0:
            raise ValueError(f"ahead cannot be negative, got {ahead}")
        if ticket.target_window is not None:
            window = self._loads.get(ticket.target_window)
            return _targeted(ahead, window, _service_time(self._service_s, ticket.category), self._opens_in_s)
        queued = self._counts.get(ticket.category, 0)
        if ahead >= queued:
            raise ValueError(
                f"ticket {ticket.id} has {ahead} ahead, but {queued} untargeted {ticket.category!r} tickets are counted"
            )
        if self._fluids is None:
            self._fluids = _Fluids(self._counts, self._windows, self._service_s, self._opens_in_s, self._inflow)
        return self._fluids.estimate(ticket.category, ahead, ticket.priority is not Priority.ORDINARY)


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
    counts: Mapping[str, int],
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    category: str,
    ahead: int,
    opens_in_s: float,
    inflow: Inflow | None,
    priority: bool = False,
    servers: Sequence[_Server] | None = None,
) -> Estimate:
    # The new ticket adds its own work to its category: an idle window may now call it, a shared one stays longer.
    more = {**counts, category: counts.get(category, 0) + 1}
    fluids = _Fluids(more, windows, service_s, opens_in_s, inflow, servers)
    return fluids.estimate(category, ahead, priority)


def estimate_taken_now(
    counts: QueueCounts,
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    category: str,
    priority: Priority,
    *,
    opens_in_s: float = 0.0,
    inflow: Inflow | None = None,
) -> Estimate:
    """The estimate of a ticket of `category` issued now: the same as estimate_waits gives it once it is queued.

    Issued now, it comes after every queued ticket of its class: an ordinary ticket has every untargeted
    ticket of its category ahead, a priority ticket only the priority ones. Needs only the counts.
    """
    ahead = (counts.untargeted if priority is Priority.ORDINARY else counts.priority).get(category, 0)
    ordinary = priority is Priority.ORDINARY
    return _new_ticket(counts.untargeted, windows, service_s, category, ahead, opens_in_s, inflow, not ordinary)


def estimate_new(
    counts: QueueCounts,
    windows: Sequence[WindowLoad],
    service_s: Mapping[str, float],
    categories: Sequence[str],
    *,
    opens_in_s: float = 0.0,
    inflow: Inflow | None = None,
) -> dict[str, Estimate]:
    """For each category, the estimate of one ordinary ticket taken now (kiosk tiles, every board message)."""
    servers = _servers(windows, service_s)  # the same for every category's new ticket
    return {
        c: _new_ticket(
            counts.untargeted, windows, service_s, c, counts.untargeted.get(c, 0), opens_in_s, inflow, servers=servers
        )
        for c in categories
    }


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

    def seen(self) -> dict[str, int]:
        """A copy of how many observations of each category were folded in."""
        return dict(self._seen)
