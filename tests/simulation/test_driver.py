"""The traffic driver's plan of a simulated day: what the kiosk and each window do, and when."""

from __future__ import annotations

import itertools

from config.loader import default_config_path, load_config
from queue_server.simulation.driver import plan_day
from queue_server.simulation.runs import simulate_days
from queue_server.simulation.scenario import from_hall


def test_a_days_plan_issues_every_ticket_and_each_window_serves_one_visit_at_a_time() -> None:
    scenario = from_hall(load_config(default_config_path()).halls[0], load=0.8, no_show_p=0.1)
    (day,) = simulate_days(scenario, 1, seed=3)
    plan = plan_day(scenario, day)
    assert len(plan.issues) == len(day.tickets) > 200
    assert [t for t, *_ in plan.issues] == sorted(t.issued_s for t in day.tickets)
    assert {priority for *_, priority in plan.issues} == {"ordinary", "green"}
    visits = [v for turns in plan.visits.values() for v in turns]
    served = sum(w.served for w in day.windows)
    missed = [t for t in day.tickets if t.no_show and t.recalled_s is None]
    assert len(visits) == served + len(missed) and missed
    for number, turns in plan.visits.items():
        for visit in turns:
            assert visit.start_s is None or visit.call_s <= visit.start_s <= visit.end_s
        for before, after in itertools.pairwise(turns):
            assert before.end_s <= after.call_s + 1e-6, (number, before, after)  # a window holds one ticket at a time
