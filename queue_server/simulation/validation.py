"""Checking the simulator against M/M/c theory, and the estimators against full information, in the same runs.

Each (c, ρ) point is run as independent replications: one category on c dedicated windows, Poisson
arrivals, exponential services, FIFO, no pauses, no-shows or priorities. Every replication starts empty
and drops the tickets issued during a warm-up; the mean wait of each replication is one observation,
and the 95% confidence interval is Student's t over the replications.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from queue_server.simulation.arrivals import point_seed, steady_arrivals
from queue_server.simulation.engine import TicketRecord, run_day
from queue_server.simulation.estimators import (
    DomainEstimator,
    Estimator,
    FairNaive,
    FullInformation,
    Naive,
    server_estimator,
    server_times,
)
from queue_server.simulation.metrics import ErrorSummary, estimate_errors, percentile
from queue_server.simulation.scenario import Scenario, mmc
from queue_server.simulation.theory import mmc_mean_wait, mmc_wait_quantile, t_quantile_975

__all__ = ["GRID", "RHO_BOUNDS", "SERVERS_BOUNDS", "ErlangPoint", "erlang_point", "mmc_estimators"]

#: The (windows, utilization) points of the validation.
GRID: tuple[tuple[int, float], ...] = tuple((c, rho) for c in (1, 3, 8) for rho in (0.5, 0.8, 0.9))
#: Where the simulator is claimed to agree with Erlang C (the tests draw their points at random in here):
#: c windows from 1 to 8, utilization from 0.5 to 0.9, the hull of GRID. (Beyond it the test's short runs are
#: too noisy to tell: at c = 5, ρ = 0.44 the mean wait is 9 s, mostly zeros.)
SERVERS_BOUNDS, RHO_BOUNDS = (1, 8), (0.5, 0.9)

MEAN_S = 300.0  # five-minute services: the figures scale with it


def mmc_estimators(scenario: Scenario) -> list[Estimator]:
    """The server's estimator, the server's earlier one, the naive and fair naive ones and full information.

    In M/M/c the earlier server is reproduced exactly: with one category the fluid is the earlier method, no
    walk makes call → finish equal to start → finish, and alpha 0.2 with a prior of 4 gives every observation
    the weight 0.2 — the earlier moving average.
    """
    return [
        server_estimator(scenario),
        DomainEstimator("previous", "the server's earlier ServiceTimes (EWMA, alpha 0.2)", server_times(scenario, 0.2)),
        Naive(scenario),
        FairNaive(scenario),
        FullInformation({c.code: c.mean_s for c in scenario.categories}),
    ]


@dataclass(frozen=True)
class ErlangPoint:
    servers: int
    rho: float
    replications: int
    customers: int  # measured tickets over all replications
    theory_s: float  # Erlang C mean wait
    sim_s: float  # mean over replications of their mean wait
    half_width_s: float  # of the 95% confidence interval
    theory_p90_s: float
    sim_p90_s: float
    errors: tuple[ErrorSummary, ...]  # estimators, when measured

    @property
    def relative_error(self) -> float:
        return (self.sim_s - self.theory_s) / self.theory_s

    @property
    def agrees(self) -> bool:
        """Within 5% of theory, or theory inside the 95% confidence interval."""
        return abs(self.relative_error) <= 0.05 or abs(self.sim_s - self.theory_s) <= self.half_width_s

    def error(self, name: str) -> ErrorSummary:
        return next(e for e in self.errors if e.name == name)


def erlang_point(
    servers: int,
    rho: float,
    *,
    replications: int = 10,
    customers: int = 20_000,
    warmup: int = 2_000,
    seed: int = 1,
    estimators: bool = False,
    on_replication: Callable[[], None] | None = None,
) -> ErlangPoint:
    """Simulate M/M/c at (servers, rho) with `customers` measured arrivals per replication after `warmup`."""
    if replications < 2:
        raise ValueError("at least two replications are needed for a confidence interval")
    rate = rho * servers / MEAN_S
    warmup_s = warmup / rate
    seed = point_seed(seed, "mmc", servers, f"{rho:g}")  # each point its own streams: points are independent
    scenario = mmc(servers, rho, MEAN_S, horizon_s=(warmup + customers) / rate)
    means: list[float] = []
    waits: list[float] = []
    measured: list[TicketRecord] = []
    names: Sequence[str] = ()
    for r in range(replications):
        chosen = mmc_estimators(scenario) if estimators else []
        names = [e.name for e in chosen]
        day = run_day(scenario, steady_arrivals(scenario, seed, r), chosen, day=r, seed=seed, sample_s=0)
        kept = [t for t in day.tickets if t.issued_s >= warmup_s and t.wait_s is not None]
        rep_waits = [t.wait_s for t in kept if t.wait_s is not None]
        means.append(sum(rep_waits) / len(rep_waits))
        waits.extend(rep_waits)
        if estimators:
            measured.extend(kept)
        if on_replication is not None:
            on_replication()
    mean = sum(means) / len(means)
    sd = math.sqrt(sum((m - mean) ** 2 for m in means) / (len(means) - 1))
    mu = 1.0 / MEAN_S
    return ErlangPoint(
        servers=servers,
        rho=rho,
        replications=replications,
        customers=len(waits),
        theory_s=mmc_mean_wait(servers, rate, mu),
        sim_s=mean,
        half_width_s=t_quantile_975(len(means) - 1) * sd / math.sqrt(len(means)),
        theory_p90_s=mmc_wait_quantile(servers, rate, mu, 0.9),
        sim_p90_s=percentile(waits, 90),
        errors=tuple(estimate_errors(measured, names)) if estimators else (),
    )


def erlang_grid(
    replications: int, customers: int, seed: int, on_replication: Callable[[], None] | None = None
) -> list[ErlangPoint]:
    """Every point of GRID, with the estimators, a tenth of `customers` as warm-up."""
    return [
        erlang_point(
            servers,
            rho,
            replications=replications,
            customers=customers,
            warmup=customers // 10,
            seed=seed,
            estimators=True,
            on_replication=on_replication,
        )
        for servers, rho in GRID
    ]
