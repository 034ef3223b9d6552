"""A hall's Totals from its stored months (report_months) equal its own report's totals, on SQLite and PostgreSQL.

The simulator's days around two month ends, with ratings given days later (across the month's end, and
changed later still) and tickets served past midnight finished the next morning: the months are stored
before those late events exist, and while the year is in progress; each period's Totals (what a report
across halls by hall or by county reads) are compared with the hall's own report (`build_report`, its
stored days) and with the one-go fold of every event.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select, update

from config.schema import Hall
from queue_server.reports.days import report_days
from queue_server.reports.events import EventRow
from queue_server.reports.months import period_totals, report_months, store_closed_months
from queue_server.reports.network import Scope, by_hall, network_report
from queue_server.reports.periods import Period
from queue_server.reports.report import GroupBy, build_report
from tests.reports.simulate import Sim, simulate
from tests.reports.test_days import database, hall, local_us, with_late_events, write_events

__all__ = ["database", "hall"]  # the fixtures, from test_days

# The last days of January and February and the first of February and March (2026): late ratings cross them.
DAYS = [dt.date(2026, 1, d) for d in (28, 29, 30)] + [dt.date(2026, 2, d) for d in (2, 3, 25, 26, 27)] + [
    dt.date(2026, 3, d) for d in (2, 3, 4)]  # fmt: skip
PERIODS = [Period.of("year", DAYS[0]), Period.of("month", DAYS[0]), Period.of("month", dt.date(2026, 2, 1)),
           Period.of("month", dt.date(2026, 3, 1)), Period.of("week", dt.date(2026, 2, 2))]  # fmt: skip


@pytest.fixture(scope="module")
def year_log() -> tuple[Sim, list[EventRow]]:
    sim = simulate(33, DAYS, serve_past_midnight=True)
    log = with_late_events(sim, 33)
    # A case started on 27 February and finished on 2 March, after February's window: February is refolded.
    late = max(e.ticket_id or 0 for e in log) + 1
    feb27 = dt.date(2026, 2, 27)
    case = [EventRow(0, "ticket.issued", local_us(feb27, 16, 50), "device:kiosk-1", None, None, late,
                     {"number": "Z001", "category": "guotu", "item_id": None, "priority": "ordinary"}),
            EventRow(0, "ticket.called", local_us(feb27, 16, 55), "zhaogang", 2, "A", late, {"number": "Z001"}),
            EventRow(0, "ticket.started", local_us(feb27, 16, 56), "zhaogang", 2, "A", late, {"number": "Z001"}),
            EventRow(0, "ticket.finished", local_us(dt.date(2026, 3, 2), 9), "zhaogang", 2, "A", late,
                     {"number": "Z001", "case_class": "joint"})]  # fmt: skip
    log = [e._replace(seq=i) for i, e in enumerate(sorted([*log, *case], key=lambda e: e.at), start=1)]
    after = EventRow(log[-1].seq + 1, "day.closed", local_us(dt.date(2026, 4, 2), 7), payload={"day": "2026-04-01"})
    return sim, [*log, after]


def own_totals(engine: Engine, hall: Hall, period: Period, now_us: int | None = None) -> tuple[object, object]:
    with engine.connect() as conn:
        stored = build_report(conn, hall, period, GroupBy.CATEGORY, now_us=now_us)
        full = build_report(conn, hall, period, GroupBy.CATEGORY, stored=False)
    assert stored.totals == full.totals
    return stored.totals, {d.date: (d.issued, d.served, d.no_shows) for d in stored.daily}


def totals_of(engine: Engine, hall: Hall, period: Period, now_us: int | None = None) -> tuple[object, object]:
    with engine.connect() as conn:
        totals, _seq = period_totals(conn, hall, period, now_us=now_us)
    days = {day: tuple(counts) for day, counts in totals.daily.items()}
    return totals.figures(), {d: days.get(d, (0, 0, 0)) for d in period.days()}


def months_stored(engine: Engine, hall: str) -> int:
    """The months of 2026 stored (the keeper also stores the empty months of the year before)."""
    with engine.connect() as conn:
        c = report_months.c
        query = select(func.count()).select_from(report_months).where(c.hall == hall, c.month >= dt.date(2026, 1, 1))
        return int(conn.execute(query).scalar_one())


def test_the_log_crosses_the_month_ends_with_late_events(year_log: tuple[Sim, list[EventRow]]) -> None:
    _sim, log = year_log
    issued = {e.ticket_id: e.at for e in log if e.type == "ticket.issued"}
    feb, mar = local_us(dt.date(2026, 2, 1), 6), local_us(dt.date(2026, 3, 1), 6)
    assert any(e.type == "ticket.rated" and issued[e.ticket_id] < feb <= e.at for e in log if e.ticket_id in issued)
    assert any(e.type == "ticket.rated" and issued[e.ticket_id] < mar <= e.at for e in log if e.ticket_id in issued)


def test_each_periods_totals_from_stored_months_equal_the_halls_own_report(
    database: Engine, hall: Hall, year_log: tuple[Sim, list[EventRow]]
) -> None:
    _sim, log = year_log
    write_events(database, hall.id, log)
    for period in PERIODS:
        assert totals_of(database, hall, period) == own_totals(database, hall, period), period
    assert months_stored(database, hall.id) == 3  # January to March, each folded once
    for period in PERIODS:  # and again, from the stored months
        assert totals_of(database, hall, period) == own_totals(database, hall, period), period


def test_months_stored_before_their_late_events_existed_still_count_them(
    database: Engine, hall: Hall, year_log: tuple[Sim, list[EventRow]]
) -> None:
    """The keeper stores January on 2 February (some of its tickets are rated later still); the year's totals,
    day by day as the hall lives them, equal its own report."""
    _sim, log = year_log
    written = 0
    for day in [dt.date(2026, 2, 2), dt.date(2026, 2, 3), dt.date(2026, 2, 26), dt.date(2026, 3, 2),
                dt.date(2026, 3, 4), dt.date(2026, 3, 9)]:  # fmt: skip
        now = local_us(day, 18)
        fresh = [e for e in log[written:] if e.at <= now]
        write_events(database, hall.id, fresh)
        written += len(fresh)
        with database.connect() as conn:
            store_closed_months(conn, hall, day, now_us=now)
        year = Period.of("year", day)
        assert totals_of(database, hall, year, now) == own_totals(database, hall, year, now), day
    assert months_stored(database, hall.id) == 2  # January and February (March is not closed yet)
    write_events(database, hall.id, log[written:])
    year = Period.of("year", DAYS[0])
    assert totals_of(database, hall, year) == own_totals(database, hall, year)


def test_a_report_by_hall_reads_the_totals_and_equals_the_halls_report(
    database: Engine, hall: Hall, year_log: tuple[Sim, list[EventRow]]
) -> None:
    _sim, log = year_log
    write_events(database, hall.id, log)
    other = hall.model_copy(update={"id": "baiyun"})
    write_events(database, other.id, log[: len(log) // 2])
    for period in PERIODS:
        with database.connect() as conn:
            report = network_report(conn, Scope("x", "县", "county"), [hall, other], period, by_hall([hall, other]))
            own = build_report(conn, hall, period, GroupBy.CATEGORY).totals
            theirs = build_report(conn, other, period, GroupBy.CATEGORY).totals
        assert [h.figures for h in report.halls] == [own, theirs]
        assert [r.figures for r in report.rows] == [own, theirs]
        assert report.total.issued == own.issued + theirs.issued
        assert report.total.staff == own.staff + theirs.staff
        assert sum(d.issued for d in report.daily) == report.total.issued


def test_days_stored_before_their_totals_were_are_read_from_their_figures(
    database: Engine, hall: Hall, year_log: tuple[Sim, list[EventRow]]
) -> None:
    """Rows of report_days stored before migration 0011 have no totals: a report by hall makes them from the
    day's figures. March in progress (its days stored, no totals), each report equal to the hall's own."""
    _sim, log = year_log
    now = local_us(dt.date(2026, 3, 4), 15)
    write_events(database, hall.id, [e for e in log if e.at <= now])
    march = Period.of("month", dt.date(2026, 3, 1))
    assert totals_of(database, hall, march, now) == own_totals(database, hall, march, now)  # stores the days
    with database.begin() as conn:
        assert conn.execute(update(report_days).values(totals=None)).rowcount > 0
    for period in (march, Period.of("year", dt.date(2026, 3, 1))):
        assert totals_of(database, hall, period, now) == own_totals(database, hall, period, now), period
