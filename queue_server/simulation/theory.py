"""Queueing theory the simulator is checked against: Erlang C (M/M/c) and Student's t for confidence intervals."""

from __future__ import annotations

import math

__all__ = ["erlang_c", "mmc_mean_wait", "mmc_wait_quantile", "t_quantile_975"]


def erlang_c(servers: int, offered: float) -> float:
    """The probability that an arrival waits in an M/M/c queue with `servers` and offered load a = λ/μ (< c).

    Computed through the Erlang B recurrence B(k) = a·B(k−1) / (k + a·B(k−1)), which never overflows, and
    C = c·B / (c − a·(1 − B)).
    """
    if servers < 1:
        raise ValueError(f"servers must be at least 1, got {servers}")
    if not 0 <= offered < servers:
        raise ValueError(f"the offered load must be in [0, {servers}) for a stable queue, got {offered}")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return servers * b / (servers - offered * (1 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (before service) of M/M/c: Wq = C(c, λ/μ) / (cμ − λ)."""
    return erlang_c(servers, arrival_rate / service_rate) / (servers * service_rate - arrival_rate)


def mmc_wait_quantile(servers: int, arrival_rate: float, service_rate: float, q: float) -> float:
    """The q-quantile of the time in queue of FIFO M/M/c: P(W > t) = C·exp(−(cμ − λ)t), so 0 when C ≤ 1 − q."""
    c = erlang_c(servers, arrival_rate / service_rate)
    if c <= 1 - q:
        return 0.0
    return math.log(c / (1 - q)) / (servers * service_rate - arrival_rate)


# Two-sided 95% quantiles t(0.975, df) for df = 1..30; beyond that the normal quantile is close enough.
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t_quantile_975(df: int) -> float:
    """Student's t 97.5% quantile (for a two-sided 95% interval) with `df` degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.4 / df
