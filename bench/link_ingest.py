"""Link up ingest at a county on PostgreSQL: events/s from one township, and from 20 at once, against a bare insert.

Method
------
- Rows: one township's real event log: `--days` (1) simulated days of the demo hall played through its HTTP API
  while its county is down (bench/link_common.py `make_log`: the kiosk issues, the clerks call, start, finish
  with a case class or mark no-shows, citizens rate). Each hall's stream is that log repeated, its seq renumbered
  1, 2, 3, ... (every other field as the township wrote it), so every hall ships real rows of its own.
- County: `bianmin serve` (`--workers` processes, default 1) on a throwaway PostgreSQL cluster
  (tests/support/pg.py: fsync and synchronous_commit on), its configuration listing 20 townships (copies of the
  demo hall) with a link token each (as `bianmin link add`). Each measured run starts on a fresh copy of a
  migrated template database, so every run ingests into an empty county.
- Senders: batches of `--batch` (500, the shipper's default) events, serialized beforehand exactly as the shipper
  sends them (`{after, events, waiting, version}`), posted to `POST /api/v1/link/halls/{hall}/events` with the
  hall's token on a keep-alive connection of its own (bench/common.py's raw asyncio client); a hall posts its next
  batch when the county acknowledged the last (as the shipper does). One hall sends `--events` (20,000) events;
  then 20 halls send `--events-each` (5,000) each at once. Afterwards the county must hold exactly every event of
  every hall (count and last seq per hall), and every answer must have been 200.
- Baseline, in the same round: the same rows, in the same batches, inserted straight into PostgreSQL by as many
  clients as halls (one psycopg connection each, `synchronous_commit = on`, one transaction per batch) into a
  table shaped as `events` (same columns, primary key and index): bench/baselines/bare_event_insert.py.
- Rounds: `--rounds` (3) × (one hall, 20 halls, their baselines); the medians and their ratios are printed.

`--quick`: one round, 5,000 events from one hall and 1,000 from each of 20 (a shorter simulated day's log).

    .venv/bin/python bench/link_ingest.py [--quick] [--rounds 3] [--events 20000] [--events-each 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    HttpConnection,
    bianmin_server,
    build_request,
    code_version,
    free_port,
    machine_load,
    median,
    start_postgres,
    table,
    verdict,
)
from bench.link_common import county_template, make_log, read_log, write_configs

HALLS = 20
TEMPLATE = "link_template"


@dataclass
class Run:
    what: str
    round: int
    halls: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def stream(log: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` events: the log repeated, seq renumbered from 1."""
    return [{**log[n % len(log)], "seq": n + 1} for n in range(count)]


def batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def bodies(events: list[dict[str, Any]], size: int) -> list[bytes]:
    """The shipper's requests' bodies, serialized once."""
    out = []
    for chunk in batches(events, size):
        after = chunk[0]["seq"] - 1
        waiting = len(events) - chunk[-1]["seq"]
        out.append(json.dumps({"after": after, "events": chunk, "waiting": waiting, "version": "bench"},
                              ensure_ascii=False, separators=(",", ":")).encode())  # fmt: skip
    return out


def rows(hall: str, events: list[dict[str, Any]], size: int) -> list[list[tuple[Any, ...]]]:
    """The same batches as rows of the bare table."""
    return [
        [(hall, e["seq"], e["type"], e["at"], e["actor"], e["window"], e["post"], e["ticket_id"], e["payload"],
          e["public"]) for e in chunk]
        for chunk in batches(events, size)
    ]  # fmt: skip


async def send(port: int, plan: dict[str, list[bytes]], tokens: dict[str, str]) -> tuple[float, dict[int, int]]:
    """Each hall posts its batches in order on its own connection; the seconds, and the answers by status."""
    statuses: dict[int, int] = {}
    connections = {hall: await HttpConnection.open(port) for hall in plan}
    requests = {
        hall: [build_request("POST", f"/api/v1/link/halls/{hall}/events", port,
                             {"Authorization": f"Bearer {tokens[hall]}", "Content-Type": "application/json"}, body)
               for body in bodies_]
        for hall, bodies_ in plan.items()
    }  # fmt: skip

    async def ship(hall: str) -> None:
        for raw in requests[hall]:
            answer = await connections[hall].request(raw)
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            if answer.status != 200:
                raise RuntimeError(f"hall {hall}: {answer.status} {answer.body[:300]!r}")

    began = time.perf_counter()
    try:
        await asyncio.gather(*(ship(hall) for hall in plan))
    finally:
        for conn in connections.values():
            conn.close()
    return time.perf_counter() - began, statuses


def held(url: str) -> dict[str, tuple[int, int]]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        found = conn.execute("SELECT hall, count(*), max(seq) FROM events GROUP BY hall").fetchall()
    return {str(hall): (int(count), int(last)) for hall, count, last in found}


