"""The hall's opening hours as the wait estimate needs them, and the arrivals still to come today.

Times are seconds since the hall's local midnight; the sessions are (start, end) pairs in order. Pure: the
clock is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from queue_server.domain.estimate import Inflow

__all__ = [
    "HORIZON_S",
    "PROFILE_DAYS",
    "SETTLE_S",
    "SLOT_S",
    "ArrivalProfile",
    "DayTime",
    "RecentArrivals",
    "day_inflow",
    "day_time",
    "session_seconds",
]

#: The arrival rate is never taken over less open time than this: the first tickets of the morning do not make
#: a rate of their own.
SETTLE_S = 1800.0
#: How far ahead the arrivals are foreseen from the last half hour's rate alone (a hall without a history): that
#: rate says little about the hour after next (the simulator measured an uncapped horizon 20% worse at load 0.6).
#: With a profile of the days before, the arrivals are foreseen until the session ends (RecentArrivals.inflow).
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

    It also counts today's tickets per category, open-time slot (SLOT_S) and class, and carries the profile of
    the days before (`ArrivalProfile`, folded in by `next_day`): with one, `inflow` foresees the arrivals from
    the profile (what the hall's history says of this time of day) rather than from the last half hour.
    """

    def __init__(self, tau_s: float = 1800.0, profile: ArrivalProfile | None = None) -> None:
        if not (math.isfinite(tau_s) and tau_s > 0):
            raise ValueError(f"tau_s must be positive, got {tau_s}")
        self.tau_s = tau_s
        self.profile = profile  # the days before: never changed, a new day makes a new one
        self._counts: dict[str, tuple[float, float]] = {}  # category → (decayed count, at open second)
        self._slots: dict[str, dict[int, int]] = {}  # today's tickets: category → slot → count
        self._priority: dict[str, int] = {}  # today's priority tickets per category

    def observe(self, category: str, open_s: float, priority: bool = False) -> None:
        """One ticket of `category` issued at `open_s` open seconds into the day."""
        count, at = self._counts.get(category, (0.0, open_s))
        self._counts[category] = (count * math.exp(-max(0.0, open_s - at) / self.tau_s) + 1.0, max(at, open_s))
        slots = self._slots.setdefault(category, {})
        slot = int(max(0.0, open_s) // SLOT_S)
        slots[slot] = slots.get(slot, 0) + 1
        if priority:
            self._priority[category] = self._priority.get(category, 0) + 1

    def copy(self) -> RecentArrivals:
        other = RecentArrivals(self.tau_s, self.profile)
        other._counts = dict(self._counts)
        other._slots = {c: dict(s) for c, s in self._slots.items()}
        other._priority = dict(self._priority)
        return other

    def next_day(self) -> RecentArrivals:
        """A new day's counts, with today folded into the profile (a day without tickets is not a day of it)."""
        if not self._slots:
            return RecentArrivals(self.tau_s, self.profile)
        base = self.profile or ArrivalProfile()
        return RecentArrivals(self.tau_s, base.fold(self._slots, self._priority))

    def inflow(self, queued: Mapping[str, int], priority: Mapping[str, int], time: DayTime) -> Inflow | None:
        """The arrivals to come: from the profile until the session ends when there is one, else `day_inflow` of
        the last half hour's rates. The profile's rates are scaled by how busy today has been so far against it
        (shrunk towards 1 by LEVEL_PRIOR tickets), and its priority share is that of the arrivals (history and
        today), not of the queue."""
        if time.issuing_for_s <= 0:
            return None
        if self.profile is None:
            return day_inflow(self.rates(time.open_so_far_s), queued, priority, time)
        start, end = time.open_so_far_s, time.open_so_far_s + time.issuing_for_s
        today = sum(sum(s.values()) for s in self._slots.values())
        expected = sum(self.profile.expected(c, 0.0, start) for c in self.profile.categories())
        level = (today + LEVEL_PRIOR) / (expected + LEVEL_PRIOR)
        rates = {}
        for c in self.profile.categories():
            rate = level * self.profile.expected(c, start, end) / (end - start)
            if rate > 0:
                rates[c] = rate
        shares = {}
        for c in rates:
            seen = self.profile.total(c) + sum(self._slots.get(c, {}).values())
            shares[c] = (self.profile.priority(c) + self._priority.get(c, 0)) / seen if seen > 0 else 0.0
        return Inflow(rates, shares, time.issuing_for_s)

    def rates(self, open_s: float) -> dict[str, float]:
        """Tickets a second per category at `open_s`."""
        seen = self.tau_s * -math.expm1(-max(open_s, SETTLE_S) / self.tau_s)
        return {c: n * math.exp(-max(0.0, open_s - at) / self.tau_s) / seen for c, (n, at) in self._counts.items()}


#: The open-time slots the arrival profile counts tickets in.
SLOT_S = 1800.0
#: The days the profile remembers, about (each new day weighs at least 1/PROFILE_DAYS).
PROFILE_DAYS = 20
#: Tickets of shrinkage in today's level against the profile: a few early tickets do not double the forecast.
LEVEL_PRIOR = 20.0


class ArrivalProfile:
    """The hall's arrivals by time of day: per category, the mean tickets per open-time slot over the days before
    (a running mean, then a moving average of about the last PROFILE_DAYS days), and its priority tickets. Never
    changed once made: `fold` gives a new one."""

    __slots__ = ("_days", "_priority", "_slots", "_total")

    def __init__(self) -> None:
        self._days = 0
        self._slots: dict[str, dict[int, float]] = {}  # category → slot → mean tickets a day
        self._total: dict[str, float] = {}  # category → mean tickets a day
        self._priority: dict[str, float] = {}  # category → mean priority tickets a day

    @property
    def days(self) -> int:
        return self._days

    def fold(self, slots: Mapping[str, Mapping[int, int]], priority: Mapping[str, int]) -> ArrivalProfile:
        """This profile with one more day: its tickets per category and slot, and its priority ones."""
        weight = max(1.0 / (self._days + 1), 1.0 / PROFILE_DAYS)
        made = ArrivalProfile()
        made._days = self._days + 1
        for c in {*self._slots, *slots}:
            old, new = self._slots.get(c, {}), slots.get(c, {})
            made._slots[c] = {k: (1 - weight) * old.get(k, 0.0) + weight * new.get(k, 0) for k in {*old, *new}}
            made._total[c] = (1 - weight) * self._total.get(c, 0.0) + weight * sum(new.values())
            made._priority[c] = (1 - weight) * self._priority.get(c, 0.0) + weight * priority.get(c, 0)
        return made

    def categories(self) -> list[str]:
        return sorted(self._slots)

    def expected(self, category: str, start_s: float, end_s: float) -> float:
        """The mean tickets of `category` a day between two open-time instants: its share of the day's tickets
        times the hall's tickets then (slots counted pro rata). The time of day is pooled over the categories, as
        a category's own few tickets a slot would make a noisy shape."""
        everyone = sum(self._total.values())
        if everyone <= 0:
            return 0.0
        total = 0.0
        for slots in self._slots.values():
            for slot, count in slots.items():
                overlap = min((slot + 1) * SLOT_S, end_s) - max(slot * SLOT_S, start_s)
                if overlap > 0:
                    total += count * overlap / SLOT_S
        return total * self._total.get(category, 0.0) / everyone

    def total(self, category: str) -> float:
        return self._total.get(category, 0.0)

    def priority(self, category: str) -> float:
        return self._priority.get(category, 0.0)


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
