"""The wait estimators compared at every ticket's issue: the server's, a naive one, full information, proposals.

Each estimator sees the hall as the server does at the moment a ticket is issued (the queue including the
new ticket, and every window's availability and busyness), and learns from every finished service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from queue_server.domain import estimate as domain_estimate
from queue_server.domain.estimate import Estimate, ServiceTimes, WindowLoad
from queue_server.domain.routing import QueuedTicket
from queue_server.simulation.scenario import Scenario

__all__ = [
    "DomainEstimator",
    "Estimator",
    "FullInformation",
    "Naive",
    "QueueView",
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


class Estimator(Protocol):
    """A wait estimator: its short name, a line saying what it is, an estimate, and learning from services."""

    name: str
    label: str

    def estimate(self, view: QueueView) -> float | None: ...

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        """A finished service: `seconds` from its start to its finish (what the server measures), `held_s` from
        the call to the finish (the time the window was held, walk to the window included)."""


def server_times(scenario: Scenario, alpha: float = 0.2) -> ServiceTimes:
    """The service-time means exactly as the server starts them (services/loading.py): the configured times."""
    return ServiceTimes({c.code: c.configured_s for c in scenario.categories}, alpha=alpha)


WaitsFunction = Callable[[Sequence[QueuedTicket], Sequence[WindowLoad], Mapping[str, float]], dict[int, Estimate]]


class DomainEstimator:
    """`queue_server.domain.estimate.estimate_waits` (or a drop-in proposal) with a live `ServiceTimes`."""

    def __init__(
        self,
        name: str,
        label: str,
        times: ServiceTimes,
        waits: WaitsFunction | None = None,
        *,
        from_call: bool = False,
        paused_as_busy: bool = False,
    ) -> None:
        self.name, self.label, self.times, self.waits = name, label, times, waits
        self.from_call = from_call  # learn the time a window is held (call to finish) instead of start to finish
        self.paused_as_busy = paused_as_busy  # a paused window will be back: count it as available and busy

    def estimate(self, view: QueueView) -> float | None:
        # The domain function is looked up on its module at each call: the code measured is the domain's as it is.
        waits = self.waits or domain_estimate.estimate_waits
        loads = view.loads
        if self.paused_as_busy and view.paused:
            loads = [WindowLoad(w.number, w.categories, True, True) if w.number in view.paused else w for w in loads]
        return waits(view.queued, loads, self.times.snapshot())[view.ticket.id].wait_s

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        self.times.observe(category, held_s if self.from_call else seconds)


def server_estimator(scenario: Scenario) -> DomainEstimator:
    return DomainEstimator("server", "server: estimate_waits + ServiceTimes EWMA (alpha 0.2)", server_times(scenario))


class Naive:
    """(a) people ahead × mean service time / windows: the same live EWMA, every window listing the category
    counted as one whole server, whether it is open, paused, busy or shared with other categories."""

    name = "naive"
    label = "naive: ahead × mean / windows of the category"

    def __init__(self, scenario: Scenario, alpha: float = 0.2) -> None:
        self.times = server_times(scenario, alpha)
        self.windows: dict[str, int] = {}
        for _, categories in scenario.windows:
            for code in categories:
                self.windows[code] = self.windows.get(code, 0) + 1

    def estimate(self, view: QueueView) -> float | None:
        servers = self.windows.get(view.ticket.category, 0)
        return view.ahead * self.times.mean(view.ticket.category) / servers if servers else None

    def observe(self, category: str, seconds: float, held_s: float) -> None:
        self.times.observe(category, seconds)


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
