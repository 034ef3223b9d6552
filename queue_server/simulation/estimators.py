"""The wait estimators compared at every ticket's issue: the server's, a naive one, full information, variants.

Each estimator sees the hall as the server does at the moment a ticket is issued (the queue including the
new ticket, and every window's availability and busyness), and learns from every finished service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from queue_server.domain import estimate as domain_estimate
from queue_server.domain import opening
from queue_server.domain.estimate import ServiceTimes, WindowLoad
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority
from queue_server.simulation import proposals
from queue_server.simulation.scenario import Scenario

__all__ = [
    "DomainEstimator",
    "Estimator",
    "FairNaive",
    "FullInformation",
    "Naive",
    "QueueView",
    "earlier_server",
    "server_estimator",
    "server_times",
]


@dataclass(frozen=True, slots=True)
class QueueView:
    """The hall at a ticket's issue: the queue with the new ticket in it, the windows, the tickets ahead."""

    ticket: QueuedTicket
    queued: Sequence[QueuedTicket]
    loads: Sequence[WindowLoad]
    ahead: int  # untargeted tickets of its category that routing calls first (priority first, then FIFO)
    paused: frozenset[int] = frozenset()  # windows paused now (not available to the server's estimate)
    now_s: float = 0.0  # seconds since midnight
    issued: Mapping[str, int] = field(default_factory=dict)  # today's tickets per category before this one


class Estimator(Protocol):
    """A wait estimator: its short name, a line saying what it is, an estimate, and learning from services."""

    name: str
    label: str

    def estimate(self, view: QueueView) -> float | None: ...

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        """A finished service: `seconds` from its start to its finish, `held_s` from the call to the finish (the
        time the window was held, walk to the window included: what the server learns from)."""


def server_times(scenario: Scenario, alpha: float | None = None) -> ServiceTimes:
    """The service-time means as the server starts them (services/loading.py): from the configured times, with
    the domain's default alpha and prior, or another `alpha`."""
    defaults = {c.code: c.configured_s for c in scenario.categories}
    return ServiceTimes(defaults) if alpha is None else ServiceTimes(defaults, alpha)


class DomainEstimator:
    """`queue_server.domain.estimate.estimate_waits` with a live `ServiceTimes`, learning as the server does."""

    def __init__(
        self,
        name: str,
        label: str,
        times: ServiceTimes,
        *,
        from_call: bool = True,
        paused_as_busy: bool = True,
        arrivals: bool = True,
        sessions: Sequence[tuple[float, float]] = (),
    ) -> None:
        self.name, self.label, self.times = name, label, times
        self.from_call = from_call  # learn the time a window is held (call to finish), as window_actions.finish does
        self.paused_as_busy = paused_as_busy  # a paused window counts as available and busy, as runtime.window_loads
        self.arrivals = arrivals  # foresee today's arrivals to come (domain.opening.day_inflow), as views do
        self.sessions = tuple(sessions)
        self.recent = opening.RecentArrivals()
        self._last_s = 0.0

    def estimate(self, view: QueueView) -> float | None:
        return self.estimate_range(view)[0]

    def estimate_range(self, view: QueueView) -> tuple[float | None, tuple[float, float] | None]:
        """The estimate and its 90% interval."""
        loads = proposals.paused_as_busy(view.loads, view.paused) if self.paused_as_busy else view.loads
        inflow = None
        if self.arrivals:
            counts = domain_estimate.queue_counts(view.queued)
            time = opening.day_time(self.sessions, view.now_s)
            if view.now_s < self._last_s:  # a new day: as the server's roll_day, today joins the profile
                self.recent = self.recent.next_day()
            self._last_s = view.now_s
            inflow = self.recent.inflow(counts.untargeted, counts.priority, time)
            priority = view.ticket.priority is not Priority.ORDINARY
            self.recent.observe(view.ticket.category, time.open_so_far_s, priority)  # as issuing does, after it
        # Looked up on its module at each call: the code measured is the domain's as it is.
        estimates = domain_estimate.estimate_waits(view.queued, loads, self.times.snapshot(), inflow=inflow)
        found = estimates[view.ticket.id]
        interval = None if found.low_s is None or found.high_s is None else (float(found.low_s), float(found.high_s))
        return found.wait_s, interval

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        self.times.observe(category, held_s if self.from_call else seconds)


