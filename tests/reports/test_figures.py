"""The figures folded from the event log equal those recomputed from the simulator's own record of the days."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable

import pytest

from config.schema import Hall
from queue_server.reports.events import EventRow
from queue_server.reports.figures import (
    WAIT_BINS_MIN,
    FigureBuilder,
    Figures,
    figures_from_events,
    waiting_now,
)
from queue_server.reports.periods import Period
from queue_server.reports.report import GroupBy, report_from_events
from tests.reports.simulate import CASES, SHANGHAI, Sim, Truth, simulate
from tests.support.server import demo_config

MONDAY = dt.date(2026, 3, 16)
WEEK = [MONDAY + dt.timedelta(days=i) for i in range(5)]
SEEDS = list(range(12))


@pytest.fixture(scope="module")
def hall() -> Hall:
    return demo_config().halls[0]


def mean_s(values: list[int]) -> float | None:
    return statistics.fmean(values) / 1e6 if values else None


def expected(tickets: Iterable[Truth]) -> dict[str, object]:
    """The figures, computed from the simulator's truth with none of the reports' code."""
    tickets = list(tickets)
    called = [t for t in tickets if t.first_called_at is not None]
    done = [t for t in tickets if t.final == "finished"]
    waits = [t.first_called_at - t.issued_at for t in called if t.first_called_at is not None]
    services = [t.finished_at - t.started_at for t in done if t.finished_at is not None and t.started_at is not None]
    cases = Counter(t.case_class for t in done)
    completed = sum(cases[c] for c in ("immediate", "promised", "joint", "agent"))
    rated = [t for t in tickets if t.rating is not None]
    happy = [t for t in rated if t.rating in ("very_satisfied", "satisfied", "basic")]
    return {
        "issued": len(tickets),
        "called": len(called),
        "served": len(done),
        "no_shows": sum(t.marked_no_show and t.final != "finished" for t in tickets),
        "transferred": sum(t.transfers > 0 for t in tickets),
        "avg_wait_s": mean_s(waits),
        "max_wait_s": max(waits) / 1e6 if waits else None,
        "avg_service_s": mean_s(services),
        "min_service_s": min(services) / 1e6 if services else None,
        "max_service_s": max(services) / 1e6 if services else None,
        "on_the_spot": len(done) - cases["agent"],
        "by_agent": cases["agent"],
        "accepted": completed,
        "acceptance_rate": completed / len(done) if done else None,
        "rated": len(rated),
        "satisfied": len(happy),
        "satisfaction_rate": len(happy) / len(rated) if rated else None,
        "case_classes": {c: cases[c] for c in CASES},
        "p90_wait_s": nearest_rank_p90([w // 1_000_000 for w in waits]),
        "ratings": {level: sum(t.rating == level for t in rated) for level in LEVELS},
        "staff": len({t.actor for t in done if t.actor is not None}),
        "windows": len({t.window for t in done if t.window is not None}),
    }


LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")


def nearest_rank_p90(seconds: list[int]) -> float | None:
    """The smallest wait (whole seconds) that at least 90% of the waits do not exceed."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    rank = math.ceil(len(ordered) * 9 / 10)  # 9n/10 is exact in floating point for any count here
    return float(ordered[rank - 1])


def assert_figures(figures: Figures, truth: dict[str, object]) -> None:
    got = figures.model_dump()
    for key, want in truth.items():
        if isinstance(want, float):
            tolerance = 1e-4 if key.endswith("rate") else 0.06
            assert got[key] == pytest.approx(want, abs=tolerance), key
        else:
            assert got[key] == want, key


def issued_on(sim: Sim, day: dt.date) -> list[Truth]:
    return [t for t in sim.truth.values() if dt.datetime.fromtimestamp(t.issued_at / 1e6, SHANGHAI).date() == day]


# --- totals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_a_weeks_figures_equal_the_simulators_record(seed: int) -> None:
    sim = simulate(seed, WEEK)
    assert len(sim.truth) > 300  # a busy week: the test means something
    assert_figures(figures_from_events(sim.events), expected(sim.truth.values()))


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_each_days_figures_count_only_the_tickets_issued_that_day(seed: int, hall: Hall) -> None:
    sim = simulate(seed, WEEK, serve_past_midnight=True)
    for day in WEEK:
        start, end = Period.of("day", day).bounds_us(SHANGHAI)
        # The day's events and those of the next morning: a ticket served past midnight is still the day's.
        events = [e for e in sim.events if start <= e.at < end + 8 * 3600 * 1_000_000]
        assert_figures(figures_from_events(events, start, end), expected(issued_on(sim, day)))


