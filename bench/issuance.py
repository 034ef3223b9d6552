"""Issuance throughput and latency of `bianmin serve`, next to a bare FastAPI + durable INSERT baseline.

Method
------
- Servers: each run starts its servers as child processes on 127.0.0.1 (uvloop + httptools) on a fresh
  database: an SQLite file in a temporary folder (`--backend sqlite`, the default), or a new database of
  one throwaway PostgreSQL cluster (`--backend postgresql`; fsync and synchronous_commit on), and stops
  them after the run. `--processes N` runs N server processes on the one database: N ports with the
  clients split evenly between them (`--split ports`, the default), or `bianmin serve --workers N` on one
  port (`--split workers`); the baselines always run N processes on N ports.
  * bianmin: `bianmin serve --db DB --config CFG`, where CFG is a temporary copy of the bundled demo hall
    (9 categories) with every `daily_cap` raised to 9,999 — the demo caps (100–300 per category) would be
    reached within a second or two at full speed. The kiosk token is added to the database in this
    process before the servers start (bench/common.py `seed`).
  * baselines: `bench/baselines/bare_insert.py`, one FastAPI POST route at the same path, with the same
    body and headers, doing one durable INSERT (SQLite: WAL, synchronous=FULL; PostgreSQL:
    synchronous_commit=on) through one writer thread per process, in two forms:
    - "bare, group commit" (the like-for-like baseline): the writer takes every insert waiting, up to 64
      (the store's MAX_BATCH), and runs them in one transaction with one durable commit, as the store's
      writer does (`Store._work` / `_commit_group`);
    - "bare, 1 commit per request": one transaction and one fsync per request, the baseline this bench
      used before; shown for comparison only (it pays an fsync per request where the server pays one per
      group, so its ratio flatters issuance).
- Load: 50 keep-alive connections from this process (raw asyncio HTTP/1.1 on uvloop, see common.py),
  each sending its next request as soon as the previous answer arrived (closed loop). Every request
  has a new `Idempotency-Key`; categories go round-robin over all 9, so every category gets the same
  share. Requests answered during the warm-up (2 s) are not counted; throughput is the answers
  completed in the measured period (10 s) divided by its length; latency is send → last byte of the
  answer. Any answer other than 201 is reported (and the run is marked invalid).
- Runs: 3 rounds, each the two baselines then bianmin (interleaved, so drift of the shared machine hits
  them alike); the table shows each run and the medians. The ratio is median bianmin throughput / median
  group-commit baseline throughput. Target: >= 0.60.
- Queue depth: a fresh database starts with an empty queue, and every issued ticket stays waiting
  (nobody calls), so the queue grows during a run. The second table splits the median bianmin run's
  answers by ticket id (= tickets issued so far) to show how throughput depends on the queue length.
- Server CPU: user + system CPU seconds of the server processes (with their workers; not PostgreSQL's)
  during the measured period, per request.

`--quick` runs one round of 1 s warm-up + 3 s. The load generator shares the machine's cores with the
server, and so do other processes: the load average and CPU pressure are printed before and after.

    .venv/bin/python bench/issuance.py [--quick] [--backend sqlite|postgresql] [--processes N]
        [--split ports|workers] [--rounds N] [--seconds S] [--clients N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH,
    CATEGORIES,
    HALL,
    PYTHON,
    LoadResult,
    Response,
    ServerProcess,
    bianmin_server,
    build_request,
    closed_loop,
    code_version,
    config_with_caps,
    free_port,
    group_cpu_seconds,
    install_uvloop,
    machine_load,
    median,
    percentile,
    seed,
    start_postgres,
    table,
    verdict,
)

TARGET_RATIO = 0.60
BATCH = 64  # the store's MAX_BATCH (queue_server/store/writer.py): the like-for-like baseline batches as much
DAILY_CAP = 9999  # the schema's largest cap
DEPTH_BINS = 5  # the queue-length table splits a run's tickets into about this many bins (of whole hundreds)
ID_RE = re.compile(rb'"id":(\d+)')


@dataclass
class Run:
    server: str
    round: int
    throughput: float
    p50: float
    p99: float
    requests: int
    cpu_ms_per_request: float
    errors: list[str]
    statuses: dict[int, int]
    tickets: int = 0  # bianmin: tickets issued by the end of the run
    observed: list[tuple[int, float, float]] = field(default_factory=list)  # (ticket id, done, latency ms)


PER_REQUEST = "bare, 1 commit per request"
GROUPED = "bare, group commit"
BIANMIN = "bianmin issuance"


def request_maker(port: int, token: str | None, run_tag: str) -> object:
    """make_request(client, n): a POST of a new ticket with a new key; categories round-robin."""
    bodies = [f'{{"category":"{c}"}}'.encode() for c in CATEGORIES]
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    counter = 0

    def make(client: int, n: int) -> bytes:
        nonlocal counter
        counter += 1
        headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": f"{run_tag}-{client}-{n}"}
        return build_request("POST", f"/api/v1/halls/{HALL}/tickets", port, headers, bodies[counter % len(bodies)])

    return make


async def drive(
    servers: list[ServerProcess], make: object, args: argparse.Namespace, keep_ids: bool
) -> tuple[LoadResult, float, list[tuple[int, float, float]]]:
    observed: list[tuple[int, float, float]] = []
    cpu: list[float] = []

    def observe(response: Response, done: float, latency: float) -> None:
        if keep_ids:
            found = ID_RE.search(response.body)
            observed.append((int(found.group(1)) if found else -1, done, latency))

    def server_cpu() -> float:
        return sum(group_cpu_seconds(s.pid) for s in servers)  # with --workers, the workers too

    async def sample_cpu() -> None:
        await asyncio.sleep(args.warmup)
        cpu.append(server_cpu())

    result, _ = await asyncio.gather(
        closed_loop(
            [s.port for s in servers], args.clients, make, args.warmup, args.seconds,  # type: ignore[arg-type]
            expect=lambda r: r.status == 201, observe=observe,
        ),
        sample_cpu(),
    )  # fmt: skip
    cpu.append(server_cpu())
    return result, (cpu[1] - cpu[0]), observed


class Databases:
    """A fresh database per run: an SQLite file in the run's folder, or a new database of one PostgreSQL cluster."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.cluster = start_postgres() if backend == "postgresql" else None
        self.count = 0

    def new(self, folder: Path, name: str) -> str:
        if self.cluster is None:
            return str(folder / f"{name}.db")
        self.count += 1
        return str(self.cluster.create_database(f"{name}_{self.count}"))


