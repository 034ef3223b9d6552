"""The optimum by forward simulation, the fair naive baseline and the 90% interval, on small fixed-seed runs."""

from __future__ import annotations

import math
import os
import random

import pytest

from config.loader import default_config_path, load_config
from config.schema import Hall
from queue_server.simulation.arrivals import steady_arrivals
from queue_server.simulation.engine import TicketRecord, run_day
from queue_server.simulation.estimators import FairNaive, FullInformation
from queue_server.simulation.forward import OPTIMUM, Optimum
from queue_server.simulation.metrics import estimate_errors
from queue_server.simulation.quality import county_hall, quality_point, vs_optimum_interval
from queue_server.simulation.scenario import mmc


@pytest.fixture(scope="module")
def hall() -> Hall:
    return load_config(default_config_path()).halls[0]


def test_in_mmc_the_optimum_is_full_information_and_the_fair_naive_cannot_be_beaten() -> None:
    # M/M/c: the conditional mean given the queue is (n + 1)/(cμ), which the fair naive computes with the true
    # mean. The forward runs must find it: same figures ticket by ticket, up to their Monte Carlo noise.
    scenario = mmc(2, 0.8, 300.0, horizon_s=8 * 3600.0)
    truth = FullInformation({"q": 300.0})
    oracle = Optimum(runs=60, share=0.6, seed=4)
    day = run_day(scenario, steady_arrivals(scenario, 9, 0), [truth], seed=9, sample_s=0, oracle=oracle)
    sampled = [t for t in day.tickets if OPTIMUM in t.estimates and t.wait_s is not None]
    assert len(sampled) > 80
    gaps = [(t.estimates[OPTIMUM] or 0.0) - (t.estimates["full"] or 0.0) for t in sampled]
    noise = math.sqrt(sum((t.spread_s2 or 0.0) / 60 for t in sampled) / len(sampled))
    assert abs(sum(gaps) / len(gaps)) < 0.5 * noise  # no bias
    assert math.sqrt(sum(g * g for g in gaps) / len(gaps)) < 1.6 * noise  # and nothing but the forward runs' noise
    full, optimum = (e.rmse_s for e in estimate_errors(sampled, ["full", OPTIMUM]))
    assert optimum == pytest.approx(full, rel=0.08)


def test_forward_runs_leave_the_day_as_it_was(hall: Hall) -> None:
    from queue_server.simulation.runs import simulate_days
    from queue_server.simulation.scenario import from_hall

    scenario = from_hall(hall, load=0.8)
    plain = simulate_days(scenario, 1, 3, [FairNaive(scenario)], sample_s=0)
    forked = simulate_days(scenario, 1, 3, [FairNaive(scenario)], sample_s=0, oracle=Optimum(runs=3, share=0.2))
    assert [t.wait_s for t in plain[0].tickets] == [t.wait_s for t in forked[0].tickets]
    assert any(OPTIMUM in t.estimates for t in forked[0].tickets)


@pytest.fixture(scope="module")
def busy(hall: Hall) -> object:
    # Seed 77: not the seed the interval was calibrated on (31), nor the report's.
    return quality_point(hall, 0.85, days=4, seed=77, share=0.04, runs=15)


def test_the_90_percent_interval_covers_about_90_percent(busy: object) -> None:
    from queue_server.simulation.quality import QualityPoint

    assert isinstance(busy, QualityPoint)
    assert busy.tickets > 1000
    assert 0.86 <= busy.coverage_waiting <= 0.94, busy.coverage_waiting  # ± about 3 standard errors of 3 days


def test_the_server_is_never_worse_than_the_fair_naive(busy: object, hall: Hall) -> None:
    from queue_server.simulation.quality import QualityPoint

    assert isinstance(busy, QualityPoint)
    assert busy.rmse_s["server"] < 0.85 * busy.rmse_s["fair-naive"]
    # At load 0.5 queues are short and the two are close (docs/simulation.md, section 7): within the noise of
    # three days, not worse.
    quiet = quality_point(hall, 0.5, days=4, seed=78, share=0.0, runs=2)
    assert quiet.rmse_s["server"] <= 1.03 * quiet.rmse_s["fair-naive"]
    assert quiet.sampled == 0


