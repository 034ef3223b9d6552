"""Link up catch-up: a township offline for 3 working days (≈1,500 tickets), then its county comes up. Target ≤ 30 s.

Method
------
- The township: the demo hall (`qingshan`) as `bianmin serve` on a fresh SQLite file, its `[halls.link]` pointing
  at a county port nobody listens on (the county is down). `--days` (3) simulated working days at `--load` (1.05:
  about 500 tickets a day) are played through its HTTP API (bench/link_common.py `make_log`: the simulator's days,
  kiosk issues, clerks' calls, starts, finishes with case classes and no-shows, ratings); the shipper fails
  all along. The server's clock is the real one: the three days' events carry today's times (the link ships
  events, whatever their day). This is done once; each round starts the township on a copy of that file.
- The link's settings are the demo's (`queue_server/demo/halls.py`): batch_size 500 (the default), retries
  doubling from 0.5 s up to `retry_max_s` = 5 s (the default cap is 300 s: with it, add up to five minutes of
  waiting for the township's next attempt after the county is back).
- A round: a fresh county database (a copy of a migrated template holding the township's link token), the
  township started on its copy while the county is still down, `--offline` (3 s) of failed attempts, then the
  county's `bianmin serve` (PostgreSQL on a throwaway cluster, fsync and synchronous_commit on) is started. Measured
  from the county's first `/healthz` answer (its start-up, ~2 s, is printed apart) until the county's database
  holds the township's last seq (polled every 20 ms): the catch-up time. Its parts: until the first batch is
  held (the township's next retry), and from it to the last (the transfer). Then the county's copy is checked
  against the township's log, row by row.
- Baseline, in the same round: the same rows, in the same batches of 500, inserted straight into PostgreSQL by
  one client, one transaction each (bench/baselines/bare_event_insert.py).
- Rounds: `--rounds` (3); medians printed. Target: catch-up ≤ 30 s.

`--quick`: one round of one simulated day.

    .venv/bin/python bench/link_catchup.py [--quick] [--rounds 3] [--days 3] [--load 1.05]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baselines.bare_event_insert import create_table, insert_batches
from bench.common import (
    ServerProcess,
    bianmin_argv,
    code_version,
    free_port,
    machine_load,
    median,
    start_postgres,
    table,
    verdict,
)
from bench.link_common import copy_database, county_template, make_log, read_log, township_server, write_configs

TARGET_S = 30.0
TEMPLATE = "catchup_template"
POLL_S = 0.02
BATCH = 500


@dataclass
class Round:
    number: int
    events: int
    startup_s: float  # the county's process start → its first /healthz answer
    first_s: float  # /healthz → the first batch held
    done_s: float  # /healthz → the last event held
    bare_s: float

    @property
    def transfer_s(self) -> float:
        return self.done_s - self.first_s


def last_held(url: str, hall: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        found = conn.execute("SELECT max(seq) FROM events WHERE hall = %s", (hall,)).fetchone()
    return int(found[0] or 0) if found else 0


def county_rows(url: str, hall: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(
            'SELECT seq, type, at, actor, "window", post, ticket_id, payload, public FROM events WHERE hall = %s '
            "ORDER BY seq",
            (hall,),
        ).fetchall()


def one_round(number: int, cluster: Any, args: argparse.Namespace, work: Path, configs: Any, hall: str, port: int,
              log: list[dict[str, Any]], source: Path) -> Round:  # fmt: skip
    name = f"catchup_{number}"
    cluster.drop_database(name)
    url = cluster.create_database(name, template=TEMPLATE)
    township_db = work / f"township-{number}.db"
    copy_database(source, township_db)
    last = log[-1]["seq"]
    with township_server(configs.townships[hall], township_db, work / f"township-{number}.log"):
        time.sleep(args.offline)  # the shipper keeps failing: the county is down
        argv = bianmin_argv("serve", "--config", str(configs.county), "--db", url, "--port", str(port))
        county = ServerProcess("county", argv, port, work / f"county-{number}.log")
        launched = time.perf_counter()
        with county:
            up = time.perf_counter()
            first = done = None
            deadline = up + 600
            while done is None:
                held = last_held(url, hall)
                now = time.perf_counter()
                if held and first is None:
                    first = now
                if held >= last:
                    done = now
                elif now > deadline:
                    raise RuntimeError(f"after 600 s the county holds seq {held} of {last}")
                else:
                    time.sleep(POLL_S)
    assert first is not None
    copy = county_rows(url, hall)
    expected = [tuple(e.values()) for e in log]
    if copy != expected:
        raise RuntimeError(f"the county's copy differs from the township's log ({len(copy)} rows, {len(expected)})")
    bare = cluster.create_database(f"bare_{number}")
    create_table(bare)
    batches = [log[i : i + BATCH] for i in range(0, len(log), BATCH)]
    bare_s = insert_batches(bare, [[[(hall, *e.values()) for e in batch] for batch in batches]])
    cluster.drop_database(f"bare_{number}")
    cluster.drop_database(name)
    return Round(number, len(log), up - launched, first - up, done - up, bare_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=3, help="simulated working days the township is offline")
    parser.add_argument("--load", type=float, default=1.05, help="demand as the windows' mean utilization")
    parser.add_argument("--offline", type=float, default=3.0, help="seconds the township retries before the county")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, the township's file)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.days = 1, 1
    started = time.monotonic()
    print(f"link catch-up: {code_version()}; {machine_load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-link-catchup-"))
    cluster = start_postgres()
    rounds: list[Round] = []
    try:
        port = free_port()
        configs = write_configs(work, 1, f"http://127.0.0.1:{port}")
        (hall,) = configs.townships
        county_template(cluster, TEMPLATE, configs.county, configs.tokens)
        source = work / "township.db"
        print(f"the township serves {args.days} simulated day(s) with its county down ...", flush=True)
        counts = make_log(configs.townships[hall], source, hall, work / "township.log", days=args.days,
                          load=args.load, speed=1000)  # fmt: skip
        log = read_log(source, hall)
        print(f"  {counts['issued']:,} tickets, {len(log):,} events waiting to be shipped", flush=True)
        for number in range(1, args.rounds + 1):
            rounds.append(one_round(number, cluster, args, work, configs, hall, port, log, source))
            r = rounds[-1]
            print(
                f"  round {number}: caught up {r.events:,} events in {r.done_s:.1f} s after the county was up",
                flush=True,
            )
    finally:
        cluster.remove()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    headers = ["round", "events", "county start-up s", "until first batch s", "transfer s", "catch-up s",
               "events/s (transfer)", "bare insert s", "bare events/s"]  # fmt: skip
    body: list[list[object]] = [
        [r.number, r.events, r.startup_s, r.first_s, r.transfer_s, r.done_s, r.events / r.transfer_s, r.bare_s,
         r.events / r.bare_s] for r in rounds
    ]  # fmt: skip
    catch_up = median([r.done_s for r in rounds])
    transfer = median([r.transfer_s for r in rounds])
    bare = median([r.bare_s for r in rounds])
    body.append(["median", rounds[0].events, median([r.startup_s for r in rounds]), median([r.first_s for r in rounds]),
                 transfer, catch_up, rounds[0].events / transfer, bare, rounds[0].events / bare])  # fmt: skip
    print(table(headers, body))
    print(f"\ncatch-up of {rounds[0].events:,} events ({args.days} day(s) offline): {catch_up:.1f} s after the county "
          f"answered (target <= {TARGET_S:.0f} s: {verdict(catch_up <= TARGET_S)}); transfer / bare insert time: "
          f"{transfer / bare:.1f}; the county's copy equals the township's log, row by row")  # fmt: skip
    print(f"now {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 0 if catch_up <= TARGET_S else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print(
            "\ninterrupted; every server process and the PostgreSQL cluster started here were stopped", file=sys.stderr
        )
        raise SystemExit(130) from None
