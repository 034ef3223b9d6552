"""Reports from the stored day figures (report_days) equal one fold of every event, on SQLite and PostgreSQL.

The simulator's days are written into a real database, with what makes the split by day hard: ratings
given days later (and some changed later still), tickets still being served when their day closed and
finished the next morning, days stored before the late events existed, a month half stored and half
live, two readers filling the same days at once. Each report is compared with the one-go fold of the
same events (`build_report(..., stored=False)`, itself checked against the simulator in test_figures.py)
and with the simulator's own record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, update

from config.schema import Hall
from queue_server.reports.days import VERSION, report_days, store_closed_days
from queue_server.reports.events import EventRow
from queue_server.reports.periods import Period
from queue_server.reports.report import GroupBy, Report, build_report
from queue_server.server import open_store
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import events
from tests.reports.simulate import LEVELS, SCORES, SHANGHAI, Sim, simulate
from tests.reports.test_figures import assert_figures, expected
from tests.support.clock import FakeClock
from tests.support.pg import PgCluster
from tests.support.server import demo_config

US = 1_000_000
MARCH = dt.date(2026, 3, 1)
DAYS = [dt.date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)]  # two working weeks
MONTH = Period.of("month", MARCH)


def local_us(day: dt.date, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).timestamp()) * US


def with_late_events(sim: Sim, seed: int) -> list[EventRow]:
    """The simulator's log with a third of the ratings given one to four days later, some ratings changed
    later still, and tickets served past the day's close finished the next morning (after the grace)."""
    rng = random.Random(seed)
    moved: list[EventRow] = []
    for event in sim.events:
        if event.type == "ticket.rated":
            at = event.at
            if rng.random() < 0.35:
                at += rng.choice([1, 2, 4]) * 86_400 * US + rng.randrange(3600 * US)
            moved.append(event._replace(at=at))
            # changed later, once or twice (only the last rating counts)
            for _ in range(rng.choice([0, 0, 0, 0, 1, 2])):
                at += rng.choice([1, 3]) * 86_400 * US
                level = rng.choice(LEVELS)
                moved.append(event._replace(at=at, payload=dict(event.payload, level=level, score=SCORES[level])))
                assert event.ticket_id is not None
                sim.truth[event.ticket_id].rating = level
        elif event.type == "ticket.finished" and dt.datetime.fromtimestamp(event.at / US, SHANGHAI).hour == 0:
            # served past midnight: finished at 08:10, after the day's window (until 06:00) and its close
            moved.append(event._replace(at=event.at + (7 * 60 + 40) * 60 * US))
            assert event.ticket_id is not None
            sim.truth[event.ticket_id].finished_at = event.at + (7 * 60 + 40) * 60 * US
        else:
            moved.append(event)
    moved.sort(key=lambda e: e.at)  # the log's order is its time order: renumber
    return [e._replace(seq=i) for i, e in enumerate(moved, start=1)]


def write_events(engine: Engine, hall: str, rows: list[EventRow]) -> None:
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(insert(events), [
            {"hall": hall, "seq": e.seq, "type": e.type, "at": e.at, "actor": e.actor, "window": e.window,
             "post": e.post, "ticket_id": e.ticket_id, "payload": json.dumps(dict(e.payload), ensure_ascii=False),
             "public": "{}"}
            for e in rows
        ])  # fmt: skip


def report(engine: Engine, hall: Hall, by: GroupBy, **options: object) -> Report:
    with engine.connect() as conn:
        return build_report(conn, hall, MONTH, by, **options)  # type: ignore[arg-type]


def stored_days(engine: Engine, hall: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(report_days).where(report_days.c.hall == hall))
                   .scalar_one())  # fmt: skip


