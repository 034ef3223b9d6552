"""The simulator against Erlang C at every point of the grid, and the estimators against full information.

Fewer, shorter replications than the report: the tolerance is the same rule (5% or the 95% interval),
and the seeds are fixed, so the test is deterministic.
"""

from __future__ import annotations

import pytest

from queue_server.simulation.validation import GRID, erlang_point

# Measured tickets per replication: a busier queue forgets its past more slowly and needs longer runs.
CUSTOMERS = {0.5: 3_000, 0.8: 6_000, 0.9: 15_000}


@pytest.mark.parametrize(("servers", "rho"), GRID)
def test_simulated_mean_wait_matches_erlang_c(servers: int, rho: float) -> None:
    customers = CUSTOMERS[rho]
    point = erlang_point(servers, rho, replications=6, customers=customers, warmup=customers // 8, seed=11)
    assert point.agrees, (point.theory_s, point.sim_s, point.half_width_s)
    # The agreement is not bought with a huge interval: it stays within 30% of the mean even at ρ = 0.9.
    assert point.half_width_s < 0.3 * point.theory_s + 2.0


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