def test_every_kind_of_event_and_every_case_class_occurs_in_the_simulation() -> None:
    """Guard for the tests above: they only prove something if the simulation exercises every path."""
    sim = simulate(0, WEEK)
    kinds = Counter(e.type for e in sim.events)
    for kind in (
        "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
        "ticket.no_show", "ticket.transferred", "ticket.requeued", "ticket.returned", "ticket.rated", "window.opened",
        "window.paused", "window.resumed", "window.closed", "day.closed",
    ):  # fmt: skip
        assert kinds[kind] > 0, kind
    finals = Counter(t.final for t in sim.truth.values())
    assert finals["finished"] and finals["expired"]
    assert any(t.marked_no_show and t.final == "expired" for t in sim.truth.values())  # missed, never back
    assert any(t.marked_no_show and t.final == "finished" for t in sim.truth.values())  # re-queued and served
    assert set(Counter(t.case_class for t in sim.truth.values() if t.case_class)) == set(CASES)
    transferred = [t for t in sim.truth.values() if t.transfers and t.final == "finished"]
    assert transferred, "a transferred ticket that was then served"


def test_nothing_happened_gives_zeros_and_no_averages_or_rates() -> None:
    figures = figures_from_events([])
    assert figures.issued == figures.served == figures.no_shows == 0
    assert figures.avg_wait_s is None and figures.max_service_s is None
    assert figures.acceptance_rate is None
    assert figures.satisfaction_rate is None and figures.rated == 0
    assert figures.case_classes == dict.fromkeys(CASES, 0)


def test_the_satisfaction_rate_is_never_invented() -> None:
    figures = figures_from_events(simulate(1, WEEK[:1], ratings=False).events)
    assert figures.served > 0 and figures.rated == 0 and figures.satisfaction_rate is None


def test_the_satisfaction_rate_counts_basic_or_better_among_the_ratings() -> None:
    sim = simulate(1, WEEK[:2])
    figures = figures_from_events(sim.events)
    levels = Counter(t.rating for t in sim.truth.values() if t.rating)
    assert figures.rated == sum(levels.values()) > 20
    bad = levels["dissatisfied"] + levels["very_dissatisfied"]
    assert figures.satisfaction_rate == pytest.approx(1 - bad / figures.rated, abs=1e-4)


def test_events_of_tickets_issued_before_the_period_are_ignored() -> None:
    sim = simulate(2, WEEK[:2])
    tuesday, _ = Period.of("day", WEEK[1]).bounds_us(SHANGHAI)
    figures = figures_from_events(sim.events, tuesday)
    assert figures.issued == len(issued_on(sim, WEEK[1]))
    assert_figures(figures, expected(issued_on(sim, WEEK[1])))


def test_folding_the_log_in_pieces_gives_the_same_figures_as_in_one_go() -> None:
    """The live wall folds only the new events at each refresh."""
    sim = simulate(3, WEEK[:1])
    builder = FigureBuilder()
    for i in range(0, len(sim.events), 37):
        builder.feed(sim.events[i : i + 37])
    assert builder.last_seq == sim.events[-1].seq
    from queue_server.reports.figures import figures_of

    assert figures_of(builder.tickets.values()) == figures_from_events(sim.events)


def test_a_no_show_that_is_requeued_and_served_counts_as_served_not_as_a_no_show() -> None:
    at = 1_773_622_800_000_000  # 2026-03-16 09:00 in Shanghai
    events = [
        EventRow(1, "ticket.issued", at, ticket_id=7, payload={"number": "A001", "category": "jisheng"}),
        EventRow(2, "ticket.called", at + 60_000_000, "liuxia", 1, "A", 7),
        EventRow(3, "ticket.no_show", at + 120_000_000, "liuxia", 1, "A", 7),
        EventRow(4, "ticket.requeued", at + 180_000_000, "device:kiosk-1", ticket_id=7),
        EventRow(5, "ticket.called", at + 240_000_000, "chenjing", 10, "B", 7),
        EventRow(6, "ticket.started", at + 250_000_000, "chenjing", 10, "B", 7),
        EventRow(7, "ticket.finished", at + 550_000_000, "chenjing", 10, "B", 7, {"case_class": "agent"}),
    ]
    figures = figures_from_events(events)
    assert (figures.served, figures.no_shows, figures.by_agent, figures.on_the_spot) == (1, 0, 1, 0)
    assert figures.avg_wait_s == 60.0  # to the first call
    assert figures.avg_service_s == 300.0


def test_a_ticket_being_served_at_day_close_is_not_expired() -> None:
    at = 1_773_622_800_000_000
    events = [
        EventRow(1, "ticket.issued", at, ticket_id=1, payload={"number": "A001", "category": "jisheng"}),
        EventRow(2, "ticket.issued", at, ticket_id=2, payload={"number": "A002", "category": "jisheng"}),
        EventRow(3, "ticket.called", at + 1, "liuxia", 1, "A", 1),
        EventRow(4, "ticket.started", at + 2, "liuxia", 1, "A", 1),
        EventRow(5, "day.closed", at + 3, payload={"day": "2026-03-16", "expired": 1}),
        EventRow(6, "ticket.finished", at + 4, "liuxia", 1, "A", 1, {"case_class": "immediate"}),
    ]
    builder = FigureBuilder().feed(events)
    assert builder.tickets[1].state == "finished"
    assert builder.tickets[2].state == "expired"


