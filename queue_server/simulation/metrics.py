"""Figures of simulated days: waits per category, window utilization, queue lengths, estimate errors."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from queue_server.simulation.engine import DayResult, TicketRecord

__all__ = [
    "ErrorSummary",
    "QueueSummary",
    "WaitSummary",
    "WindowSummary",
    "estimate_errors",
    "percentile",
    "queue_summary",
    "recalibrated_rmse",
    "wait_summary",
    "window_summary",
]

ALL = "(all)"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation between order statistics; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class WaitSummary:
    """Waits (issue to first call) of one category, or of all tickets."""

    category: str
    tickets: int
    called: int
    no_shows: int
    mean_s: float
    p90_s: float
    max_s: float


def wait_summary(records: Iterable[TicketRecord], categories: Sequence[str]) -> list[WaitSummary]:
    """Per category in the given order, then ALL; categories without tickets are left out."""
    waits: dict[str, list[float]] = {code: [] for code in (*categories, ALL)}
    counts: dict[str, list[int]] = {code: [0, 0] for code in (*categories, ALL)}
    for r in records:
        for code in (r.category, ALL):
            counts[code][0] += 1
            counts[code][1] += r.no_show
            if r.wait_s is not None:
                waits[code].append(r.wait_s)
    return [
        WaitSummary(
            code,
            counts[code][0],
            len(w),
            counts[code][1],
            sum(w) / len(w) if w else math.nan,
            percentile(w, 90),
            max(w) if w else math.nan,
        )
        for code, w in waits.items()
        if counts[code][0]
    ]


@dataclass(frozen=True)
class WindowSummary:
    number: int
    categories: tuple[str, ...]
    utilization: float  # busy over staffed time (open or paused)
    paused_share: float  # paused over staffed time
    served: int
    no_shows: int
    pauses: int
    staffed_h: float  # a day's staffed hours on average


def window_summary(days: Sequence[DayResult]) -> list[WindowSummary]:
    """Each window over all the days."""
    rows = []
    for i, first in enumerate(days[0].windows):
        stats = [d.windows[i] for d in days]
        staffed = sum(s.staffed_s for s in stats)
        rows.append(
            WindowSummary(
                first.number,
                first.categories,
                sum(s.busy_s for s in stats) / staffed if staffed else 0.0,
                sum(s.paused_s for s in stats) / staffed if staffed else 0.0,
                sum(s.served for s in stats),
                sum(s.no_shows for s in stats),
                sum(s.pauses for s in stats),
                staffed / len(days) / 3600.0,
            )
        )
    return rows


@dataclass(frozen=True)
class QueueSummary:
    category: str
    mean: float  # waiting tickets, time-averaged over the open sessions
    max: int  # the most ever waiting


def queue_summary(days: Sequence[DayResult], categories: Sequence[str]) -> list[QueueSummary]:
    open_s = sum(d.open_s for d in days)
    return [
        QueueSummary(
            code,
            sum(d.queue_area.get(code, 0.0) for d in days) / open_s if open_s else 0.0,
            max(d.queue_max.get(code, 0) for d in days),
        )
        for code in categories
    ]


@dataclass(frozen=True)
class ErrorSummary:
    """How far one estimator's figure at issue was from the wait that followed (estimate − actual)."""

    name: str
    tickets: int
    rmse_s: float
    bias_s: float  # mean error: positive means the estimate was too long
    mae_s: float
    within_5min: float  # share of tickets whose estimate was within five minutes of the actual wait


def estimate_errors(records: Iterable[TicketRecord], names: Sequence[str]) -> list[ErrorSummary]:
    """Errors over the tickets that were called and that every named estimator gave a figure for.

    Tickets without a figure (no window available when they were issued) are left out for all estimators
    alike, so the estimators are compared on the same tickets.
    """
    errors: dict[str, list[float]] = {name: [] for name in names}
    for r in records:
        wait = r.wait_s
        if wait is None:
            continue
        values = [r.estimates.get(name) for name in names]
        if any(v is None for v in values):
            continue
        for name, value in zip(names, values, strict=True):
            assert value is not None
            errors[name].append(value - wait)
    rows = []
    for name, e in errors.items():
        n = len(e)
        rows.append(
            ErrorSummary(
                name,
                n,
                math.sqrt(sum(x * x for x in e) / n) if n else math.nan,
                sum(e) / n if n else math.nan,
                sum(abs(x) for x in e) / n if n else math.nan,
                sum(1 for x in e if abs(x) <= 300) / n if n else math.nan,
            )
        )
    return rows


def recalibrated_rmse(records: Iterable[TicketRecord], name: str, bucket_s: float = 300.0) -> tuple[float, float]:
    """How much better `name` could do with what it already sees: (its RMSE, the recalibrated RMSE) on odd days.

    The recalibrated estimate is the mean actual wait of the even days' tickets with the same category,
    priority class and `bucket_s` bucket of the estimate (the estimate itself where no such ticket was seen):
    learned on one half, scored on the other, so it cannot flatter itself by fitting noise.
    """

    def key(r: TicketRecord, value: float) -> tuple[str, bool, int]:
        return (r.category, r.priority.value == "ordinary", int(value // bucket_s))

    learned: dict[tuple[str, bool, int], list[float]] = {}
    scored: list[tuple[float, float, tuple[str, bool, int]]] = []
    for r in records:
        value, wait = r.estimates.get(name), r.wait_s
        if value is None or wait is None:
            continue
        if r.day % 2 == 0:
            learned.setdefault(key(r, value), []).append(wait)
        else:
            scored.append((value, wait, key(r, value)))
    if not scored:
        return math.nan, math.nan
    means = {k: sum(v) / len(v) for k, v in learned.items()}
    own = math.sqrt(sum((v - w) ** 2 for v, w, _ in scored) / len(scored))
    again = math.sqrt(sum((means.get(k, v) - w) ** 2 for v, w, k in scored) / len(scored))
    return own, again
