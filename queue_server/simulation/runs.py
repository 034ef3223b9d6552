"""Running simulated hall days: the estimators compared on a hall, and many days in a row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from queue_server.simulation.arrivals import Arrival, day_arrivals, pause_plan
from queue_server.simulation.engine import DayResult, Oracle, run_day
from queue_server.simulation.estimators import (
    DomainEstimator,
    Estimator,
    FairNaive,
    Naive,
    earlier_server,
    server_estimator,
    server_times,
)
from queue_server.simulation.scenario import Scenario

__all__ = ["hall_estimators", "simulate_days"]


def hall_estimators(scenario: Scenario, *, ablation: bool = False) -> list[Estimator]:
    """The server's estimator, the naive and fair naive ones and the server before this round's changes; with
    `ablation`, the server without each of its service-time choices (what each is worth)."""
    chosen: list[Estimator] = [server_estimator(scenario), Naive(scenario), FairNaive(scenario)]
    if ablation:
        chosen += [
            DomainEstimator(
                "alpha-0.2",
                "server with ServiceTimes alpha 0.2 (the earlier short memory)",
                server_times(scenario, 0.2),
                sessions=scenario.sessions,
            ),
            DomainEstimator(
                "start-finish",
                "server learning start → finish (the earlier clock)",
                server_times(scenario),
                from_call=False,
                sessions=scenario.sessions,
            ),
        ]
    chosen.append(earlier_server(scenario))
    return chosen


def simulate_days(
    scenario: Scenario,
    days: int,
    seed: int,
    estimators: Sequence[Estimator] = (),
    *,
    arrivals: Sequence[Sequence[Arrival]] | None = None,
    sample_s: float = 60.0,
    on_day: Callable[[], None] | None = None,
    oracle: Oracle | None = None,
) -> list[DayResult]:
    """`days` days in a row (the estimators keep learning across them), or one day per list in `arrivals`."""
    results = []
    count = len(arrivals) if arrivals is not None else days
    for day in range(count):
        today = arrivals[day] if arrivals is not None else day_arrivals(scenario, seed, day)
        pauses = {number: pause_plan(scenario, seed, day, number) for number, _ in scenario.windows}
        results.append(
            run_day(scenario, today, estimators, day=day, seed=seed, pauses=pauses, sample_s=sample_s, oracle=oracle)
        )
        if on_day is not None:
            on_day()
    return results