def test_a_county_hall_has_sixty_windows_of_two_categories(hall: Hall) -> None:
    county = county_hall(hall)
    assert len(county.windows) == 60 and {len(w.categories) for w in county.windows} == {2}
    assert {c for w in county.windows for c in w.categories} == {c.code for c in hall.categories}


def test_the_report_renders_and_carries_the_quality_table(
    hall: Hall, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole report on a tiny run (the real one takes minutes): every section renders, section 7 included.
    from contextlib import nullcontext
    from pathlib import Path

    pytest.importorskip("matplotlib")
    from queue_server.simulation import document, validation

    monkeypatch.setattr(document, "HALL_DAYS", 2)
    monkeypatch.setattr(document, "STAFFING_DAYS", 1)
    monkeypatch.setattr(document, "GRID", ((1, 0.5),))
    monkeypatch.setattr(validation, "GRID", ((1, 0.5),))
    assert isinstance(tmp_path, Path)
    report = tmp_path / "simulation.md"
    (tmp_path / "simulation").mkdir()
    (tmp_path / "simulation" / document.QUALITY_FILE).write_text("| hall | load |\n|---|---|\n| demo | 0.5 |\n")
    document.write_report(
        report,
        hall,
        seed=1,
        replications=2,
        customers=200,
        target_min=15,
        progress=lambda n, label: nullcontext(lambda: None),
    )
    text = report.read_text(encoding="utf-8")
    assert "## 7. Against a fair baseline and the best possible" in text and "| demo | 0.5 |" in text
    assert "fair-naive" in text and "queue-fluid" in text


def _seed() -> int:
    # As test_validation: a fresh draw each run, the same in every pytest-xdist worker; BIANMIN_SIM_SEED replays.
    if os.environ.get("BIANMIN_SIM_SEED"):
        return int(os.environ["BIANMIN_SIM_SEED"])
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return int(run[:12], 16) % 10**9 if run else random.SystemRandom().randrange(10**9)


SEED = _seed()
LOAD = round(random.Random(SEED).uniform(0.6, 0.95), 2)


def test_the_server_is_nearer_the_optimum_than_the_earlier_server_and_the_fair_naive(hall: Hall) -> None:
    # At a load drawn within 0.6–0.95 and a fresh seed, on the tickets given the optimum: the server's RMSE is
    # below the fair naive's and the server before's (the fluid of today's queue alone), and within 50% of the
    # optimum's (docs/simulation.md, section 7, measures less on longer runs; three days can be far worse).
    point = quality_point(hall, LOAD, days=4, seed=SEED, share=0.3, runs=15)
    seen = f"BIANMIN_SIM_SEED={SEED}: load {LOAD}: {point.sampled_rmse_s} on {point.sampled} tickets"
    assert point.sampled > 150, seen
    rmse = point.sampled_rmse_s
    assert rmse["server"] < rmse["queue-fluid"] and rmse["server"] < rmse["fair-naive"], seen
    assert point.vs("server", OPTIMUM, sampled=True) < 0.5, seen
    low, high = point.server_vs_optimum_ci
    assert low <= point.vs("server", OPTIMUM, sampled=True) <= high, seen


def _record(i: int, wait: float, estimate: float, optimum: float) -> TicketRecord:
    from queue_server.domain.tickets import Priority

    record = TicketRecord(i, 1, "a", None, Priority.ORDINARY, 0.0, 60.0, called_s=wait)
    record.estimates.update({"mine": estimate, OPTIMUM: optimum})
    record.spread_s2 = 0.0
    return record


def test_the_bootstrap_interval_of_the_ratio_to_the_optimum() -> None:
    draw = random.Random(5)
    waits = [draw.uniform(0, 1200) for _ in range(300)]
    same = [_record(i, w, 600.0, 600.0) for i, w in enumerate(waits)]
    assert vs_optimum_interval(same, "mine", runs=10, seed=1) == (0.0, 0.0)
    worse = [_record(i, w, 600.0 + draw.gauss(0, 300), 600.0) for i, w in enumerate(waits)]
    low, high = vs_optimum_interval(worse, "mine", runs=10, seed=1)
    errors = sum((r.estimates["mine"] - (r.wait_s or 0)) ** 2 for r in worse)
    best = sum((600.0 - (r.wait_s or 0)) ** 2 for r in worse)
    assert 0 < low < math.sqrt(errors / best) - 1 < high < 1
