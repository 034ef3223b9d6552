"""The hall's opening hours as the wait estimate needs them, and the arrivals still to come today.

Times are seconds since the hall's local midnight; the sessions are (start, end) pairs in order. Pure: the
clock is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from queue_server.domain.estimate import Inflow

__all__ = ["HORIZON_S", "SETTLE_S", "DayTime", "RecentArrivals", "day_inflow", "day_time", "session_seconds"]

#: The arrival rate is never taken over less open time than this: the first tickets of the morning do not make
#: a rate of their own.
SETTLE_S = 1800.0
#: How far ahead the arrivals are foreseen: the last half hour's rate says little about the hour after next
#: (the simulator measured an uncapped horizon 20% worse at load 0.6, and worse at 0.9 too).
HORIZON_S = 1800.0
_DAY_S = 86_400.0


@dataclass(frozen=True)
class DayTime:
    """Where `now` falls in the day's opening hours."""

    open_so_far_s: float  # open time elapsed today
    issuing_for_s: float  # until the end of the session in progress (0 outside the sessions)
    opens_in_s: float  # until the next session starts (0 during one; after the last, tomorrow's first)


def session_seconds(sessions: Sequence[tuple[str, str]]) -> list[tuple[float, float]]:
    """ "HH:MM" sessions as seconds since midnight."""

    def seconds(hhmm: str) -> float:
        hours, minutes = hhmm.split(":")
        return int(hours) * 3600.0 + int(minutes) * 60.0

    return [(seconds(start), seconds(end)) for start, end in sessions]


def day_time(sessions: Sequence[tuple[float, float]], now_s: float) -> DayTime:
    """Where `now_s` falls in `sessions`."""
    so_far = sum(max(0.0, min(end, now_s) - start) for start, end in sessions)
    for start, end in sessions:
        if start <= now_s < end:
            return DayTime(so_far, end - now_s, 0.0)
    later = [start for start, _ in sessions if start > now_s]
    if later:
        return DayTime(so_far, 0.0, min(later) - now_s)
    first = min((start for start, _ in sessions), default=now_s)
    return DayTime(so_far, 0.0, first + _DAY_S - now_s)


class RecentArrivals:
    """Today's arrival rate per category: an exponentially decaying count over the open time, with a time constant
    of `tau_s` (half an hour: the hour's rate, not the morning's average, which overstates the afternoon).

    Times are open seconds so far today (`DayTime.open_so_far_s`), so the lunch break does not decay it. Early in
    the day the count is divided by the part of the time constant that has passed: no start-up bias.
    """

    def __init__(self, tau_s: float = 1800.0) -> None:
        if not (math.isfinite(tau_s) and tau_s > 0):
            raise ValueError(f"tau_s must be positive, got {tau_s}")
        self.tau_s = tau_s
        self._counts: dict[str, tuple[float, float]] = {}  # category → (decayed count, at open second)

    def observe(self, category: str, open_s: float) -> None:
        """One ticket of `category` issued at `open_s` open seconds into the day."""
        count, at = self._counts.get(category, (0.0, open_s))
        self._counts[category] = (count * math.exp(-max(0.0, open_s - at) / self.tau_s) + 1.0, max(at, open_s))

    def copy(self) -> RecentArrivals:
        other = RecentArrivals(self.tau_s)
        other._counts = dict(self._counts)
        return other

    def rates(self, open_s: float) -> dict[str, float]:
        """Tickets a second per category at `open_s`."""
        seen = self.tau_s * -math.expm1(-max(open_s, SETTLE_S) / self.tau_s)
        return {c: n * math.exp(-max(0.0, open_s - at) / self.tau_s) / seen for c, (n, at) in self._counts.items()}


def day_inflow(
    rates: Mapping[str, float], queued: Mapping[str, int], priority: Mapping[str, int], time: DayTime
) -> Inflow | None:
    """The arrivals to come for the next HORIZON_S (or until the session ends), at `rates` (tickets a second, e.g.
    RecentArrivals.rates).

    The priority share is that of the queue now (`priority` over `queued`, untargeted tickets): what the hall can
    see of who is coming. None outside the sessions.
    """
    if time.issuing_for_s <= 0:
        return None
    share = {c: priority.get(c, 0) / n for c, n in queued.items() if n > 0}
    return Inflow({c: r for c, r in rates.items() if r > 0}, share, min(time.issuing_for_s, HORIZON_S))
