"""Where the server's wait estimate loses to the conditional-mean optimum: the server fed, one at a time, the true
inputs the optimum's forward runs use (docs/simulation.md, section 7), on the same sampled tickets.

    .venv/bin/python bench/estimate_sources.py --load 0.9                       # the demo hall, 8 days
    .venv/bin/python bench/estimate_sources.py --load 0.9 --set green_share=0   # a hall without green channel

For each variant it prints D, the RMS of (variant − optimum) over the sampled tickets with the forward runs'
Monte Carlo noise taken off, and the RMSE ratio to the optimum it implies, √(1 + D²/optimum²) − 1 (the
conditional mean's error is uncorrelated with any estimate made from the same information). Variants:
server (as it is); true-rates (the scenario's arrival rates at this hour, until the session ends); true-means
(the scenario's mean call → finish per category); true-green (its green-channel share); all-true (all three).
`--set` changes the scenario (pause_per_hour, no_show_p, walk_mean_s, green_share, ...) to take a source of
randomness away from the day and the forward runs alike.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.loader import default_config_path, load_config
from queue_server.domain import opening
from queue_server.domain.estimate import Inflow
from queue_server.simulation.arrivals import _segments, point_seed
from queue_server.simulation.estimators import DomainEstimator, QueueView, server_times
from queue_server.simulation.forward import OPTIMUM, Optimum
from queue_server.simulation.quality import WARMUP_DAYS, county_hall
from queue_server.simulation.runs import simulate_days
from queue_server.simulation.scenario import Scenario, from_hall


class Fed(DomainEstimator):
    """The server's estimator with some of its learned inputs replaced by the scenario's truth."""

    def __init__(self, name: str, scenario: Scenario, rates: bool, means: bool, green: bool) -> None:
        super().__init__(name, name, server_times(scenario), sessions=scenario.sessions)
        self.scenario, self.true_rates, self.true_green = scenario, rates, green
        self.pieces = _segments(scenario)
        if means:
            truth = {c.code: c.mean_s + scenario.walk_mean_s for c in scenario.categories}
            self.times.snapshot = lambda: dict(truth)  # type: ignore[method-assign]

    def _rates(self, now_s: float) -> dict[str, float]:
        weighted = sum(w * (b - a) for a, b, w in self.pieces)
        weight = next((w for a, b, w in self.pieces if a <= now_s < b), 0.0)
        return {c.code: c.per_day * weight / weighted for c in self.scenario.categories}

    def estimate_range(self, view: QueueView) -> tuple[float | None, tuple[float, float] | None]:
        learned = opening.RecentArrivals.inflow

        def inflow(arrivals: opening.RecentArrivals, queued, priority, time):  # type: ignore[no-untyped-def]
            made = learned(arrivals, queued, priority, time)
            if made is None:
                return None
            rates = self._rates(view.now_s) if self.true_rates else made.rates
            green = {c: self.scenario.green_share for c in rates} if self.true_green else made.priority_share
            return Inflow(rates, green, time.issuing_for_s if self.true_rates else made.for_s)

        opening.RecentArrivals.inflow = inflow  # type: ignore[method-assign]
        try:
            return super().estimate_range(view)
        finally:
            opening.RecentArrivals.inflow = learned  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=float, default=0.9)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--share", type=float, default=0.4)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--county", action="store_true", help="the 60-window county hall")
    parser.add_argument("--set", nargs="*", default=[], help="scenario changes, e.g. pause_per_hour=0")
    args = parser.parse_args()

    demo = load_config(default_config_path()).halls[0]
    hall = county_hall(demo) if args.county else demo
    scenario = from_hall(hall, load=args.load)
    scenario = replace(scenario, **{k: float(v) for k, v in (s.split("=") for s in args.set)})
    point = point_seed(args.seed, hall.id, len(hall.windows), f"{args.load:g}")
    flags = {
        "server": (False, False, False),
        "true-rates": (True, False, False),
        "true-means": (False, True, False),
        "true-green": (False, False, True),
        "all-true": (True, True, True),
    }
    estimators = [Fed(name, scenario, *f) for name, f in flags.items()]
    oracle = Optimum(runs=args.runs, share=args.share, seed=point, from_day=WARMUP_DAYS)
    days = simulate_days(scenario, args.days, point, estimators, sample_s=0, oracle=oracle)
    sampled = [r for d in days[WARMUP_DAYS:] for r in d.tickets if OPTIMUM in r.estimates and r.wait_s is not None]
    noise = sum(r.spread_s2 or 0.0 for r in sampled) / len(sampled) / args.runs
    best = sum(((r.estimates[OPTIMUM] or 0.0) - (r.wait_s or 0.0)) ** 2 for r in sampled) / len(sampled) - noise
    changed = " ".join(args.set) or "scenario as configured"
    print(f"{len(sampled)} sampled tickets, optimum RMSE {math.sqrt(best) / 60:.1f} min ({changed})")
    for name in flags:
        gap = sum(((r.estimates[name] or 0.0) - (r.estimates[OPTIMUM] or 0.0)) ** 2 for r in sampled) / len(sampled)
        d2 = max(0.0, gap - noise)
        print(f"  {name:11s} D {math.sqrt(d2):5.0f} s   vs optimum {math.sqrt(1 + d2 / best) - 1:+.1%}")


if __name__ == "__main__":
    main()
