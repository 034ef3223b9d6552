"""Erlang C and the t quantiles against published values."""

from __future__ import annotations

import math

import pytest

from queue_server.simulation.theory import erlang_c, mmc_mean_wait, mmc_wait_quantile, t_quantile_975


@pytest.mark.parametrize(
    ("servers", "offered", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: the probability of waiting is ρ
        (1, 0.9, 0.9),
        (2, 1.0, 1 / 3),
        (3, 2.0, 4 / 9),  # 0.4444, the textbook example
        (5, 4.0, 0.5541),  # published tables
        (10, 8.0, 0.4092),
    ],
)
def test_erlang_c_known_values(servers: int, offered: float, expected: float) -> None:
    assert erlang_c(servers, offered) == pytest.approx(expected, abs=5e-4)


def test_mm1_mean_wait_is_rho_over_mu_minus_lambda() -> None:
    # Wq = ρ / (μ − λ) for M/M/1: ρ = 0.9 and a five-minute service wait 45 minutes on average.
    assert mmc_mean_wait(1, 0.9 / 300, 1 / 300) == pytest.approx(2700.0)


def test_large_servers_do_not_overflow() -> None:
    value = erlang_c(500, 450.0)
    assert 0 < value < 1 and math.isfinite(value)


def test_wait_quantile() -> None:
    # M/M/1 at ρ = 0.8: P(W > t) = 0.8·exp(−(μ − λ)t); the 90th percentile is ln(8)/(μ − λ).
    assert mmc_wait_quantile(1, 0.8 / 300, 1 / 300, 0.9) == pytest.approx(math.log(8) * 1500)
    assert mmc_wait_quantile(8, 0.5 * 8 / 300, 1 / 300, 0.9) == 0.0  # fewer than 10% wait at all


@pytest.mark.parametrize(("servers", "offered"), [(0, 0.5), (2, 2.0), (1, -0.1)])
def test_unstable_or_invalid_queues_are_refused(servers: int, offered: float) -> None:
    with pytest.raises(ValueError):
        erlang_c(servers, offered)


def test_t_quantiles() -> None:
    assert t_quantile_975(1) == pytest.approx(12.706)
    assert t_quantile_975(9) == pytest.approx(2.262)
    assert t_quantile_975(60) == pytest.approx(2.000, abs=0.002)
    assert t_quantile_975(1000) == pytest.approx(1.962, abs=0.003)
