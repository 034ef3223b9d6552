"""Running simulated hall days: the estimators compared on a hall, and many days in a row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from queue_server.simulation.arrivals import Arrival, day_arrivals, pause_plan
from queue_server.simulation.engine import DayResult, run_day
from queue_server.simulation.estimators import DomainEstimator, Estimator, Naive, server_estimator, server_times
from queue_server.simulation.proposals import LongMemoryServiceTimes, fluid_waits
from queue_server.simulation.scenario import Scenario

__all__ = ["hall_estimators", "simulate_days"]


def _long_memory(scenario: Scenario) -> LongMemoryServiceTimes:
    return LongMemoryServiceTimes({c.code: c.configured_s for c in scenario.categories})


def hall_estimators(scenario: Scenario, *, ablation: bool = False) -> list[Estimator]:
    """The server's estimator, the naive one and the full proposal; with `ablation`, each step of the proposal."""
    chosen: list[Estimator] = [server_estimator(scenario), Naive(scenario)]
    if ablation:
        chosen += [
            DomainEstimator("p1-memory", "estimate_waits + LongMemoryServiceTimes", _long_memory(scenario)),
            DomainEstimator("p2-fluid", "fluid_waits + ServiceTimes (alpha 0.2)", server_times(scenario), fluid_waits),
            DomainEstimator("p3-both", "fluid_waits + LongMemoryServiceTimes", _long_memory(scenario), fluid_waits),
            DomainEstimator("p4-call", "p3 + learn call→finish", _long_memory(scenario), fluid_waits, from_call=True),
        ]
    chosen.append(
        DomainEstimator(
            "proposed",
            "fluid_waits + LongMemoryServiceTimes + learn call→finish + paused windows count as busy",
            _long_memory(scenario),
            fluid_waits,
            from_call=True,
            paused_as_busy=True,
        )
    )
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
) -> list[DayResult]:
    """`days` days in a row (the estimators keep learning across them), or one day per list in `arrivals`."""
    results = []
    count = len(arrivals) if arrivals is not None else days
    for day in range(count):
        today = arrivals[day] if arrivals is not None else day_arrivals(scenario, seed, day)
        pauses = {number: pause_plan(scenario, seed, day, number) for number, _ in scenario.windows}
        results.append(run_day(scenario, today, estimators, day=day, seed=seed, pauses=pauses, sample_s=sample_s))
        if on_day is not None:
            on_day()
    return results