def run_bare(work: Path, dbs: Databases, round_no: int, batch: int, args: argparse.Namespace) -> Run:
    name = GROUPED if batch > 1 else PER_REQUEST
    folder = work / f"bare-{batch}-{round_no}"
    folder.mkdir(parents=True)
    db = dbs.new(folder, "bare")
    servers = []
    try:
        for n in range(args.processes):  # one after the other: the first creates the table
            port = free_port()
            argv = [PYTHON, str(BENCH / "baselines" / "bare_insert.py"), "--port", str(port), "--db", db,
                    "--batch", str(batch)]  # fmt: skip
            servers.append(ServerProcess("bare_insert", argv, port, folder / f"server-{n}.log").start())
        result, cpu, _ = asyncio.run(drive(servers, request_maker(servers[0].port, None, f"r{round_no}"), args, False))
    finally:
        for server in servers:
            server.stop()
    return Run(
        name, round_no, result.throughput, result.p50, result.p99, result.requests,
        1000 * cpu / max(result.requests, 1), result.errors, result.statuses,
    )  # fmt: skip


def run_bianmin(work: Path, dbs: Databases, round_no: int, config: Path, args: argparse.Namespace) -> Run:
    folder = work / f"bianmin-{round_no}"
    folder.mkdir(parents=True)
    db = dbs.new(folder, "bianmin")
    token = seed(db, config).kiosks["kiosk-1"]
    servers = []
    try:
        if args.split == "workers" and args.processes > 1:
            port = free_port()
            servers.append(bianmin_server(db, port, folder / "server.log", config, workers=args.processes).start())
        else:
            for n in range(args.processes):
                port = free_port()
                servers.append(bianmin_server(db, port, folder / f"server-{n}.log", config).start())
        result, cpu, observed = asyncio.run(
            drive(servers, request_maker(servers[0].port, token, f"r{round_no}"), args, True)
        )
    finally:
        for server in servers:
            server.stop()
    return Run(
        BIANMIN, round_no, result.throughput, result.p50, result.p99, result.requests,
        1000 * cpu / max(result.requests, 1), result.errors, result.statuses,
        tickets=max((i for i, _, _ in observed), default=0), observed=observed,
    )  # fmt: skip