# --- groups and charts -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:4])
@pytest.mark.parametrize("by", list(GroupBy))
def test_each_groups_figures_equal_the_simulators_record_for_that_group(seed: int, by: GroupBy, hall: Hall) -> None:
    sim = simulate(seed, WEEK)
    report = report_from_events(sim.events, hall, Period.of("week", MONDAY), by, {"liuxia": "刘霞"})
    attribute = {"category": "category", "window": "window", "clerk": "actor"}[by.value]
    keys = {getattr(t, attribute) for t in sim.truth.values()}
    assert {g.key for g in report.groups} == {None if k is None else str(k) for k in keys}
    for group in report.groups:
        mine = [
            t
            for t in sim.truth.values()
            if (None if getattr(t, attribute) is None else str(getattr(t, attribute))) == group.key
        ]
        assert_figures(group.figures, expected(mine))
    assert sum(g.figures.issued for g in report.groups) == report.totals.issued
    assert sum(g.figures.served for g in report.groups) == report.totals.served
    assert report.groups[-1].key is None or by is GroupBy.CATEGORY  # "not called" comes last


def test_the_groups_are_labelled_in_chinese_in_the_halls_order(hall: Hall) -> None:
    sim = simulate(4, WEEK[:1])
    by_category = report_from_events(sim.events, hall, Period.of("day", MONDAY), GroupBy.CATEGORY, {})
    order = [c.code for c in hall.categories]
    keys = [str(g.key) for g in by_category.groups]
    assert keys == sorted(keys, key=order.index)
    assert by_category.groups[0].label_zh == hall.category(str(by_category.groups[0].key)).name_zh
    by_window = report_from_events(sim.events, hall, Period.of("day", MONDAY), GroupBy.WINDOW, {})
    assert by_window.groups[0].label_zh.startswith("1号")
    assert by_window.groups[-1].label_zh == "未叫号"
    by_clerk = report_from_events(sim.events, hall, Period.of("day", MONDAY), GroupBy.CLERK, {"liuxia": "刘霞"})
    assert "刘霞（liuxia）" in [g.label_zh for g in by_clerk.groups]


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_the_charts_series_equal_the_simulators_record(seed: int, hall: Hall) -> None:
    sim = simulate(seed, WEEK)
    report = report_from_events(sim.events, hall, Period.of("week", MONDAY), GroupBy.CATEGORY, {})
    truths = list(sim.truth.values())
    local = [dt.datetime.fromtimestamp(t.issued_at / 1e6, SHANGHAI) for t in truths]
    assert report.hourly_arrivals == [sum(moment.hour == h for moment in local) for h in range(24)]
    waits_min = [(t.first_called_at - t.issued_at) / 60e6 for t in truths if t.first_called_at is not None]
    edges = [*WAIT_BINS_MIN, float("inf")]
    assert [b.count for b in report.wait_bins] == [
        sum(edges[i] <= w < edges[i + 1] for w in waits_min) for i in range(len(WAIT_BINS_MIN))
    ]
    done = [t for t in truths if t.final == "finished"]
    for row in report.service_by_item:
        mine = [t for t in done if t.item_id == row.item_id]
        assert row.served == len(mine)
        assert row.avg_service_s == pytest.approx(
            statistics.fmean((t.finished_at or 0) - (t.started_at or 0) for t in mine) / 1e6, abs=0.06
        )
    assert sum(row.served for row in report.service_by_item) == len(done)
    assert [d.date for d in report.daily] == [MONDAY + dt.timedelta(days=i) for i in range(7)]
    for day in report.daily:
        mine = [t for t, moment in zip(truths, local, strict=True) if moment.date() == day.date]
        assert (day.issued, day.served, day.no_shows) == (
            len(mine), sum(t.final == "finished" for t in mine),
            sum(t.marked_no_show and t.final != "finished" for t in mine),
        )  # fmt: skip


def test_waiting_now_counts_the_tickets_still_in_a_queue_and_their_longest_wait() -> None:
    sim = Sim(9)
    start = int(dt.datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI).timestamp()) * 1_000_000
    for i in range(6):
        sim.issue(start + i * 60_000_000)
    builder = FigureBuilder().feed(sim.events)
    now = start + 30 * 60_000_000
    result = waiting_now(builder.tickets.values(), now)
    for category in {t.category for t in sim.truth.values()}:
        mine = [t for t in sim.truth.values() if t.category == category]
        assert result[category] == (len(mine), now - min(t.issued_at for t in mine))