def county_run(cluster: Any, name: str, config: Path, work: Path, workers: int, plan: dict[str, list[bytes]],
               tokens: dict[str, str], expected: int) -> float:  # fmt: skip
    """A fresh county database, its server, the halls' batches; the seconds (checked: all held, once)."""
    cluster.drop_database(name)
    url = cluster.create_database(name, template=TEMPLATE)
    port = free_port()
    with bianmin_server(url, port, work / f"{name}.log", config, workers):
        seconds, statuses = asyncio.run(send(port, plan, tokens))
    copies = held(url)
    wrong = {hall: copies.get(hall) for hall in plan if copies.get(hall) != (expected, expected)}
    if wrong or set(statuses) != {200}:
        raise RuntimeError(f"the county does not hold every event once: {wrong}; answers {statuses}")
    cluster.drop_database(name)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000, help="events one hall sends alone")
    parser.add_argument("--events-each", type=int, default=5_000, help="events each of the 20 halls sends")
    parser.add_argument("--batch", type=int, default=500, help="events per request (the shipper's batch_size)")
    parser.add_argument("--days", type=int, default=1, help="simulated days of the township's real log")
    parser.add_argument("--workers", type=int, default=1, help="county server processes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.events, args.events_each = 1, 5_000, 1_000
    started = time.monotonic()
    print(f"link ingest: {code_version()}; {machine_load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-link-ingest-"))
    cluster = start_postgres()
    runs: list[Run] = []
    try:
        configs = write_configs(work, HALLS, f"http://127.0.0.1:{free_port()}")  # a county nobody listens on
        first = next(iter(configs.townships))
        township_db = work / "township.db"
        print(f"making a township's real log: {args.days} simulated day(s) through its HTTP API ...", flush=True)
        counts = make_log(configs.townships[first], township_db, first, work / "township.log", days=args.days,
                          load=0.7, speed=1000)  # fmt: skip
        log = read_log(township_db, first)
        size = sum(len(json.dumps(e, ensure_ascii=False)) for e in log) / len(log)
        print(f"  {len(log):,} events of {counts['issued']:,} tickets; {size:.0f} bytes an event as JSON", flush=True)
        tokens = county_template(cluster, TEMPLATE, configs.county, configs.tokens)
        halls = list(configs.townships)
        alone = stream(log, args.events)
        each = stream(log, args.events_each)
        one_plan = {first: bodies(alone, args.batch)}
        all_plan = {hall: bodies(each, args.batch) for hall in halls}
        for round_no in range(1, args.rounds + 1):
            seconds = county_run(cluster, "link_one", configs.county, work, args.workers, one_plan, tokens, args.events)
            runs.append(Run("county", round_no, 1, args.events, seconds))
            seconds = county_run(cluster, "link_all", configs.county, work, args.workers, all_plan, tokens,
                                 args.events_each)  # fmt: skip
            runs.append(Run("county", round_no, HALLS, args.events_each * HALLS, seconds))
            bare = cluster.create_database(f"bare_{round_no}")
            create_table(bare)
            runs.append(
                Run("bare insert", round_no, 1, args.events, insert_batches(bare, [rows(first, alone, args.batch)]))
            )
            create_table(bare)
            clients = [rows(hall, each, args.batch) for hall in halls]
            runs.append(Run("bare insert", round_no, HALLS, args.events_each * HALLS, insert_batches(bare, clients)))
            cluster.drop_database(f"bare_{round_no}")
            print("  round " + str(round_no) + ": " + ", ".join(
                f"{r.what} {r.halls} hall(s) {r.rate:,.0f} ev/s" for r in runs[-4:]), flush=True)  # fmt: skip
    finally:
        cluster.remove()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(table(["sender", "halls", "round", "events", "seconds", "events/s"],
                [[r.what, r.halls, r.round, r.events, r.seconds, r.rate] for r in runs]))  # fmt: skip
    print()
    summary = []
    for halls_sending in (1, HALLS):
        county = median([r.rate for r in runs if r.what == "county" and r.halls == halls_sending])
        bare = median([r.rate for r in runs if r.what == "bare insert" and r.halls == halls_sending])
        per_hall = county / halls_sending
        summary.append([halls_sending, county, per_hall, bare, county / bare])
    print(table(["halls sending", "county events/s (median)", "per hall", "bare insert events/s", "county / bare"],
                summary))  # fmt: skip
    print(f"\n(batches of {args.batch}, one transaction each on both sides; county: {args.workers} process(es); "
          f"{verdict(True)}: every event held once, every answer 200)")  # fmt: skip
    print(f"now {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print(
            "\ninterrupted; every server process and the PostgreSQL cluster started here were stopped", file=sys.stderr
        )
        raise SystemExit(130) from None
