"""City scale: a year of a simulated 285-hall city (~1M cases) on PostgreSQL; the city rollup and a county's month.

Method
------
- City: `--halls` (285) copies of the demo hall (9 categories, 10 windows, its 91 items) in `--counties` (10)
  counties, as a city server's configuration holds them (`HallConfig.townships` with `counties`); the first hall
  of each county is the county center's own hall.
- Data: a year (`--year`, 2026; `--months` of it) of every hall's log, generated straight into the `events`
  table of a fresh database (the project's migrations) on a throwaway PostgreSQL cluster (tests/support/pg.py),
  bulk-loaded with COPY through psycopg. The rows are the events the services write, with the payloads they
  write (as bench/report_month.py generates them): each working day (Monday to Friday) every window is opened
  (A post 80%, B post 20%) and closed, tickets are issued within the sessions (two peaks), called after an
  exponential wait (mean 18 min), 5% recalled, 4% no-shows, 2% transferred to another category, served
  (log-normal, median 5 min) and finished with a case class — 即办 50.3 / 承诺 12 / 补办 2 / 联办 4.1 / 退回 1.3 /
  代理 30.6% (the reference deployment's 294,700 of 962,500 by agents, 办结率 above 96.5%) — 60% of the served
  rated (好差评, 15% of those one to three days later, from the phone), levels 62/25/10.2/2/0.8% (满意率 ≈ 97.2%);
  the day is closed the next morning. Halls differ in size (a log-normal weight); `--cases` (962,500) is the
  city's served tickets over the year. Each event has a public message of realistic size (~360 bytes).
  tests/reports/simulate.py is not used: it keeps every ticket of the run in one list it scans at each step
  (fine for a test's weeks, not for a year of 285 halls) and its case classes are uniform.
- The keeper's work, timed: each hall's closed days folded and stored (`store_closed_days`, as
  queue_server/reports/keeper.py calls it, with `back` covering the year), hall after hall, on one connection.
- Measured, medians of `--rounds` (5) after a warm-up round (its time printed as "first"), with the slowest:
  * the city rollup: `network_report` of every hall, the year, rows by county (the route's code, without HTTP)
    and its headline table (`reports/city.py` `headline`); it reads each hall's stored months (months.py);
  * one county's month report (`--month`, 3: rows by hall, the county of the first hall);
  * baselines in the same run: a bare SQL aggregate over the stored rows (count and total length of their
    JSON, grouped by hall: what PostgreSQL alone takes to read them) — the months the rollup reads, and the
    days (what a rollup from the days alone would have to read) — and one hall's own year report
    (`build_report`, from its stored days), the same engine on 1/285 of the data.
  The headline's totals are checked against the generator's own count of what it wrote (tickets, cases, by
  agent, rated, 办结率, 满意率; a rating of 31 December given in January is not the year's): a wrong figure fails
  the run.
- The year in progress (with `--months 12`): the log is cut at 15 December 15:00 and the city rollup and the
  county's December are timed again: January to November from the stored months, 1 to 14 December from the
  stored days, today folded live (the warm-up round folds all of today's events, the next only those since);
  sampled halls' figures are checked equal to their own year reports.
- Targets (issue 14): the city rollup and one county's month report each <= 2 s.

`--quick`: 20 halls in 4 counties, one month (the figures are those of the small city, not the target's).

    .venv/bin/python bench/city_scale.py [--quick] [--halls 285] [--counties 10] [--months 12] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import Connection, Table, delete, func, select

from bench.common import code_version, machine_load, median, start_postgres, table, verdict
from bench.report_month import PUBLIC_PAD, arrival_minute
from config.loader import default_config_path, load_config
from config.schema import City, CityCounty, Hall, HallConfig
from queue_server.reports.city import by_county, city_halls, city_scope, headline
from queue_server.reports.days import report_days, store_closed_days
from queue_server.reports.months import report_months, store_closed_months
from queue_server.reports.network import Scope, by_hall, network_report
from queue_server.reports.periods import GRACE_US, Period
from queue_server.reports.report import GroupBy, build_report
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import events

TARGET_S = 2.0
US = 1_000_000
CASES = [("immediate", 503), ("promised", 120), ("supplement", 20), ("joint", 41), ("returned", 13), ("agent", 306)]
COMPLETED = {"immediate", "promised", "joint", "agent"}
LEVELS = ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
LEVEL_WEIGHTS = [620, 250, 102, 20, 8]
SATISFIED = {"very_satisfied", "satisfied", "basic"}
RATED, RATED_LATER, NO_SHOW = 0.6, 0.15, 0.04
COLUMNS = ("hall", "seq", "type", "at", "actor", "window", "post", "ticket_id", "payload", "public")
COPY = "COPY events ({}) FROM STDIN".format(", ".join(f'"{c}"' for c in COLUMNS))  # "window" is a keyword


@dataclass
class Truth:
    """What the generator wrote, counted as it wrote it (the figures the report must find)."""

    issued: int = 0
    served: int = 0
    by_agent: int = 0
    completed: int = 0
    rated: int = 0
    satisfied: int = 0
    events: int = 0


def city_config(halls: int, counties: int) -> HallConfig:
    """A city of `halls` copies of the demo hall in `counties` counties (as the loader builds a city's)."""
    demo = load_config(default_config_path()).halls[0]
    made: list[Hall] = []
    groups: list[CityCounty] = []
    for c in range(counties):
        ids = []
        share = halls // counties + (1 if c < halls % counties else 0)
        for n in range(share):
            hall_id = f"x{c + 1:02d}-{n + 1:03d}"
            name = f"第{c + 1}县政务服务中心" if n == 0 else f"第{c + 1}县第{n}乡镇便民服务中心"
            made.append(demo.model_copy(update={"id": hall_id, "name_zh": name, "name_en": hall_id, "link": None}))
            ids.append(hall_id)
        groups.append(CityCounty(id=f"county-{c + 1:02d}", name_zh=f"第{c + 1}县", name_en=f"County {c + 1}",
                                 halls=ids))  # fmt: skip
    return HallConfig(city=City(id="bench-shi", name_zh="模拟市", name_en="Bench City"), counties=groups,
                      townships=made)  # fmt: skip


def working_days(year: int, months: int) -> list[dt.date]:
    day, days = dt.date(year, 1, 1), []
    while day.year == year and day.month <= months:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def hall_rows(
    hall: Hall, days: list[dt.date], per_day: float, rng: random.Random, truth: Truth
) -> Iterator[tuple[Any, ...]]:
    """The hall's events (as COPY rows, in seq order): the tickets of each working day and their windows."""
    tz = ZoneInfo(hall.timezone)
    windows = [(w.number, w.a_post or f"clerk{w.number}a", w.b_post or f"clerk{w.number}b") for w in hall.windows]
    posts = {w.number: list(w.categories) for w in hall.windows}
    codes = [c.code for c in hall.categories]
    items: dict[str, list[str | None]] = {code: [None] for code in codes}
    for service_item in hall.items:
        items[service_item.category].append(service_item.id)
    case_names, case_weights = [n for n, _ in CASES], [w for _, w in CASES]
    next_year = dt.datetime(days[0].year + 1, 1, 1, tzinfo=tz)
    year_end = int(next_year.timestamp()) * US + GRACE_US
    rows: list[tuple[int, str, str | None, int | None, str | None, int | None, dict[str, Any]]] = []
    ticket_id = 0
    for day in days:
        midnight = int(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) * US
        on_duty: dict[int, tuple[str, str]] = {}
        for number, a_post, b_post in windows:
            post, clerk = ("A", a_post) if rng.random() < 0.8 else ("B", b_post)
            on_duty[number] = (clerk, post)
            rows.append((midnight + 8 * 3600 * US + number, "window.opened", clerk, number, post, None, {"post": post}))
            rows.append((midnight + 17 * 3600 * US + 40 * 60 * US + number, "window.closed", clerk, number, post,
                         None, {"window": number}))  # fmt: skip
        by_category: dict[str, list[int]] = {}
        for number, categories in posts.items():
            for code in categories:
                by_category.setdefault(code, []).append(number)
        counters: Counter[str] = Counter()
        count = int(per_day) + (1 if rng.random() < per_day - int(per_day) else 0)
        for _ in range(count):
            ticket_id += 1
            truth.issued += 1
            category = rng.choice(codes)
            counters[category] += 1
            label = f"{hall.category(category).prefix}{counters[category]:03d}"
            item = rng.choice(items[category])
            issued = midnight + arrival_minute(rng) * 60 * US + rng.randrange(60 * US)
            rows.append((issued, "ticket.issued", "device:kiosk-1", None, None, ticket_id,
                         {"number": label, "category": category, "item_id": item, "priority": "ordinary"}))  # fmt: skip
            window = rng.choice(by_category[category])
            clerk, post = on_duty[window]
            at = issued + int(rng.expovariate(1 / (18 * 60)) * US) + US
            rows.append((at, "ticket.called", clerk, window, post, ticket_id, {"number": label, "recall": 0}))
            if rng.random() < 0.05:
                at += 40 * US
                rows.append((at, "ticket.recalled", clerk, window, post, ticket_id, {"number": label, "recall": 1}))
            if rng.random() < NO_SHOW:
                rows.append((at + 90 * US, "ticket.no_show", clerk, window, post, ticket_id, {"number": label}))
                continue
            if rng.random() < 0.02:
                target = rng.choice([c for c in codes if c != category])
                rows.append((at + 30 * US, "ticket.transferred", clerk, window, post, ticket_id,
                             {"number": label, "to_window": None, "to_category": target, "from_category": category,
                              "reason": None}))  # fmt: skip
                window = rng.choice(by_category[target])
                clerk, post = on_duty[window]
                at += int(rng.expovariate(1 / 600) * US) + 60 * US
                rows.append((at, "ticket.called", clerk, window, post, ticket_id, {"number": label, "recall": 0}))
            started = at + int(rng.uniform(10, 60) * US)
            rows.append((started, "ticket.started", clerk, window, post, ticket_id, {"number": label}))
            finished = started + int(rng.lognormvariate(math.log(300), 0.55) * US)
            kind = rng.choices(case_names, case_weights)[0]
            details: dict[str, Any] = {"case_class": kind, "due_date": None, "missing_materials": [],
                                       "next_department": None, "reason": None, "agent_name": None}  # fmt: skip
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
            rows.append((finished, "ticket.finished", clerk, window, post, ticket_id, {"number": label, **details}))
            truth.served += 1
            truth.by_agent += kind == "agent"
            truth.completed += kind in COMPLETED
            if rng.random() < RATED:
                level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
                rated_at = finished + 20 * US
                if rng.random() < RATED_LATER:  # from the phone, one to three days later
                    rated_at += rng.randint(1, 3) * 86_400 * US
                rows.append((rated_at, "ticket.rated", "citizen", window, None, ticket_id,
                             {"rating_id": ticket_id, "number": label, "level": level, "score": 3, "reasons": [],
                              "due_on": None}))  # fmt: skip
                if rated_at < year_end:  # a rating of 31 December given in January is not in the year's report
                    truth.rated += 1
                    truth.satisfied += level in SATISFIED
        following = day + dt.timedelta(days=1)
        close = int(dt.datetime(following.year, following.month, following.day, 7, tzinfo=tz).timestamp()) * US
        rows.append((close, "day.closed", None, None, None, None, {"day": day.isoformat(), "expired": 0}))
    rows.sort(key=lambda r: r[0])
    last = days[-1] + dt.timedelta(days=40)  # an event well after the period: every day of it is closed
    after = int(dt.datetime(last.year, last.month, last.day, 7, tzinfo=tz).timestamp()) * US
    rows.append((after, "day.closed", None, None, None, None, {"day": (last - dt.timedelta(days=1)).isoformat(),
                                                               "expired": 0}))  # fmt: skip
    truth.events += len(rows)
    for seq, (at, kind_name, actor, window_number, post, tid, payload) in enumerate(rows, start=1):
        yield (hall.id, seq, kind_name, at, actor, window_number, post, tid, json.dumps(payload, ensure_ascii=False),
               f'{{"type":"x","seq":{seq},"pad":"{PUBLIC_PAD}"}}')  # fmt: skip


def load(dsn: str, config: HallConfig, days: list[dt.date], cases: int, seed: int) -> Truth:
    """Generate and COPY every hall's log (one COPY per hall); the generator's truth."""
    rng = random.Random(seed)
    halls = city_halls(config)
    weights = [rng.lognormvariate(0, 0.5) for _ in halls]
    scale = cases / (1 - NO_SHOW) / len(days) / sum(weights)
    truth = Truth()
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        for hall, weight in zip(halls, weights, strict=True):
            with cursor.copy(COPY) as copy:
                for row in hall_rows(hall, days, weight * scale, rng, truth):
                    copy.write_row(row)
        conn.commit()
        cursor.execute("ANALYZE events")
    return truth


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, list[float], Any]:
    """The warm-up's seconds (the first read brings the rows into the caches), each round's, the result."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    walls, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - start)
    return first, walls, result


def bare_aggregate(conn: Connection, stored: Table, halls: list[str], period: Period) -> list[Any]:
    """What PostgreSQL alone takes to read the stored rows: their count and the length of their JSON, per hall."""
    c = stored.c
    when = c.day if "day" in c else c.month
    body = c.figures if "figures" in c else c.totals
    query = (select(c.hall, func.count(), func.sum(func.length(body)), func.sum(func.length(c.others)))
             .where(c.hall.in_(halls), when >= period.start, when <= period.last).group_by(c.hall))  # fmt: skip
    return list(conn.execute(query).all())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--halls", type=int, default=285)
    parser.add_argument("--counties", type=int, default=10)
    parser.add_argument("--cases", type=int, default=962_500, help="the city's cases (served) over the year")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--months", type=int, default=12, help="the months of the year generated (from January)")
    parser.add_argument("--month", type=int, default=3, help="the month of the county's month report")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--quick", action="store_true", help="20 halls in 4 counties, one month")
    args = parser.parse_args()
    if args.quick:
        args.halls, args.counties, args.months, args.month, args.rounds = 20, 4, 1, 1, 3
        args.cases = round(962_500 / 285 * 20 / 12)
    print(f"bianmin {code_version()} · {machine_load()}")
    config = city_config(args.halls, args.counties)
    days = working_days(args.year, args.months)
    cluster = start_postgres()
    url = cluster.create_database("city")
    engine = make_engine(url)
    upgrade(engine)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")

    began = time.perf_counter()
    truth = load(dsn, config, days, args.cases, args.seed)
    loaded_s = time.perf_counter() - began
    print(f"generated and loaded {truth.events:,} events of {truth.issued:,} tickets ({truth.served:,} cases, "
          f"{truth.by_agent:,} by agent) of {args.halls} halls over {len(days)} working days "
          f"in {loaded_s:.0f} s")  # fmt: skip

    halls = city_halls(config)
    end_day = dt.date(args.year, args.months, 28) + dt.timedelta(days=4)
    end_day = end_day.replace(day=1) - dt.timedelta(days=1)  # the last day generated
    now_us = int(dt.datetime(end_day.year, end_day.month, end_day.day, tzinfo=ZoneInfo("Asia/Shanghai"))
                 .timestamp()) * US + 40 * 86_400 * US  # fmt: skip
    back = (end_day - dt.date(args.year, 1, 1)).days + 1
    began = time.perf_counter()
    stored = months = 0
    with engine.connect() as conn:
        for hall in halls:
            stored += store_closed_days(conn, hall, end_day, back=back, now_us=now_us)
            conn.commit()
            months += store_closed_months(conn, hall, end_day, back=args.months, now_us=now_us)
            conn.commit()
    keeper_s = time.perf_counter() - began
    print(f"the keeper stored {stored:,} closed days and {months:,} months ({len(halls)} halls × {back} days) in "
          f"{keeper_s:.0f} s ({keeper_s / len(halls) * 1000:.0f} ms a hall)")  # fmt: skip

    year = Period.of("year", dt.date(args.year, 1, 1))
    month = Period.of("month", dt.date(args.year, args.month, 1))
    county = config.counties[0]
    county_halls = [h for h in halls if h.id in county.halls]
    scope = city_scope(config.city) if config.city else Scope("city", "", "")

    county_scope = Scope(county.id, county.name_zh, county.name_en)
    measured: list[list[Any]] = []

    def measure(label: str, fn: Callable[[], Any], baselines: list[tuple[str, Callable[[], Any]]], target: bool
                ) -> tuple[Any, float]:  # fmt: skip
        first, walls, result = timed(fn, args.rounds)
        for n, (name, base) in enumerate(baselines):
            _first, base_walls, _result = timed(base, args.rounds)
            ok = verdict(median(walls) <= TARGET_S) + " ≤ 2 s" if target and n == 0 else ""
            head = [label, first, median(walls), max(walls)] if n == 0 else ["", "", "", ""]
            measured.append([*head, name, median(base_walls), median(walls) / median(base_walls), ok])
        return result, median(walls)

    with engine.connect() as conn:
        ids = [h.id for h in halls]

        def rollup(now: int) -> Any:
            report = network_report(conn, scope, halls, year, by_county(config.counties), now_us=now)
            return headline(report, config)

        def county_month(period: Period, now: int) -> Any:
            return network_report(conn, county_scope, county_halls, period, by_hall(county_halls), now_us=now)

        bare_days = ("bare SQL over the stored days", lambda: bare_aggregate(conn, report_days, ids, year))
        bare_months = ("bare SQL over the stored months", lambda: bare_aggregate(conn, report_months, ids, year))
        one_hall = ("one hall's own year report",
                    lambda: build_report(conn, halls[0], year, GroupBy.CATEGORY, now_us=now_us))  # fmt: skip
        table_, _ = measure("city rollup (year, by county)", lambda: rollup(now_us), [bare_months, bare_days,
                            one_hall], True)  # fmt: skip
        county_bare = ("bare SQL over the stored days", lambda: bare_aggregate(conn, report_days, county.halls, month))
        county_report, _ = measure(f"county month ({len(county_halls)} halls, by hall)",
                                   lambda: county_month(month, now_us), [county_bare], True)  # fmt: skip
        in_progress = None
        if args.months == 12:
            # The year in progress: 15 December at 15:00, the log as it stands then. January to November are
            # stored months, 1 to 14 December stored days, today folded live (the first report of the day folds
            # all of today's events, the next ones only those since).
            now = int(dt.datetime(args.year, 12, 15, 15, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()) * US
            conn.rollback()  # end the reports' read
            with conn.begin():
                conn.execute(delete(events).where(events.c.at > now))
            december = Period.of("month", dt.date(args.year, 12, 1))
            in_progress, _ = measure("city rollup, year in progress (15 Dec 15:00)", lambda: rollup(now),
                                     [bare_days], True)  # fmt: skip
            county_bare = ("bare SQL over the stored days",
                           lambda: bare_aggregate(conn, report_days, county.halls, december))  # fmt: skip
            measure("county month in progress (December)", lambda: county_month(december, now), [county_bare], True)
            sample = halls[:: max(1, len(halls) // 5)]
            in_progress = all(
                in_progress_hall == build_report(conn, hall, year, GroupBy.CATEGORY, now_us=now).totals
                for hall in sample
                for in_progress_hall in [_hall_figures(conn, scope, hall, year, now)]
            )
    engine.dispose()

    total = table_.total
    # The synthetic city writes ticket events only: its 办结率 (of cases, reports/cases.py) is "—" here, and
    # bench/case_year.py measures a year of cases.
    found = (total.issued, total.served, total.by_agent, total.rated, total.satisfaction_rate)
    expected = (truth.issued, truth.served, truth.by_agent, truth.rated,
                round(truth.satisfied / truth.rated, 4))  # fmt: skip
    right = found == expected and county_report.total.issued == sum(h.figures.issued for h in county_report.halls)
    right = right and in_progress is not False
    print()
    print("headline table (the city rollup, year, by county):")
    rows = [[line.name_zh, line.centers, line.windows, line.windows_used, line.staff, line.served, line.on_the_spot,
             line.by_agent, _pct(line.completion_rate), _pct(line.satisfaction_rate)]
            for line in [*table_.counties, total]]  # fmt: skip
    heads = ["county", "centers", "windows", "used", "staff", "visits", "direct", "agent", "办结率", "满意率"]
    print(table(heads, rows))
    print(f"checked against the generator: {verdict(right)} (issued, cases, by agent, rated, 办结率, 满意率 = {found})")
    if in_progress is not None:
        print(f"the year in progress, sampled halls' figures equal their own reports: {verdict(in_progress)}")
    print()
    print(table(["measured", "first s", "median s", "slowest s", "baseline", "baseline median s", "ratio", "target"],
                measured))  # fmt: skip
    print(f"(first: the warm-up round; then {args.rounds} rounds; the machine is shared: {machine_load()})")
    cluster.remove()
    return 0 if right else 1


def _hall_figures(conn: Connection, scope: Scope, hall: Hall, period: Period, now: int) -> Any:
    """The hall's figures as the report across halls has them (its Totals: its months, days and today)."""
    return network_report(conn, scope, [hall], period, by_hall([hall]), now_us=now).halls[0].figures


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
