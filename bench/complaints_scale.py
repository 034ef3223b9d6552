"""Public supervision at scale: reading a complaint by its code among many, the managers' list, and a year's
complaint figures from the event log, on SQLite (in-process, the project's migrations, durable settings).

Method
------
- Data: a fresh SQLite database holding `--complaints` complaints (100,000) of the demo hall spread over
  2026's working days, written straight into `complaints` and `events` as the service writes them (a
  `complaint.filed` event each, and a `complaint.answered` event for the 97% answered, 5% of those late),
  and three filler events for each (other event types share the log; its partial index leaves them out).
- Measured, medians over `--lookups` (2,000) random codes after a warm-up, with the p99:
  * lookup: `services.complaints.view` (what GET .../complaints/{code} runs), by the unique code's index;
  * baseline: the same row read by its primary key (the floor of any one-row read here).
  Then, once each (median of 3): the managers' list (summary counts + the first 200 rows), and the year's
  complaint figures (`reports.complaints.complaint_figures`, a fold of every complaint event of the year).

    .venv/bin/python bench/complaints_scale.py [--complaints 100000] [--lookups 2000] [--quick]
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
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from config.loader import default_config_path, load_config
from queue_server.reports.complaints import complaint_figures
from queue_server.reports.periods import Period, PeriodKind, local_midnight_us
from queue_server.server import open_store
from queue_server.services import complaints as service
from queue_server.services.appointments import CODE_ALPHABET
from queue_server.store.tables import complaints, events

HALL = "qingshan"
TZ = ZoneInfo("Asia/Shanghai")


def fill(store: object, count: int, rng: random.Random) -> list[str]:
    calendar = store.calendar  # type: ignore[attr-defined]
    days = [d for d in (dt.date(2026, 1, 1) + dt.timedelta(n) for n in range(365)) if calendar.is_working_day(d)]
    codes, rows, logged = [], [], []
    seq = 0
    for i in range(count):
        day = days[i * len(days) // count]
        due = calendar.add_working_days(day, 5)
        at = local_midnight_us(day, TZ) + rng.randrange(8 * 3600, 17 * 3600) * 1_000_000
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(10))
        codes.append(code)
        answered = rng.random() < 0.97
        late = answered and rng.random() < 0.05
        answered_on = calendar.add_working_days(due, 1) if late else calendar.add_working_days(day, 3)
        rows.append({
            "id": i + 1, "hall": HALL, "code": code, "category": "attitude", "window": 1 + i % 10, "case_code": None,
            "text": "窗口工作人员态度生硬，不愿解释材料要求。", "contact": None, "contact_masked": "139****1234",
            "state": "answered" if answered else "open", "day": day, "due_on": due, "filed_at": at,
            "answer": "已核实处理。" if answered else None, "answered_on": answered_on if answered else None,
            "updated_at": at,
        })  # fmt: skip
        filed = {"complaint_id": i + 1, "category": "attitude", "case_code": None, "day": day.isoformat(),
                 "due_on": due.isoformat(), "contact_given": True}  # fmt: skip
        fillers = [("ticket.filler", {}, at - 3 + k) for k in range(3)]
        for kind, payload, when in [*fillers, ("complaint.filed", filed, at)] + (
            [("complaint.answered", {"complaint_id": i + 1, "due_on": due.isoformat(),
              "answered_on": answered_on.isoformat(), "late": late}, at + 3 * 86400 * 10**6)] if answered else []
        ):  # fmt: skip
            seq += 1
            row = {"hall": HALL, "seq": seq, "type": kind, "at": when, "actor": "citizen", "window": None}
            logged.append({**row, "post": None, "ticket_id": None, "payload": json.dumps(payload), "public": "{}"})
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(complaints), rows[start : start + 5000])
        for start in range(0, len(logged), 5000):
            conn.execute(insert(events), logged[start : start + 5000])
    return codes


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="10,000 complaints, 500 lookups")
    args = parser.parse_args()
    if args.quick:
        args.complaints, args.lookups = 10_000, 500
    config = load_config(default_config_path())
    hall = config.hall(HALL)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(config, Path(folder) / "bench.db")
        try:
            t0 = time.perf_counter()
            codes = fill(store, args.complaints, rng)
            print(f"filled {args.complaints:,} complaints and their events in {time.perf_counter() - t0:.1f} s")
            now = dt.datetime(2026, 12, 31, 10, 0, tzinfo=TZ)
            picks = [rng.randrange(args.complaints) for _ in range(args.lookups)]
            with store.engine.connect() as conn:
                for i in picks[:50]:  # warm-up
                    service.view(conn, hall, codes[i], now)
                lookup, base = [], []
                for i in picks:
                    lookup += timed(lambda i=i: service.view(conn, hall, codes[i], now), 1)
                    base += timed(lambda i=i: conn.execute(select(complaints).where(complaints.c.id == i + 1)).one(), 1)
                listing = timed(lambda: service.list_complaints(conn, hall, now, None, 200, store.calendar), 3)
                year = Period.of(PeriodKind.YEAR, dt.date(2026, 6, 1))
                figures: list[object] = []
                folding = timed(lambda: figures.append(complaint_figures(conn, HALL, TZ, year, now.date())), 3)
            print(f"lookup by code (GET .../complaints/{{code}}): median {statistics.median(lookup):.3f} ms, "
                  f"p99 {p99(lookup):.3f} ms")  # fmt: skip
            print(f"baseline, the row by primary key:          median {statistics.median(base):.3f} ms, "
                  f"p99 {p99(base):.3f} ms")  # fmt: skip
            print(f"managers' list (summary + 200 rows):       median {statistics.median(listing):.1f} ms")
            print(
                f"a year's complaint figures (fold):         median {statistics.median(folding):.1f} ms  {figures[-1]}"
            )
        finally:
            store.close()


if __name__ == "__main__":
    main()
