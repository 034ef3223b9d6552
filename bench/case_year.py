"""Time of the 办结率 report (reports/cases.py) over a year of a hall's cases, on SQLite.

Method
------
- Data: a fresh SQLite database (the project's migrations) holding a year (2026) of the demo hall:
  `--cases` cases spread over the working days, each with its `case.opened` event and, for the ~75%
  not done on the spot, a later `case.completed` (2% returned, 1% refused, 3% still open), with the
  payloads the services write; between them `--ticket-events` ticket events per case (issue, call,
  start, finish), which the case report must skip, written straight into `events` as the services would.
  31% of the cases not done on the spot are 代理件 of the hall's village agent points (origin agent, `point`
  in their `case.opened`), as in the reference deployment, so the report's by_point rows are folded too.
- Measured, medians of `--runs` rounds after a warm-up: the year's case report (`case_report`: totals and
  the rows by item, category, window and clerk) through the partial index `ix_events_cases`;
  baseline: the bare SELECT of the same case events' payloads fetched into Python, nothing decoded
  or folded (the floor of any fold). The ratio report / baseline is the figure to compare.

    .venv/bin/python bench/case_year.py [--cases 100000] [--ticket-events 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.common import code_version, machine_load, median, table
from config.calendar import build_calendar
from config.loader import default_config_path, load_config
from queue_server.reports.cases import CASE_EVENTS, case_report
from queue_server.reports.periods import Period, PeriodKind
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import CASE_EVENT_RANGE, events

HALL = "qingshan"


def fill(engine: object, cases: int, ticket_events: int, seed: int = 15) -> int:
    config = load_config(default_config_path())
    hall = config.hall(HALL)
    calendar = build_calendar(config.calendar)
    tz = ZoneInfo(hall.timezone)
    rng = random.Random(seed)
    days = [d for d in (dt.date(2026, 1, 1) + dt.timedelta(n) for n in range(365)) if calendar.is_working_day(d)]
    items = [(i.id, i.category, i.promised_days) for i in hall.items]
    clerks = [(w.number, w.a_post or f"clerk{w.number}") for w in hall.windows]
    points = [p.id for p in hall.agent_points]
    rows, seq = [], 0

    def add(kind: str, at: int, payload: dict[str, object], ticket: bool = False) -> None:
        nonlocal seq
        seq += 1
        rows.append({"hall": HALL, "seq": seq, "type": kind, "at": at, "actor": "x", "window": 1, "post": "A",
                     "ticket_id": seq if ticket else None, "payload": json.dumps(payload, ensure_ascii=False),
                     "public": f'{{"type":"case","seq":{seq}}}'})  # fmt: skip

    later: list[tuple[int, str, dict[str, object]]] = []
    for n in range(cases):
        day = days[n * len(days) // cases]
        at = int(dt.datetime(day.year, day.month, day.day, 9, tzinfo=tz).timestamp() * 1e6) + n
        item, category, promised = rng.choice(items)
        window, clerk = rng.choice(clerks)
        draw = rng.random()
        cls = "immediate" if draw < 0.25 else "agent" if draw < 0.25 + 0.31 and points else "promised"
        base = {"code": f"C{n:08d}", "case_class": cls, "item_id": item, "category": category,
                "accepted_window": window, "accepted_by": clerk, "opened_day": day.isoformat()}  # fmt: skip
        if cls == "agent":
            base.update(origin="agent", point=rng.choice(points), accepted_window=None)
        for k in range(ticket_events):
            add(("ticket.issued", "ticket.called", "ticket.started", "ticket.finished")[k % 4], at - 1000 + k,
                {"number": "A001", "category": category}, ticket=True)  # fmt: skip
        if cls == "immediate":
            add("case.opened", at, {**base, "state": "completed", "working_days": 0, "on_time": True})
            continue
        add("case.opened", at, {**base, "state": "accepted"})
        fate = rng.random()
        if fate < 0.03:
            continue
        taken = rng.randint(1, max(1, promised or 5) + 2)
        state = "returned" if fate < 0.05 else "rejected" if fate < 0.06 else "completed"
        kind = {"returned": "case.returned", "rejected": "case.rejected"}.get(state, "case.completed")
        closing = {**base, "state": state, "working_days": taken, "on_time": taken <= (promised or 5)}
        later.append((at + taken * 86_400_000_000, kind, closing))
        if len(rows) > 20_000:
            _flush(engine, rows)
    for at, kind, payload in sorted(later, key=lambda x: x[0]):
        add(kind, at, payload)
        if len(rows) > 20_000:
            _flush(engine, rows)
    _flush(engine, rows)
    return seq


def _flush(engine: object, rows: list[dict[str, object]]) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(events), rows)
    rows.clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--ticket-events", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bianmin-case-year-"))
    try:
        engine = make_engine(folder / "year.db")
        upgrade(engine)
        started = time.perf_counter()
        total = fill(engine, args.cases, args.ticket_events)
        print(f"{args.cases:,} cases, {total:,} events in the log, filled in {time.perf_counter() - started:.1f} s")
        start, end = Period.of(PeriodKind.YEAR, dt.date(2026, 6, 1)).bounds_us(ZoneInfo("Asia/Shanghai"))
        bare_query = select(events.c.payload).where(events.c.hall == HALL, events.c.at >= start, events.c.at < end,
                                                    text(CASE_EVENT_RANGE), events.c.type.in_(CASE_EVENTS))  # fmt: skip
        timings: dict[str, list[float]] = {"baseline: bare SELECT": [], "办结率 report (year)": []}
        report = None
        for run in range(args.runs + 1):
            with engine.connect() as conn:
                t0 = time.perf_counter()
                fetched = conn.execute(bare_query).all()
                t1 = time.perf_counter()
                report = case_report(conn, HALL, start, end)
                t2 = time.perf_counter()
            if run:  # the first round warms the caches
                timings["baseline: bare SELECT"].append(t1 - t0)
                timings["办结率 report (year)"].append(t2 - t1)
        assert report is not None
        base = median(timings["baseline: bare SELECT"])
        print(f"machine: {machine_load()}; code {code_version()}; {len(fetched):,} case events in the year")
        print(table(["path", "median s", "slowest s", "× baseline"],
                    [[name, f"{median(v):.3f}", f"{max(v):.3f}", f"{median(v) / base:.2f}"]
                     for name, v in timings.items()]))  # fmt: skip
        t = report.totals
        print(f"year: {t.cases:,} cases, {t.completed:,} completed, 办结率 {t.completion_rate:.2%},")
        print(f"  on time {t.on_time_rate:.2%}, mean {t.mean_days} working days; {len(report.by_item)} items")
        shares = ", ".join(f"{r.key} {r.share:.1%}" for r in report.by_point if r.share is not None)
        print(f"  代理件 {t.by_agent:,} ({t.agent_share:.1%} of the cases); by point: {shares}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
