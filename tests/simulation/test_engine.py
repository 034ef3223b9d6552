"""The engine drives the real domain code and keeps the hall's rules; runs are reproducible."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config.loader import default_config_path, load_config
from config.schema import Hall
from queue_server.domain import estimate, routing
from queue_server.domain.tickets import Priority
from queue_server.simulation.arrivals import Arrival, day_arrivals
from queue_server.simulation.engine import run_day
from queue_server.simulation.estimators import server_estimator
from queue_server.simulation.runs import hall_estimators, simulate_days
from queue_server.simulation.scenario import from_hall, mmc


@pytest.fixture(scope="module")
def hall() -> Hall:
    return load_config(default_config_path()).halls[0]


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    calls: list[Any] = []
    real = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append(result)
        return result

    monkeypatch.setattr(module, name, spy)
    return calls


def test_windows_call_with_the_real_pick_next(monkeypatch: pytest.MonkeyPatch, hall: Hall) -> None:
    picks = _spy(monkeypatch, routing, "pick_next")
    scenario = from_hall(hall, load=0.5)
    day = run_day(scenario, day_arrivals(scenario, 3, 0), seed=3)
    called = [t for t in day.tickets if t.called_s is not None]
    chosen = [p for p in picks if p is not None]
    assert called and len(chosen) == len(called) + sum(1 for t in day.tickets if t.recalled_s is not None)
    assert {p.rule for p in chosen} >= {"category", "priority"}


def test_no_shows_are_requeued_with_the_real_requeue_key(monkeypatch: pytest.MonkeyPatch, hall: Hall) -> None:
    keys = _spy(monkeypatch, routing, "requeue_key")
    scenario = from_hall(hall, load=0.5, no_show_p=0.3, requeue_p=1.0)
    day = run_day(scenario, day_arrivals(scenario, 4, 0), seed=4)
    requeued = [t for t in day.tickets if t.requeued_s is not None]
    assert requeued and len(keys) == len(requeued)
    assert all(t.no_show for t in requeued)


def test_estimates_come_from_the_real_estimate_waits(monkeypatch: pytest.MonkeyPatch, hall: Hall) -> None:
    results = _spy(monkeypatch, estimate, "estimate_waits")
    scenario = from_hall(hall, load=0.5)
    day = run_day(scenario, day_arrivals(scenario, 5, 0), [server_estimator(scenario)], seed=5)
    assert len(results) == len(day.tickets)
    assert all("server" in t.estimates for t in day.tickets)


def test_same_seed_same_day_and_another_seed_another(hall: Hall) -> None:
    scenario = from_hall(hall)

    def waits(seed: int) -> list[float | None]:
        days = simulate_days(scenario, 1, seed, hall_estimators(scenario))
        return [t.wait_s for t in days[0].tickets]

    assert waits(8) == waits(8)
    assert waits(8) != waits(9)


def test_a_day_keeps_the_hall_rules(hall: Hall) -> None:
    scenario = from_hall(hall, load=0.9)
    [day] = simulate_days(scenario, 1, 2)
    first, last = scenario.sessions[0][0], scenario.sessions[-1][1]
    windows = {n: set(c) for n, c in scenario.windows}
    for t in day.tickets:
        assert scenario.sessions[0][0] <= t.issued_s
        assert any(a <= t.issued_s < b for a, b in scenario.sessions)  # issued only while the kiosk is open
        assert t.called_s is not None and t.called_s >= t.issued_s  # everyone is called the same day
        assert t.window is not None and t.category in windows[t.window]  # by a window that serves them
        if not t.no_show:
            assert t.started_s is not None and t.finished_s is not None and t.finished_s >= t.started_s
    assert day.unserved == 0 and day.turned_away == 0
    assert first < day.closed_s
    assert last <= day.closed_s < last + 4 * 3600
    for w in day.windows:
        assert 0 <= w.busy_s <= w.staffed_s
        assert w.paused_s <= w.staffed_s


def test_green_channel_waits_less(hall: Hall) -> None:
    scenario = from_hall(hall, load=0.8, green_share=0.15)
    days = simulate_days(scenario, 4, 6, sample_s=0)
    green = [t.wait_s for d in days for t in d.tickets if t.priority is Priority.GREEN and t.wait_s is not None]
    ordinary = [t.wait_s for d in days for t in d.tickets if t.priority is Priority.ORDINARY and t.wait_s is not None]
    assert sum(green) / len(green) < 0.6 * sum(ordinary) / len(ordinary)


def test_fifo_single_window_order() -> None:
    # One window, no priorities: tickets are called in the order they were issued.
    scenario = mmc(1, 0.9, horizon_s=4 * 3600)

    def arrivals() -> Iterator[Arrival]:
        for i in range(30):
            yield Arrival(60.0 * i, "q", None, Priority.ORDINARY, 200.0, 0.0, False, None)

    day = run_day(scenario, arrivals())
    called = [t.called_s or 0.0 for t in day.tickets]
    assert all(t.called_s is not None for t in day.tickets) and called == sorted(called)
    # Deterministic: the n-th ticket (from 0) is called at max(its arrival, 200·n).
    assert called[10] == pytest.approx(max(600.0, 2000.0))


def test_pauses_make_a_window_unavailable(hall: Hall) -> None:
    scenario = from_hall(hall, load=0.5, pause_per_hour=2.0, pause_mean_s=600)
    [day] = simulate_days(scenario, 1, 1)
    assert sum(w.pauses for w in day.windows) > 0
    assert all(w.paused_s > 0 for w in day.windows if w.pauses)
