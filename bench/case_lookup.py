"""Time of the public case lookup (办件进度查询, GET .../case-lookup/{code}) among 100,000 cases, on SQLite.

Method
------
- Data: a fresh SQLite database (the project's migrations, durable settings) holding `--cases` cases of the demo
  hall spread over 2026's working days, written straight into `cases` as services/cases.py writes them (the
  items of the catalogue, 75% completed, 3% returned, the rest open with a due date; a 联办 leg on 10%).
- Measured, medians and p99 over `--lookups` random codes after a warm-up:
  * lookup: `services.case_lookup.public_case` (what the route runs: the row by (hall, code), the record, the
    public view), on one read connection;
  * baseline: the same row read by its primary key (the floor of any one-row read here).

    .venv/bin/python bench/case_lookup.py [--cases 100000] [--lookups 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.common import code_version, machine_load, percentile
from config.loader import default_config_path, load_config
from queue_server.domain.cases import new_case_code
from queue_server.server import open_store
from queue_server.services.case_lookup import public_case
from queue_server.store.tables import cases

HALL = "qingshan"


def fill(store: object, count: int, rng: random.Random) -> list[str]:
    calendar = store.calendar  # type: ignore[attr-defined]
    hall = store.config.hall(HALL)  # type: ignore[attr-defined]
    items = hall.items
    days = [d for d in (dt.date(2026, 1, 1) + dt.timedelta(n) for n in range(365)) if calendar.is_working_day(d)]
    codes: set[str] = set()
    rows = []
    for i in range(count):
        code = new_case_code(rng.choice)
        while code in codes:
            code = new_case_code(rng.choice)
        codes.add(code)
        item, day = items[i % len(items)], days[i * len(days) // count]
        due = calendar.add_working_days(day, item.promised_days or 5)
        roll = rng.random()
        state = "completed" if roll < 0.75 else "returned" if roll < 0.78 else "accepted"
        closed = state != "accepted"
        legs = [{"to_window": None, "to_department": "县民政局", "reason": None, "by": "liuxia", "at": 0,
                 "ended_at": None}] if roll > 0.9 else []  # fmt: skip
        details = {"missing_materials": [], "reason": None, "agent_name": None, "legs": legs, "extensions": [],
                   "visits": []}  # fmt: skip
        rows.append({
            "hall": HALL, "code": code, "origin": "window", "ticket_id": i + 1, "number": f"A{i % 1000:03d}",
            "item_id": item.id, "category": item.category, "case_class": "promised", "state": state,
            "opened_day": day, "opened_at": 0, "due_on": due, "window": 1 + i % 8, "clerk": "liuxia",
            "department": "县民政局" if legs else None, "accepted_window": 1 + i % 8, "accepted_by": "liuxia",
            "contact_phone": "13800138000", "details": json.dumps(details, ensure_ascii=False), "last_ticket_id": None,
            "result": "window" if state == "completed" else None, "closed_day": due if closed else None,
            "closed_at": 0 if closed else None, "updated_at": 0,
        })  # fmt: skip
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(cases), rows[start : start + 5000])
    return sorted(codes)


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    config = load_config(default_config_path())
    hall, rng = config.hall(HALL), random.Random(15)
    today = dt.date(2026, 12, 31)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(config, Path(folder) / "bench.db")
        try:
            t0 = time.perf_counter()
            codes = fill(store, args.cases, rng)
            print(f"filled {args.cases:,} cases in {time.perf_counter() - t0:.1f} s")
            picks = [rng.randrange(len(codes)) for _ in range(args.lookups)]
            with store.engine.connect() as conn:
                for i in picks[:50]:  # warm-up
                    public_case(conn, hall, codes[i], today, store.calendar)
                lookup, base = [], []
                for i in picks:
                    lookup.append(timed(lambda i=i: public_case(conn, hall, codes[i], today, store.calendar)))
                    base.append(timed(lambda i=i: conn.execute(select(cases).where(cases.c.id == i + 1)).one()))
                assert public_case(conn, hall, "XXXXXXXXX", today, store.calendar) is None
        finally:
            store.close()
    print(f"machine: {machine_load()}; code {code_version()}")
    print(f"public lookup by code (GET .../case-lookup/{{code}}): median {statistics.median(lookup):.3f} ms, "
          f"p99 {percentile(lookup, 99):.3f} ms")  # fmt: skip
    print(f"baseline, the row by primary key:                 median {statistics.median(base):.3f} ms, "
          f"p99 {percentile(base, 99):.3f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