def depth_rows(observed: list[tuple[int, float, float]]) -> list[list[object]]:
    last = max((i for i, _, _ in observed), default=0)
    size = max(100, -(-last // DEPTH_BINS // 100) * 100)
    bins: dict[int, list[tuple[float, float]]] = {}
    for ticket_id, done, latency in observed:
        if ticket_id > 0:
            bins.setdefault((ticket_id - 1) // size, []).append((done, latency))
    rows: list[list[object]] = []
    for index in sorted(bins):
        points = bins[index]
        times = [d for d, _ in points]
        span = max(times) - min(times)
        if len(points) < 20 or span <= 0:
            continue
        latencies = [lat for _, lat in points]
        rows.append([
            f"{index * size + 1}-{(index + 1) * size}", len(points), (len(points) - 1) / span,
            percentile(latencies, 50), percentile(latencies, 99),
        ])  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description="Issuance throughput and latency against a bare baseline.")
    parser.add_argument("--quick", action="store_true", help="one round of 1 s warm-up + 3 s")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--processes", type=int, default=1, help="server processes on the one database")
    parser.add_argument("--split", choices=("ports", "workers"), default="ports",
                        help="several processes: one port each, the clients split between them; or"
                             " `bianmin serve --workers N` on one port (the baseline: one port each)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, server logs)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.warmup, args.seconds = 1, 1.0, 3.0
    install_uvloop()

    work = Path(tempfile.mkdtemp(prefix="bench-issuance-"))
    started = time.monotonic()
    split = f" ({args.split})" if args.processes > 1 else ""
    print(f"issuance on {args.backend}, {args.processes} server process(es){split}: {args.clients} keep-alive"
          f" clients, {args.rounds} round(s) of {args.warmup:g} s warm-up + {args.seconds:g} s;"
          f" {os.cpu_count()} CPUs; {machine_load()}")  # fmt: skip
    print(f"  {code_version()}")
    runs: list[Run] = []
    dbs: Databases | None = None
    try:
        dbs = Databases(args.backend)
        config = config_with_caps(work / "config", DAILY_CAP)
        for round_no in range(1, args.rounds + 1):
            for kind in (PER_REQUEST, GROUPED, BIANMIN):
                if kind == BIANMIN:
                    run = run_bianmin(work, dbs, round_no, config, args)
                else:
                    run = run_bare(work, dbs, round_no, BATCH if kind == GROUPED else 1, args)
                runs.append(run)
                print(f"  round {round_no} {run.server}: {run.throughput:,.0f} req/s", flush=True)
    finally:
        if dbs is not None and dbs.cluster is not None:
            dbs.cluster.remove()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    groups = {name: [r for r in runs if r.server == name] for name in (PER_REQUEST, GROUPED, BIANMIN)}
    rows: list[list[object]] = [
        [r.server, str(r.round), r.throughput, r.p50, r.p99, r.requests, r.cpu_ms_per_request,
         r.tickets or "-", "ok" if not r.errors else "ERRORS"]
        for r in runs
    ]  # fmt: skip
    for name, group in groups.items():
        rows.append([
            name, "median", median([r.throughput for r in group]), median([r.p50 for r in group]),
            median([r.p99 for r in group]), int(median([r.requests for r in group])),
            median([r.cpu_ms_per_request for r in group]), "", "",
        ])  # fmt: skip
    print()
    headers = ["server", "run", "req/s", "p50 ms", "p99 ms", "requests", "server CPU ms/req", "tickets", "answers"]
    print(table(headers, rows))

    def ratio(field_name: str, baseline: str) -> float:
        real = median([getattr(r, field_name) for r in groups[BIANMIN]])
        return real / median([getattr(r, field_name) for r in groups[baseline]])

    like = ratio("throughput", GROUPED)
    print(f"\nissuance / like-for-like baseline (group commit of up to {BATCH}) throughput: {like:.2f}"
          f"  (target >= {TARGET_RATIO:.2f}: {verdict(like >= TARGET_RATIO)})")  # fmt: skip
    print(f"issuance / like-for-like baseline p50 latency: {ratio('p50', GROUPED):.2f},"
          f" p99: {ratio('p99', GROUPED):.2f}")  # fmt: skip
    print(f"issuance / like-for-like baseline server CPU per request: {ratio('cpu_ms_per_request', GROUPED):.1f}")
    print(f"(the old per-request baseline: throughput ratio {ratio('throughput', PER_REQUEST):.2f},"
          f" p99 ratio {ratio('p99', PER_REQUEST):.2f}; it pays one fsync per request where issuance pays one"
          " per group, so it flatters issuance)")  # fmt: skip

    middle = sorted(groups[BIANMIN], key=lambda r: r.throughput)[len(groups[BIANMIN]) // 2]
    depth = depth_rows(middle.observed)
    if depth:
        print(f"\nbianmin run {middle.round} by queue length (tickets waiting = ticket id; nobody is called):")
        print(table(["tickets issued", "answers", "req/s", "p50 ms", "p99 ms"], depth))

    failed = [r for r in runs if r.errors]
    for r in failed:
        print(f"\n{r.server} run {r.round}: unexpected answers {r.statuses}; first: {r.errors[0]}")
    print(f"\nnow {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; every server and subscriber process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
