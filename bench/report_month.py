"""Time to build a month's report for a busy hall, from stored day figures and in one fold, on SQLite and PostgreSQL.

Method
------
- Data: a fresh database per size and backend (the project's migrations) holding a month of the demo
  hall (qingshan): 60,000 or 240,000 tickets over the 22 working days of March 2026, written straight
  into the `tickets` and `events` tables as the services would write them. Arrivals follow a
  two-peak day within the hall's sessions (08:30–12:00, 14:30–17:30); waits are exponential (mean
  18 min), service times log-normal (median 5 min); 4% no-shows, 5% recalls, 2% transfers to
  another category, case classes 60/18/8/4/3/7% (即办/承诺/补办/联办/退回/代理); 40% of the served
  tickets rated (好差评), 15% of those one to three days later; windows open and close each day and
  the day is closed the next morning. Each event row carries a public message of realistic size, as
  the real log does. About 4.6 events per ticket. PostgreSQL: a throwaway cluster on loopback
  (tests/support/pg.py), or `--db postgresql://…` (an empty database).
- Measured, the report by clerk (the most groups), medians of `--runs` rounds (3) after an unmeasured
  warm-up, with the slowest, and this process's CPU time:
  * baseline: `build_report(..., stored=False)`: read every event of the month and fold it in one go
    (what the server did before report_days, and the reference every other path must equal).
  * cold: no stored days (deleted before each round): the report folds each day, stores 31 rows, merges.
  * warm: the 31 days stored: the report reads them and merges (late ratings applied).
  * month in progress: "now" is 31 March 15:00: 30 days stored, today's events folded live; the first
    report of the day folds all of today's events, the next ones only those since (LiveFolds).
  * bare read: the baseline's SELECT fetched into Python, nothing computed (the floor of any fold).
  Every path's report is checked equal to the baseline's before the figures are printed.
- Target (issue 13): a month's report of 240k tickets <= 1 s on both backends.

    .venv/bin/python bench/report_month.py [--tickets 60000,240000] [--runs 3] [--backend both] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Engine, func, insert, select

from bench.common import code_version, machine_load, median, table, verdict
from config.loader import default_config_path, load_config
from config.schema import Hall
from queue_server.reports.days import LIVE, clear_days
from queue_server.reports.events import events_query
from queue_server.reports.periods import Period
from queue_server.reports.report import GroupBy, build_report
from queue_server.store.backends import backend_for
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import events, tickets

TARGET_S = 1.0
MONTH = dt.date(2026, 3, 1)
US = 1_000_000
CASES = [("immediate", 60), ("promised", 18), ("supplement", 8), ("joint", 4), ("returned", 3), ("agent", 7)]
PUBLIC_PAD = "x" * 330  # the public message of a real event is ~300–600 bytes of JSON
RATED, RATED_LATER = 0.4, 0.15  # 好差评: 40% of the served rate, 15% of them on a later day
LEVELS = ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
LEVEL_WEIGHTS = [60, 25, 8, 5, 2]


def working_days(month: dt.date) -> list[dt.date]:
    period = Period.of("month", month)
    return [d for d in period.days() if d.weekday() < 5]


def arrival_minute(rng: random.Random) -> int:
    """Minutes after midnight: two peaks, 09:30 and 15:00, within the sessions."""
    while True:
        if rng.random() < 0.62:
            minute = rng.gauss(9.5 * 60, 55)
            if 8.5 * 60 <= minute < 12 * 60:
                return int(minute)
        else:
            minute = rng.gauss(15 * 60, 50)
            if 14.5 * 60 <= minute < 17.5 * 60:
                return int(minute)


def generate(db: str, hall: Hall, count: int, seed: int = 7) -> tuple[int, int]:
    """Write `count` tickets and their events into the database; return (tickets, events)."""
    rng = random.Random(seed)
    tz = ZoneInfo(hall.timezone)
    days = working_days(MONTH)
    windows = [(w.number, list(w.categories), w.a_post or f"clerk{w.number}a", w.b_post or f"clerk{w.number}b")
               for w in hall.windows]  # fmt: skip
    by_category: dict[str, list[tuple[int, str, str]]] = {}
    for number, categories, a_post, b_post in windows:
        for code in categories:
            by_category.setdefault(code, []).append((number, a_post, b_post))
    items: dict[str, list[str]] = {}
    for service_item in hall.items:
        items.setdefault(service_item.category, []).append(service_item.id)
    codes = [c.code for c in hall.categories]
    case_names = [name for name, _ in CASES]
    case_weights = [weight for _, weight in CASES]

    engine = make_engine(db)
    upgrade(engine)
    ticket_rows: list[dict[str, Any]] = []
    event_rows: list[tuple[int, str, str | None, int | None, str | None, int | None, str]] = []
    ticket_id = 0
    per_day = [count // len(days) + (1 if i < count % len(days) else 0) for i in range(len(days))]
    for day, today in zip(days, per_day, strict=True):
        midnight = int(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) * US
        day_events: list[tuple[int, str, str | None, int | None, str | None, int | None, dict[str, Any]]] = []
        for number, _categories, a_post, _b_post in windows:
            day_events.append(
                (midnight + 8 * 3600 * US + number, "window.opened", a_post, number, "A", None, {"post": "A"})
            )
            day_events.append((midnight + 17 * 3600 * US + 40 * 60 * US + number, "window.closed", a_post, number, "A",
                               None, {"window": number}))  # fmt: skip
        counters: dict[str, int] = {}
        for _ in range(today):
            ticket_id += 1
            category = rng.choice(codes)
            counters[category] = counters.get(category, 0) + 1
            label = f"{hall.category(category).prefix}{counters[category]:03d}"
            item: str | None = rng.choice([*items.get(category, []), None])
            issued = midnight + arrival_minute(rng) * 60 * US + rng.randrange(60 * US)
            issue = {"number": label, "category": category, "item_id": item, "priority": "ordinary"}
            day_events.append((issued, "ticket.issued", "device:kiosk-1", None, None, ticket_id, issue))
            window, clerk, _ = rng.choice(by_category[category])
            called = issued + int(rng.expovariate(1 / (18 * 60)) * US) + US
            day_events.append((called, "ticket.called", clerk, window, "A", ticket_id, {"number": label, "recall": 0}))
            at = called
            if rng.random() < 0.05:
                at += 40 * US
                day_events.append(
                    (at, "ticket.recalled", clerk, window, "A", ticket_id, {"number": label, "recall": 1})
                )
            if rng.random() < 0.04:
                day_events.append((at + 90 * US, "ticket.no_show", clerk, window, "A", ticket_id, {"number": label}))
                state, finished_at, kind, started_at = "no_show", None, None, None
            else:
                if rng.random() < 0.02:
                    target = rng.choice([c for c in codes if c != category])
                    day_events.append((at + 30 * US, "ticket.transferred", clerk, window, "A", ticket_id,
                                       {"number": label, "to_window": None, "to_category": target,
                                        "from_category": category, "reason": None}))  # fmt: skip
                    category = target
                    window, clerk, _ = rng.choice(by_category[category])
                    at += int(rng.expovariate(1 / 600) * US) + 60 * US
                    day_events.append(
                        (at, "ticket.called", clerk, window, "A", ticket_id, {"number": label, "recall": 0})
                    )
                started_at = at + int(rng.uniform(10, 60) * US)
                day_events.append((started_at, "ticket.started", clerk, window, "A", ticket_id, {"number": label}))
                finished_at = started_at + int(rng.lognormvariate(math.log(300), 0.55) * US)
                kind = rng.choices(case_names, case_weights)[0]
                details: dict[str, Any] = {
                    "case_class": kind, "due_date": None, "missing_materials": [], "next_department": None,
                    "reason": None, "agent_name": None,
                }  # fmt: skip
                if kind == "promised":
                    details["due_date"] = (day + dt.timedelta(days=14)).isoformat()
                elif kind == "supplement":
                    details["missing_materials"] = ["户口簿原件"]
                elif kind == "joint":
                    details["next_department"] = "县民政局"
                elif kind == "returned":
                    details["reason"] = "不符合受理条件"
                elif kind == "agent":
                    details["agent_name"] = "村代办员"
                day_events.append((finished_at, "ticket.finished", clerk, window, "A", ticket_id,
                                   {"number": label, **details}))  # fmt: skip
                state = "finished"
                if rng.random() < RATED:
                    level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
                    rated_at = finished_at + 20 * US
                    if rng.random() < RATED_LATER:  # from the phone, one to three days later
                        rated_at += rng.randint(1, 3) * 86_400 * US
                    day_events.append((rated_at, "ticket.rated", "citizen", window, None, ticket_id,
                                       {"rating_id": ticket_id, "number": label, "level": level, "score": 3,
                                        "reasons": [], "due_on": None}))  # fmt: skip
            ticket_rows.append({
                "id": ticket_id, "hall": hall.id, "day": day, "seq": counters.get(category, 0), "number": label,
                "category": category, "item_id": item, "priority": "ordinary", "state": state, "queue_key": issued,
                "target_window": None, "window": window, "track_token": f"t{ticket_id:012d}", "device": "kiosk-1",
                "issued_at": issued, "called_at": called, "started_at": started_at, "finished_at": finished_at,
                "recalls": 0, "served_by": clerk, "served_post": "A", "case_class": kind,
                "finish_details": None, "ahead_at_issue": 0, "estimate_at_issue": 0,
            })  # fmt: skip
        following = day + dt.timedelta(days=1)
        close_at = int(dt.datetime(following.year, following.month, following.day, 7, tzinfo=tz).timestamp()) * US
        day_events.append((close_at, "day.closed", None, None, None, None, {"day": day.isoformat(), "expired": 0}))
        day_events.sort(key=lambda e: e[0])
        for at, kind_name, actor, window_number, post, tid, payload in day_events:
            event_rows.append((at, kind_name, actor, window_number, post, tid, json.dumps(payload, ensure_ascii=False)))
    event_rows.sort(key=lambda e: e[0])
    # April has begun: one event after the month, so every day of March is closed.
    april = int(dt.datetime(2026, 4, 1, 7, tzinfo=tz).timestamp()) * US
    event_rows.append((april, "day.closed", None, None, None, None, '{"day": "2026-03-31", "expired": 0}'))
    with engine.begin() as conn:
        for i in range(0, len(ticket_rows), 20_000):
            conn.execute(insert(tickets), ticket_rows[i : i + 20_000])
        rows = [
            {"hall": hall.id, "seq": seq, "type": kind_name, "at": at, "actor": actor, "window": window_number,
             "post": post, "ticket_id": tid, "payload": payload,
             "public": f'{{"type":"x","seq":{seq},"pad":"{PUBLIC_PAD}"}}'}
            for seq, (at, kind_name, actor, window_number, post, tid, payload) in enumerate(event_rows, start=1)
        ]  # fmt: skip
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(events), rows[i : i + 20_000])
    engine.dispose()
    return len(ticket_rows), len(event_rows)


def timed(
    fn: Callable[[], Any], runs: int, before: Callable[[], None] | None = None, warm_up: bool = True
) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU seconds of each run (CPU time is steadier when other processes share the cores).

    CPU time is this process's: on PostgreSQL the server's own work is in the wall clock only."""
    if warm_up:
        fn()  # the first read brings the file into the page cache
    wall, cpu, result = [], [], None
    for _ in range(runs):
        if before is not None:
            before()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, result


