"""The read side of each hall in one server process: a replica of the writer's runtime, kept on the event loop.

Phones, boards and kiosk tiles read a hall far more often than anyone changes it. They read this replica
on the event loop, never waiting behind the writer: after each commit (or catch-up from another process)
the writer hands over a ViewDelta — copies of the tickets that changed, the windows, the recent calls and
the service times — and the event loop applies it just before it publishes the same commit's events, so a
client that reads after a message sees at least that message's state. Only committed state is ever seen.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from config.schema import HallConfig
from queue_server.domain.opening import RecentArrivals
from queue_server.runtime import RECENT_CALLS, HallRuntime, LiveTicket, LiveWindow, RecentCall


class FrozenTimes:
    """The service-time means as the estimator reads them (the read side never learns: the writer does)."""

    __slots__ = ("_means", "_seen")

    def __init__(self, means: Mapping[str, float], seen: Mapping[str, int]) -> None:
        self._means = dict(means)
        self._seen = dict(seen)

    def snapshot(self) -> dict[str, float]:
        return self._means

    def observed(self, category: str) -> int:
        return self._seen.get(category, 0)


@dataclass(frozen=True)
class ViewDelta:
    """What changed in a hall's runtime since the read side was last told."""

    last_seq: int
    day: dt.date | None
    full: bool  # the tickets are all of them: rebuild
    tickets: dict[int, LiveTicket | None]  # copies; None: no longer live
    windows: dict[int, LiveWindow]
    recent_calls: tuple[RecentCall, ...]
    service_means: dict[str, float]
    service_seen: dict[str, int]
    clerk_names: dict[str, str]
    arrivals: RecentArrivals  # a copy: the arrival rates the estimate expects
    now_us: int | None  # the writer's latest transaction: the time the read side's estimates are for


def delta_of(rt: HallRuntime) -> ViewDelta:
    """Take the runtime's changes for the read side (on the writer thread, after commit)."""
    if rt.full:
        changed: dict[int, LiveTicket | None] = {i: copy.copy(t) for i, t in rt.tickets.items()}
    else:
        changed = {i: (copy.copy(rt.tickets[i]) if i in rt.tickets else None) for i in rt.changed}
    delta = ViewDelta(
        last_seq=rt.last_seq,
        day=rt.day,
        full=rt.full,
        tickets=changed,
        windows={n: copy.copy(w) for n, w in rt.windows.items()},
        recent_calls=tuple(rt.recent_calls),
        service_means=rt.service_times.snapshot(),
        service_seen=rt.service_times.seen(),
        clerk_names=dict(rt.clerk_names),
        arrivals=rt.arrivals.copy(),
        now_us=rt.now_us,
    )
    rt.changed.clear()
    rt.full = False
    return delta


class HallViews:
    """Every hall's replica in this process; touched only on the event loop."""

    def __init__(self, config: HallConfig) -> None:
        self._config = config
        self._views: dict[str, HallRuntime] = {}

    def get(self, hall: str) -> HallRuntime | None:
        return self._views.get(hall)

    def replace_config(self, config: HallConfig) -> None:
        """A reloaded configuration: every view is rebuilt from the whole copy the store sends next."""
        self._config = config
        self._views = {}

    def apply(self, hall: str, delta: ViewDelta) -> None:
        view = self._views.get(hall)
        if delta.full or view is None:
            if not delta.full:
                return  # a change before the first whole copy (which is on its way) is in that copy
            view = HallRuntime(
                hall=self._config.hall(hall),
                last_seq=delta.last_seq,
                day=delta.day,
                counters={},
                tickets={i: t for i, t in delta.tickets.items() if t is not None},
                windows=delta.windows,
                service_times=FrozenTimes(delta.service_means, delta.service_seen),  # type: ignore[arg-type]
                replica=True,
            )
            self._views[hall] = view
        else:
            for ticket_id, ticket in delta.tickets.items():
                old = view.tickets.pop(ticket_id, None)
                if old is not None:
                    view.track(old)
                if ticket is not None:
                    view.tickets[ticket_id] = ticket
                    view.track(ticket)
            view.windows = delta.windows
            view.service_times = FrozenTimes(delta.service_means, delta.service_seen)  # type: ignore[assignment]
            view.last_seq, view.day = delta.last_seq, delta.day
        view.recent_calls = deque(delta.recent_calls, maxlen=RECENT_CALLS)
        view.clerk_names = delta.clerk_names
        view.arrivals, view.now_us = delta.arrivals, delta.now_us
        view.changed.clear()
        view.forget_forecast()
