"""Reports across halls (reports/network.py): merged exactly, grouped by hall, category, item or a parent, ranked."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from config.schema import Hall
from queue_server.reports.figures import FigureBuilder, TicketFacts, figures_of
from queue_server.reports.network import Scope, assemble, by_category, by_hall, by_item, by_parent
from queue_server.reports.partial import Partial, partial_of
from queue_server.reports.periods import Period
from tests.reports.simulate import simulate
from tests.support.server import demo_config

WEEK = [dt.date(2026, 3, 16) + dt.timedelta(days=i) for i in range(5)]
PERIOD = Period.of("week", WEEK[0])
SCOPE = Scope("qingshan-xian", "青山县", "Qingshan County")


@pytest.fixture(scope="module")
def halls() -> list[tuple[Hall, list[TicketFacts], Partial]]:
    """Three halls, each a simulated week of its own."""
    base = demo_config().halls[0]
    made = []
    start, end = PERIOD.bounds_us(ZoneInfo(base.timezone))
    for i, seed in enumerate((3, 5, 8)):
        hall = base.model_copy(update={"id": f"hall{i}", "name_zh": f"第{i}中心"})
        tickets = list(FigureBuilder(start, end).feed(simulate(seed, WEEK).events).tickets.values())
        made.append((hall, tickets, partial_of(tickets, ZoneInfo(hall.timezone))))
    return made


def test_the_total_is_one_fold_of_every_halls_tickets(halls: list[tuple[Hall, list[TicketFacts], Partial]]) -> None:
    report = assemble(SCOPE, [(h, p, 0) for h, _t, p in halls], PERIOD, by_hall([h for h, _t, _p in halls]), "served")
    every = figures_of(t for _h, tickets, _p in halls for t in tickets)
    # Every figure, p90 included, equals one fold of all the tickets; clerks and windows count once per hall.
    assert report.total.model_dump(exclude={"staff", "windows"}) == every.model_dump(exclude={"staff", "windows"})
    assert report.total.staff == sum(figures_of(t).staff for _h, t, _p in halls) > every.staff
    assert report.total.windows == sum(figures_of(t).windows for _h, t, _p in halls)
    for (hall, tickets, _p), row, own in zip(halls, report.rows, report.halls, strict=True):
        assert row.key == own.hall == hall.id
        assert row.figures == own.figures == figures_of(tickets)


@pytest.mark.parametrize("grouping", [by_category, by_item])
def test_rows_by_category_or_item_add_up_across_halls(
    halls: list[tuple[Hall, list[TicketFacts], Partial]], grouping: object
) -> None:
    configs = [h for h, _t, _p in halls]
    report = assemble(SCOPE, [(h, p, 0) for h, _t, p in halls], PERIOD, grouping(configs), "served")  # type: ignore[operator]
    assert sum(r.figures.issued for r in report.rows) == report.total.issued
    assert sum(r.figures.served for r in report.rows) == report.total.served
    key = (lambda t: t.category) if report.by == "category" else (lambda t: t.item_id)
    for row in report.rows:
        mine = [t for _h, tickets, _p in halls for t in tickets if key(t) == row.key]
        assert row.figures.issued == len(mine) and row.figures.p90_wait_s == figures_of(mine).p90_wait_s


def test_a_city_groups_its_halls_by_county(halls: list[tuple[Hall, list[TicketFacts], Partial]]) -> None:
    parents = {"hall0": ("east", "东县", "East"), "hall1": ("east", "东县", "East"), "hall2": ("west", "西县", "West")}
    report = assemble(SCOPE, [(h, p, 0) for h, _t, p in halls], PERIOD, by_parent(parents), "served")
    assert [(r.key, r.label_zh) for r in report.rows] == [("east", "东县"), ("west", "西县")]
    east = [t for h, tickets, _p in halls if h.id != "hall2" for t in tickets]
    assert report.rows[0].figures.model_dump(exclude={"staff", "windows"}) == figures_of(east).model_dump(
        exclude={"staff", "windows"}
    )


def test_the_ranking_puts_the_best_first_shares_ties_and_lists_halls_without_the_figure_last(
    halls: list[tuple[Hall, list[TicketFacts], Partial]],
) -> None:
    hall, _tickets, partial = halls[0]
    twin = hall.model_copy(update={"id": "twin"})
    empty = hall.model_copy(update={"id": "empty"})
    partials = [(hall, partial, 0), (twin, partial, 0), (empty, Partial(), 0), *((h, p, 0) for h, _t, p in halls[1:])]
    configs = [h for h, _p, _s in partials]
    for figure, larger_first in (("served", True), ("avg_wait_s", False), ("satisfaction_rate", True)):
        ranked = assemble(SCOPE, partials, PERIOD, by_hall(configs), figure).ranking
        known = [r for r in ranked if r.value is not None]
        values = [r.value for r in known]
        assert values == sorted(values, reverse=larger_first)  # type: ignore[type-var]
        twins = [r.rank for r in ranked if r.hall in (hall.id, "twin")]
        assert twins[0] == twins[1]  # the same figures, the same rank
        if figure == "served":
            assert ranked[-1].hall == "empty" and ranked[-1].value == 0.0
        else:
            assert ranked[-1].hall == "empty" and ranked[-1].rank is None and ranked[-1].value is None