def bare_aggregate(conn: Connection, hall: str, start: int, end: int) -> list[Any]:
    query = (
        select(events.c.type, func.count())
        .where(events.c.hall == hall, events.c.at >= start, events.c.at < end)
        .group_by(events.c.type)
    )
    return list(conn.execute(query).all())


def bare_read(conn: Connection, hall: str, start: int, end: int) -> list[Any]:
    """The report's own SELECT (payload fields extracted by SQLite), fetched; nothing computed."""
    return list(conn.execute(events_query(backend_for(conn), hall, start, end, 0)).all())


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        clear_days(conn)


def measure(url: str, label: str, hall: Hall, count: int, runs: int) -> tuple[list[list[Any]], dict[str, float]]:
    """Generate the month on this database, then time the report's paths; every path's report must be equal."""
    began = time.perf_counter()
    ticket_count, event_count = generate(url, hall, count)
    print(f"{label}: {ticket_count:,} tickets, {event_count:,} events over {len(working_days(MONTH))} working days"
          f" of {MONTH:%Y-%m}, written in {time.perf_counter() - began:.0f} s")  # fmt: skip
    engine = make_engine(url)
    period = Period.of("month", MONTH)
    start, end = period.bounds_us(ZoneInfo(hall.timezone))
    today = int(dt.datetime(2026, 3, 31, 15, tzinfo=ZoneInfo(hall.timezone)).timestamp()) * US
    rows: list[list[Any]] = []
    results: dict[str, float] = {}
    reports: dict[str, Any] = {}
    by = GroupBy.CLERK  # the most groups

    def report(**options: Any) -> Any:
        with engine.connect() as conn:
            return build_report(conn, hall, period, by, **options)

    measured: list[tuple[str, Callable[[], Any], Callable[[], None] | None, bool]] = [
        ("bare read (rows into Python)", partial(bare_read_on, engine, hall.id, start, end), None, True),
        ("baseline: one fold of every event", partial(report, stored=False), None, True),
        ("cold: no stored days (folds and stores 31)", report, partial(clear, engine), False),
        ("warm: 31 stored days", report, None, True),
        (
            "month in progress, first report today: 30 stored + today folded",
            partial(report, now_us=today),
            LIVE.clear,
            True,
        ),
        ("month in progress, next reports: 30 stored + today's new events", partial(report, now_us=today), None, True),
    ]
    for name, fn, before, warm_up in measured:
        times, cpu, reports[name] = timed(fn, runs, before, warm_up)
        results[name] = median(times)
        rows.append([f"{label} {name}", median(times) * 1000, max(times) * 1000, median(cpu) * 1000])
    baseline = reports["baseline: one fold of every event"]
    for path in measured[2:]:
        assert reports[path[0]] == baseline, f"{path[0]}: the report differs from the one-go fold"
    engine.dispose()
    return rows, {f"{label} {k}": v for k, v in results.items()}


