"""Time to build a month's report for a busy hall, next to bare SQL over the same rows.

Method
------
- Data: a fresh SQLite file (WAL, the project's migrations) holding a month of the demo hall
  (qingshan): 60,000 tickets over the 22 working days of March 2026 (~2,700 a day), written straight
  into the `tickets` and `events` tables as the services would write them. Arrivals follow a
  two-peak day within the hall's sessions (08:30–12:00, 14:30–17:30); waits are exponential (mean
  18 min), service times log-normal (median 5 min); 4% no-shows, 5% recalls, 2% transfers to
  another category, case classes 60/18/8/4/3/7% (即办/承诺/补办/联办/退回/代理); windows open and
  close each day and the day is closed the next morning. Each event row carries a public message
  of realistic size, as the real log does. About 4.2 events per ticket, ~250,000 rows.
- Measured (each 5 times, the median and the slowest are shown, after one unmeasured warm-up run;
  also the CPU time of this process, steadier than the wall clock when other processes compete):
  * report: `build_report(conn, hall, month, by)` for by = category, window and clerk: read the
    month's events, fold them into per-ticket facts, compute totals, groups and the charts' series.
    This is exactly what `GET /api/v1/halls/{hall}/reports?period=month` runs.
  * exports: the CSV and XLSX of that report (from the computed report).
- Baselines, on the same rows in the same run:
  * bare aggregate: one SQL `GROUP BY type` count over the month's events (what SQLite alone costs
    to scan the rows through the (hall, at) index).
  * bare read: the same SELECT the report runs (with the few payload fields it needs extracted by
    SQLite's json_extract), fetched into Python rows, nothing computed: the floor of any report
    computed in Python from the event log.
- Target: a month's report in ≤ 2 s.

    .venv/bin/python bench/report_month.py [--tickets 60000] [--runs 5] [--keep] [--quick]
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

from sqlalchemy import Connection, func, insert, select

from bench.common import code_version, machine_load, median, table, verdict
from config.loader import default_config_path, load_config
from config.schema import Hall
from queue_server.reports.events import events_query
from queue_server.reports.export import to_csv, to_xlsx
from queue_server.reports.periods import Period
from queue_server.reports.report import GroupBy, build_report
from queue_server.store.backends import backend_for
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import events, tickets

TARGET_S = 2.0
MONTH = dt.date(2026, 3, 1)
US = 1_000_000
CASES = [("immediate", 60), ("promised", 18), ("supplement", 8), ("joint", 4), ("returned", 3), ("agent", 7)]
PUBLIC_PAD = "x" * 330  # the public message of a real event is ~300–600 bytes of JSON


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


def generate(db: Path, hall: Hall, count: int, seed: int = 7) -> tuple[int, int]:
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
    with engine.begin() as conn:
        conn.execute(insert(tickets), ticket_rows)
        conn.execute(
            insert(events),
            [
                {"hall": hall.id, "seq": seq, "type": kind_name, "at": at, "actor": actor, "window": window_number,
                 "post": post, "ticket_id": tid, "payload": payload,
                 "public": f'{{"type":"x","seq":{seq},"pad":"{PUBLIC_PAD}"}}'}
                for seq, (at, kind_name, actor, window_number, post, tid, payload) in enumerate(event_rows, start=1)
            ],
        )  # fmt: skip
    engine.dispose()
    return len(ticket_rows), len(event_rows)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU seconds of each run (CPU time is steadier when other processes share the cores)."""
    fn()  # warm-up: the first read brings the file into the page cache
    wall, cpu, result = [], [], None
    for _ in range(runs):
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with the database")
    parser.add_argument("--quick", action="store_true", help="6,000 tickets, 2 runs")
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.runs = 6_000, 2
    hall = load_config(default_config_path()).halls[0]
    folder = Path(tempfile.mkdtemp(prefix="bianmin-report-"))
    print(f"{code_version()}; {machine_load()}")
    try:
        db = folder / "month.db"
        began = time.perf_counter()
        ticket_count, event_count = generate(db, hall, args.tickets)
        print(
            f"data: {ticket_count:,} tickets, {event_count:,} events over {len(working_days(MONTH))} working days"
            f" of {MONTH:%Y-%m} ({db.stat().st_size / 2**20:.0f} MiB, written in {time.perf_counter() - began:.1f} s)"
        )
        engine = make_engine(db)
        period = Period.of("month", MONTH)
        start, end = period.bounds_us(ZoneInfo(hall.timezone))
        rows = []
        results: dict[str, float] = {}
        cpu_results: dict[str, float] = {}
        with engine.connect() as conn:
            measured: list[tuple[str, Callable[[], Any]]] = [
                ("bare aggregate (SQL GROUP BY)", partial(bare_aggregate, conn, hall.id, start, end)),
                ("bare read (rows into Python)", partial(bare_read, conn, hall.id, start, end)),
                *((f"report by {by.value}", partial(build_report, conn, hall, period, by)) for by in GroupBy),
            ]
            for name, fn in measured:
                times, cpu, _ = timed(fn, args.runs)
                results[name] = median(times)
                cpu_results[name] = median(cpu)
                rows.append([name, median(times) * 1000, max(times) * 1000, median(cpu) * 1000])
            report = build_report(conn, hall, period, GroupBy.CATEGORY)
            exports: list[tuple[str, Callable[[], Any]]] = [
                ("export CSV", partial(to_csv, report)),
                ("export XLSX", partial(to_xlsx, report)),
            ]
            for name, export in exports:
                times, cpu, _ = timed(export, args.runs)
                rows.append([name, median(times) * 1000, max(times) * 1000, median(cpu) * 1000])
        engine.dispose()
        print()
        print(table(["measured", "median ms", "slowest ms", "median CPU ms"], rows))
        worst = max(results[f"report by {by.value}"] for by in GroupBy)
        worst_cpu = max(cpu_results[f"report by {by.value}"] for by in GroupBy)
        floor = results["bare read (rows into Python)"]
        print()
        totals = report.totals
        print(
            f"report: {totals.issued:,} issued, {totals.served:,} served, {totals.no_shows:,} no-shows,"
            f" avg wait {totals.avg_wait_s / 60 if totals.avg_wait_s else 0:.1f} min,"
            f" avg service {totals.avg_service_s / 60 if totals.avg_service_s else 0:.1f} min,"
            f" 办结率 {totals.completion_rate or 0:.1%}"
        )
        print(
            f"month's report (slowest grouping, median): {worst:.2f} s = {worst / floor:.1f}x the bare read,"
            f" {worst / results['bare aggregate (SQL GROUP BY)']:.0f}x the bare aggregate; CPU {worst_cpu:.2f} s;"
            f" target <= {TARGET_S:.0f} s: {verdict(worst <= TARGET_S)}"
        )
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
