"""The simulator against Erlang C at points drawn at random, and the estimators against full information.

The points are drawn by the test within the bounds the simulator claims (validation.SERVERS_BOUNDS,
RHO_BOUNDS), a fresh draw each run, the same in every pytest-xdist worker (BIANMIN_SIM_SEED=N replays one);
fewer, shorter replications than the report. So that a run that is merely unlucky does not fail, a point agrees
within 5% of theory or 2.5 half-widths of its 95% interval (about 99.9%).
"""

from __future__ import annotations

import os
import random

import pytest

from queue_server.simulation.arrivals import point_seed
from queue_server.simulation.validation import RHO_BOUNDS, SERVERS_BOUNDS, erlang_point


def _seed() -> int:
    # pytest-xdist's workers must draw the same points (they collect separately): they share the run's id.
    if os.environ.get("BIANMIN_SIM_SEED"):
        return int(os.environ["BIANMIN_SIM_SEED"])
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return int(run[:12], 16) % 10**9 if run else random.SystemRandom().randrange(10**9)


SEED = _seed()
DRAW = random.Random(SEED)
POINTS = [(DRAW.randint(*SERVERS_BOUNDS), round(DRAW.uniform(*RHO_BOUNDS), 3)) for _ in range(4)]


def _customers(rho: float) -> int:
    # A busier queue forgets its past more slowly and needs longer runs.
    return 3_000 if rho < 0.7 else 6_000 if rho < 0.85 else 15_000


@pytest.mark.parametrize(("servers", "rho"), POINTS)
def test_simulated_mean_wait_matches_erlang_c(servers: int, rho: float) -> None:
    customers = _customers(rho)
    point = erlang_point(servers, rho, replications=10, customers=customers, warmup=customers // 8, seed=SEED)
    seen = f"BIANMIN_SIM_SEED={SEED}: c={servers} ρ={rho}: {point.theory_s:.1f} against {point.sim_s:.1f}"
    seen += f" ± {point.half_width_s:.1f}"
    assert abs(point.relative_error) <= 0.05 or abs(point.sim_s - point.theory_s) <= 2.5 * point.half_width_s, seen
    # The agreement is not bought with a huge interval: within 35% of the mean even at ρ = 0.9 (ten replications:
    # with six, the t quantile and the spread of six means put a few draws in a hundred above that).
    assert point.half_width_s < 0.35 * point.theory_s + 2.0, seen


def test_scenario_points_have_independent_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    # The published grid once ran every point on one stream (the seed ignored c and ρ): one sample, not nine.
    from queue_server.simulation import validation

    seeds: list[tuple[int, int]] = []
    real = validation.steady_arrivals

    def spy(scenario: object, seed: int, replication: int) -> object:
        seeds.append((seed, replication))
        return real(scenario, seed, replication)  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "steady_arrivals", spy)
    for servers, rho in ((2, 0.5), (3, 0.5), (3, 0.6)):
        erlang_point(servers, rho, replications=2, customers=200, warmup=20, seed=1)
    assert len(seeds) == 6 and len(set(seeds)) == 6 and len({s for s, _ in seeds}) == 3
    assert seeds[0][0] == point_seed(1, "mmc", 2, "0.5")


@pytest.fixture(scope="module")
def mm3() -> object:
    return erlang_point(3, 0.8, replications=4, customers=8_000, warmup=800, seed=5, estimators=True)


def test_full_information_is_best(mm3: object) -> None:
    from queue_server.simulation.validation import ErlangPoint

    assert isinstance(mm3, ErlangPoint)
    full = mm3.error("full").rmse_s
    for name in ("server", "previous", "naive"):
        assert mm3.error(name).rmse_s >= 0.98 * full
    # Full information is unbiased in M/M/c.
    assert abs(mm3.error("full").bias_s) < 0.1 * full


def test_server_estimator_is_within_the_target_of_full_information(mm3: object) -> None:
    from queue_server.simulation.validation import ErlangPoint

    assert isinstance(mm3, ErlangPoint)
    full = mm3.error("full").rmse_s
    # ServiceTimes alpha 0.01: RMSE ≈ √(1 + 0.005·(1+ρ)/(1−ρ)) ≈ 1.02× full information at ρ = 0.8.
    assert mm3.error("server").rmse_s <= 1.10 * full
    # The earlier EWMA alpha 0.2: ≈ √(1 + 0.11·(1+ρ)/(1−ρ)) ≈ 1.41× (measured 1.5×), limited by its noise.
    assert 1.2 < mm3.error("previous").rmse_s / full < 1.8