def bare_read_on(engine: Engine, hall: str, start: int, end: int) -> list[Any]:
    with engine.connect() as conn:
        return bare_read(conn, hall, start, end)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tickets", default="60000,240000", help="comma-separated month sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--db", help="a PostgreSQL URL to use instead of a throwaway cluster (must be empty)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with the SQLite files")
    parser.add_argument("--quick", action="store_true", help="6,000 tickets, 2 runs, SQLite")
    args = parser.parse_args()
    sizes = [int(n) for n in str(args.tickets).split(",")]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.quick:
        sizes, args.runs, backends = [6_000], 2, ["sqlite"]
    hall = load_config(default_config_path()).halls[0]
    folder = Path(tempfile.mkdtemp(prefix="bianmin-report-"))
    print(f"{code_version()}; {machine_load()}")
    cluster: Any = None
    rows: list[list[Any]] = []
    results: dict[str, float] = {}
    try:
        for backend in backends:
            for size in sizes:
                label = f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'} {size // 1000}k"
                if backend == "sqlite":
                    url = str(folder / f"month-{size}.db")
                elif args.db:
                    url = args.db
                else:
                    if cluster is None:
                        from tests.support.pg import PgCluster  # the tests' throwaway cluster, on loopback

                        cluster = PgCluster()
                        cluster.start()
                    url = cluster.create_database(f"month_{size}")
                got_rows, got = measure(url, label, hall, size, args.runs)
                rows += got_rows
                results.update(got)
                if backend == "sqlite" and not args.keep:
                    Path(url).unlink(missing_ok=True)
        print()
        print(table(["measured (report by clerk)", "median ms", "slowest ms", "median CPU ms"], rows))
        print()
        for backend in backends:
            for size in sizes:
                label = f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'} {size // 1000}k"
                base = results[f"{label} baseline: one fold of every event"]
                cold = results[f"{label} cold: no stored days (folds and stores 31)"]
                warm = results[f"{label} warm: 31 stored days"]
                first = results[f"{label} month in progress, first report today: 30 stored + today folded"]
                live = results[f"{label} month in progress, next reports: 30 stored + today's new events"]
                ok = verdict(max(warm, first, live) <= TARGET_S)
                print(f"{label}: baseline {base:.2f} s; cold {cold:.2f} s ({cold / base:.2f}x);"
                      f" warm {warm * 1000:.0f} ms ({warm / base:.3f}x); month in progress: first report today"
                      f" {first * 1000:.0f} ms ({first / base:.3f}x), next {live * 1000:.0f} ms ({live / base:.3f}x);"
                      f" target <= {TARGET_S:.0f} s: {ok}")  # fmt: skip
    finally:
        if cluster is not None:
            cluster.remove()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