@pytest.fixture(scope="module")
def hall() -> Hall:
    return demo_config().halls[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty migrated database of either backend."""
    if request.param == "sqlite":
        engine = make_engine(tmp_path / "hall.db")
    else:
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        name = f"days_{abs(hash(request.node.nodeid)) % 10**9}"
        cluster.drop_database(name)
        engine = make_engine(cluster.create_database(name))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def month_log() -> tuple[Sim, list[EventRow]]:
    sim = simulate(21, DAYS, serve_past_midnight=True)
    log = with_late_events(sim, 21)
    # April has begun: every day of March is closed (a day stays live until the log has passed its window).
    april = EventRow(log[-1].seq + 1, "day.closed", local_us(dt.date(2026, 4, 2), 7), payload={"day": "2026-04-01"})
    return sim, [*log, april]


def test_the_simulated_month_has_the_late_events_these_tests_are_about(month_log: tuple[Sim, list[EventRow]]) -> None:
    _sim, log = month_log
    issued_day = {e.ticket_id: dt.datetime.fromtimestamp(e.at / US, SHANGHAI).date() for e in log
                  if e.type == "ticket.issued"}  # fmt: skip

    def late(e: EventRow) -> bool:
        return e.ticket_id in issued_day and e.at >= local_us(issued_day[e.ticket_id] + dt.timedelta(days=1), 6)

    assert sum(late(e) for e in log if e.type == "ticket.rated") > 50
    assert any(late(e) for e in log if e.type == "ticket.finished")
    rerated = Counter(e.ticket_id for e in log if e.type == "ticket.rated")
    assert any(n > 1 for n in rerated.values())


@pytest.mark.parametrize("by", list(GroupBy))
def test_a_month_from_stored_days_equals_one_fold_of_its_events(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]], by: GroupBy
) -> None:
    sim, log = month_log
    write_events(database, hall.id, log)
    full = report(database, hall, by, stored=False)
    assert_figures(full.totals, expected(sim.truth.values()))  # the fold is right, and has the late events
    assert stored_days(database, hall.id) == 0
    cold = report(database, hall, by)  # folds every day of March and stores it
    assert stored_days(database, hall.id) == 31
    warm = report(database, hall, by)  # from the stored days alone
    assert cold == full
    assert warm == full
    assert warm.last_seq == log[-2].seq  # the newest event of the month's window (April's is not in it)


def test_a_month_half_stored_and_half_live_equals_one_fold(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    """Today 11 March at 15:00: the days to the 10th are stored (the 10th's window ended at 06:00 today),
    the 11th is folded live (ratings given today of tickets of stored days included); the next day, one more."""
    _sim, log = month_log
    now = local_us(dt.date(2026, 3, 11), 15)
    write_events(database, hall.id, [e for e in log if e.at <= now])
    full = report(database, hall, GroupBy.WINDOW, stored=False)
    first = report(database, hall, GroupBy.WINDOW, now_us=now)
    assert first == full
    assert stored_days(database, hall.id) == 10
    assert report(database, hall, GroupBy.WINDOW, now_us=now) == full

    # The next day: the rest of the log arrives, with ratings and finishes of tickets of stored days.
    write_events(database, hall.id, [e for e in log if e.at > now])
    now = local_us(dt.date(2026, 3, 12), 15)
    full = report(database, hall, GroupBy.WINDOW, stored=False)
    assert report(database, hall, GroupBy.WINDOW, now_us=now) == full
    assert stored_days(database, hall.id) == 11
    assert report(database, hall, GroupBy.WINDOW) == full  # and once the whole month is closed


def test_days_stored_before_their_late_events_existed_still_count_them(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    """Store the days day by day as a hall would live them; each day's report equals the one-go fold."""
    _sim, log = month_log
    written = 0
    for day in DAYS:
        now = local_us(day, 18)
        fresh = [e for e in log[written:] if e.at <= now]
        write_events(database, hall.id, fresh)
        written += len(fresh)
        assert report(database, hall, GroupBy.CLERK, now_us=now) == report(database, hall, GroupBy.CLERK, stored=False)
    write_events(database, hall.id, log[written:])
    assert report(database, hall, GroupBy.CLERK) == report(database, hall, GroupBy.CLERK, stored=False)
    # A week and a single day from the same stored days: each sees only its own window's late events.
    with database.connect() as conn:
        for period in (Period.of("week", DAYS[0]), Period.of("day", DAYS[1]), Period.of("week", DAYS[5])):
            assert build_report(conn, hall, period, GroupBy.CATEGORY) == build_report(
                conn, hall, period, GroupBy.CATEGORY, stored=False
            )


def test_two_readers_filling_the_same_days_at_once_store_them_once(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    _sim, log = month_log
    write_events(database, hall.id, log)
    full = report(database, hall, GroupBy.CATEGORY, stored=False)
    barrier = threading.Barrier(2)
    results: list[Report] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            with database.connect() as conn:
                barrier.wait(timeout=10)
                results.append(build_report(conn, hall, MONTH, GroupBy.CATEGORY))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == [full, full]
    assert stored_days(database, hall.id) == 31

    # What either stored is what a fill from scratch stores.
    def contents() -> dict[dt.date, tuple[object, ...]]:
        c = report_days.c
        with database.connect() as conn:
            rows = conn.execute(select(c.day, c.last_seq, c.first_ticket, c.last_ticket, c.figures, c.tickets,
                                       c.others).where(c.hall == hall.id))  # fmt: skip
            return {row.day: tuple(row) for row in rows}

    before = contents()
    with database.begin() as conn:
        conn.execute(report_days.delete())
    assert report(database, hall, GroupBy.CATEGORY) == full
    assert contents() == before


def test_rows_of_another_version_are_folded_again(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    _sim, log = month_log
    write_events(database, hall.id, log)
    full = report(database, hall, GroupBy.CATEGORY, stored=False)
    assert report(database, hall, GroupBy.CATEGORY) == full
    with database.begin() as conn:
        # an older version's rows, with content this version would misread
        conn.execute(update(report_days).values(version=VERSION - 1, figures='{"cells": []}'))
    assert report(database, hall, GroupBy.CATEGORY) == full
    with database.connect() as conn:
        versions = conn.execute(select(report_days.c.version).distinct()).scalars().all()
    assert versions == [VERSION]


def test_an_empty_past_month_is_all_zeros_and_stores_empty_days(database: Engine, hall: Hall) -> None:
    write_events(database, hall.id, [EventRow(1, "day.closed", local_us(dt.date(2026, 5, 2), 7), payload={})])
    got = report(database, hall, GroupBy.CATEGORY)
    assert got == report(database, hall, GroupBy.CATEGORY, stored=False)
    assert got.totals.issued == 0 and got.groups == [] and stored_days(database, hall.id) == 31


def test_a_report_runs_off_the_writer_and_holds_no_write_lock(
    tmp_path: Path, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    """Through the store as the API calls it: on a reader thread, and SQLite's write lock stays free
    while the report reads (and while it stores its days, it holds it only for that short insert)."""
    db = tmp_path / "hall.db"
    store = open_store(demo_config(), db, FakeClock())
    try:
        write_events(store.engine, hall.id, month_log[1])
        seen: list[str] = []

        def writer_can_lock() -> str:
            other = sqlite3.connect(db, timeout=0.2)
            try:
                other.execute("BEGIN IMMEDIATE")  # what the writer does for each change
                other.rollback()
                return "free"
            except sqlite3.OperationalError as error:
                return str(error)
            finally:
                other.close()

        def read(conn: Connection) -> Report:
            seen.append(threading.current_thread().name)
            conn.execute(select(func.count()).select_from(events)).scalar_one()  # the read's snapshot is open
            seen.append(writer_can_lock())
            result = build_report(conn, hall, MONTH, GroupBy.CATEGORY)
            seen.append(writer_can_lock())
            return result

        got = asyncio.run(store.read(read))
        assert seen[1:] == ["free", "free"]
        assert seen[0] != "bianmin-writer"
        with store.engine.connect() as conn:
            assert got == build_report(conn, hall, MONTH, GroupBy.CATEGORY, stored=False)
    finally:
        store.close()


def test_closed_days_stored_ahead_leave_no_day_to_fold_for_the_report(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    """What a hook after the day's close would call: the report then only reads stored days."""
    _sim, log = month_log
    write_events(database, hall.id, log)
    with database.connect() as conn:
        assert store_closed_days(conn, hall, dt.date(2026, 3, 31), back=31) == 31
    with database.connect() as conn:
        assert store_closed_days(conn, hall, dt.date(2026, 3, 31), back=31) == 0
    assert report(database, hall, GroupBy.CLERK) == report(database, hall, GroupBy.CLERK, stored=False)
    assert stored_days(database, hall.id) == 31


def test_todays_fold_follows_the_log_between_reports_and_notices_another_log(
    database: Engine, hall: Hall, month_log: tuple[Sim, list[EventRow]]
) -> None:
    """Reports of the month in progress read only the events since the previous report's (LIVE): each
    equals the one-go fold; a database whose log was replaced under the same URL is folded afresh."""
    _sim, log = month_log
    day = dt.date(2026, 3, 11)
    written = 0
    for hour in (9, 11, 14, 16, 18):
        now = local_us(day, hour)
        fresh = [e for e in log[written:] if e.at <= now]
        assert fresh
        write_events(database, hall.id, fresh)
        written += len(fresh)
        assert report(database, hall, GroupBy.CATEGORY, now_us=now) == report(
            database, hall, GroupBy.CATEGORY, stored=False
        )
    # Another log under the same URL (a restore, a test database made again): nothing of the old is kept.
    with database.begin() as conn:
        conn.execute(events.delete())
        conn.execute(report_days.delete())
    other = simulate(5, DAYS, serve_past_midnight=True)
    write_events(database, hall.id, [e for e in with_late_events(other, 5) if e.at <= now])
    assert report(database, hall, GroupBy.CATEGORY, now_us=now) == report(
        database, hall, GroupBy.CATEGORY, stored=False
    )