def server_estimator(scenario: Scenario) -> DomainEstimator:
    """What the server computes: estimate_waits with ServiceTimes as configured, learning call → finish, paused
    windows available and busy, today's arrivals to come foreseen."""
    return DomainEstimator(
        "server",
        "server: estimate_waits (arrivals to come, paused windows busy) + ServiceTimes (alpha 0.01), call → finish",
        server_times(scenario),
        sessions=scenario.sessions,
    )


def earlier_server(scenario: Scenario) -> DomainEstimator:
    """The server before arrivals to come and paused windows were counted (the fluid of the queue alone)."""
    return DomainEstimator(
        "queue-fluid",
        "the server before: the fluid of today's queue only, paused windows left out",
        server_times(scenario),
        paused_as_busy=False,
        arrivals=False,
    )


class Naive:
    """(a) people ahead × mean service time / windows, every window listing the category counted as one whole
    server, whether it is open, paused, busy or shared with other categories. The mean is the one the server
    kept when the estimate-quality targets were set (an EWMA with alpha 0.2, start → finish), so the
    baseline does not move with the server's improvements."""

    name = "naive"
    label = "naive: ahead × mean (EWMA 0.2, start → finish) / windows of the category"

    def __init__(self, scenario: Scenario, alpha: float = 0.2) -> None:
        self.times = server_times(scenario, alpha=alpha)
        self.windows: dict[str, int] = {}
        for _, categories in scenario.windows:
            for code in categories:
                self.windows[code] = self.windows.get(code, 0) + 1

    def estimate(self, view: QueueView) -> float | None:
        servers = self.windows.get(view.ticket.category, 0)
        return view.ahead * self.times.mean(view.ticket.category) / servers if servers else None

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        self.times.observe(category, seconds)


class FairNaive:
    """(a′) the fair naive estimate: (people ahead + 1 − idle windows) × mean / open windows, where the windows are
    those listing the category that are open and not paused, and the mean is the server's own (`ServiceTimes`,
    call → finish, walk included). It counts the ticket's own turn, learns the time a window is held and leaves
    closed and paused windows out; with none open, every window listing the category counts, all busy."""

    name = "fair-naive"
    label = "fair naive: (ahead + 1 − idle) × mean (call → finish) / open windows of the category"

    def __init__(self, scenario: Scenario) -> None:
        self.times = server_times(scenario)
        self.listed: dict[str, int] = {}
        for _, categories in scenario.windows:
            for code in categories:
                self.listed[code] = self.listed.get(code, 0) + 1

    def estimate(self, view: QueueView) -> float | None:
        category = view.ticket.category
        servers = [w for w in view.loads if w.available and category in w.categories]
        idle = sum(1 for w in servers if not w.busy)
        count = len(servers) or self.listed.get(category, 0)
        if not count:
            return None
        return max(0, view.ahead + 1 - idle) * self.times.mean(category) / count

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        self.times.observe(category, held_s)


class FullInformation:
    """(b) the M/M/c conditional mean (n + 1)/(cμ) with the true μ: with n tickets ahead and all c windows busy,
    the ticket waits for n + 1 departures, each 1/(cμ) apart; 0 when a window is idle. Exact — and optimal —
    only for one category on dedicated windows with exponential service, FIFO and no pauses."""

    name = "full"
    label = "full information: (n + 1)/(cμ) with the true μ"

    def __init__(self, true_mean_s: Mapping[str, float]) -> None:
        self.mean_s = dict(true_mean_s)

    def estimate(self, view: QueueView) -> float | None:
        category = view.ticket.category
        servers = [w for w in view.loads if w.available and category in w.categories]
        if not servers:
            return None
        idle = sum(1 for w in servers if not w.busy)
        if view.ahead < idle:
            return 0.0
        return (view.ahead + 1 - idle) * self.mean_s[category] / len(servers)

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        """Knows the truth already."""
