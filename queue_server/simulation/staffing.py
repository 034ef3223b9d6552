"""What-if staffing: the fewest dedicated windows per category that keep a share of waits under a target.

Each category is tried alone on k windows of its own (k = 1, 2, ...) with the same citizens — the same
arrivals and the same service durations, drawn once — and the same clerks' behaviour (pauses are drawn
per window number, so window 1 pauses alike whatever k is). The first k whose waits meet the target is
the answer. Dedicated windows make the categories independent; a hall that shares windows needs at most
as many in total (pooling only helps), which the current layout's figures next to them show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from queue_server.simulation.arrivals import Arrival
from queue_server.simulation.engine import DayResult
from queue_server.simulation.metrics import percentile
from queue_server.simulation.runs import simulate_days
from queue_server.simulation.scenario import Scenario

__all__ = ["StaffingRow", "staffing"]


@dataclass(frozen=True)
class StaffingRow:
    category: str
    arrivals_per_day: float
    current_windows: int  # windows of the hall that list the category
    current_quantile_s: float  # the waits' quantile in the hall as configured
    needed: int | None  # dedicated windows needed (None: not met with max_windows)
    needed_quantile_s: float  # the quantile with that many
    needed_mean_s: float
    needed_utilization: float


def _waits(days: Sequence[DayResult], category: str) -> list[float]:
    return [t.wait_s for d in days for t in d.tickets if t.category == category and t.wait_s is not None]


def staffing(
    scenario: Scenario,
    arrivals: Sequence[Sequence[Arrival]],
    current: Sequence[DayResult],
    target_s: float,
    *,
    quantile: float = 90.0,
    seed: int = 0,
    max_windows: int = 12,
    on_step: Callable[[], None] | None = None,
) -> list[StaffingRow]:
    """For each category, the fewest dedicated windows whose `quantile`-th percentile wait is ≤ `target_s`.

    `on_step` is called after each category."""
    rows = []
    for category in scenario.categories:
        code = category.code
        own = [[a for a in day if a.category == code] for day in arrivals]
        count = sum(len(day) for day in own)
        listed = sum(1 for _, categories in scenario.windows if code in categories)
        row_current = percentile(_waits(current, code), quantile)
        needed: int | None = None
        found_q = found_mean = found_util = float("nan")
        for k in range(1, max_windows + 1) if count else ():
            alone = replace(
                scenario,
                categories=(category,),
                windows=tuple((n, (code,)) for n in range(1, k + 1)),
            )
            days = simulate_days(alone, len(own), seed, arrivals=own, sample_s=0)
            waits = _waits(days, code)
            q = percentile(waits, quantile)
            if q <= target_s:
                staffed = sum(w.staffed_s for d in days for w in d.windows)
                needed, found_q, found_mean = k, q, sum(waits) / len(waits)
                found_util = sum(w.busy_s for d in days for w in d.windows) / staffed if staffed else 0.0
                break
        if on_step is not None:
            on_step()
        rows.append(
            StaffingRow(
                code,
                count / len(arrivals) if arrivals else 0.0,
                listed,
                row_current,
                needed if count else 0,
                found_q if count else 0.0,
                found_mean if count else 0.0,
                found_util if count else 0.0,
            )
        )
    return rows
