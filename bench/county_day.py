"""A county center's day on PostgreSQL with 2 server processes: call → every subscriber, under a day's load.

Method
------
- Hall: a temporary copy of the demo hall with 60 windows (window n serves two of the 9 categories,
  its A-post clerk is `c01` … `c60`) and every `daily_cap` raised to 9,999. Database: a throwaway
  PostgreSQL cluster (tests/support/pg.py: fsync and synchronous_commit on), a fresh database per round;
  the 60 clerks and a manager (logged in: their sessions are rows of the database) and the kiosk token
  are added in this process before the servers start, and so is the morning's queue: `--tickets` (5,000)
  − `--live-tickets` (500) tickets issued through the store and the issuing service as the kiosk route
  runs them. This is done once, in a template database; each round starts on a copy of it.
- Servers: 2 `bianmin serve` processes on two ports on the one database (`--processes`). Clerk n opens
  window n on process n mod 2 and works there; every other client is split evenly between the processes.
- Subscribers: `--boards` (150) `websockets` connections to `/ws/halls/qingshan/board` and `--phones`
  (1,000) to `/ws/halls/qingshan/board?category=X`, the phones spread evenly over the 9 categories (a
  phone follows its ticket's category, queue_server/topics.py; `--phones-follow hall`: the whole hall, as
  before), half on each process, held by `--subscriber-processes` (4) child processes (see
  common.SubscriberPool: the receive time is taken when the bytes are read from the socket). A board checks
  every message it gets: the seq after its snapshot's, then each next one exactly. A phone keeps every seq
  it got, and afterwards they must be exactly the seqs of its category's messages (topics.follows) in the
  day's stream, as a probe board in this process received it, in order.
- The day, for `--seconds` (30 s), all at once:
  * clerks: each of the 60 calls the next ticket (`call-next`), starts it, finishes it, spread over a
    cycle of 60 / `--call-rate` seconds (random phases), so the hall calls `--call-rate` (3) tickets a
    second; the latency of a call is from just before its `call-next` POST is sent to each subscriber's
    receipt of that call message (CLOCK_MONOTONIC, one clock for all processes);
  * kiosks: the `--live-tickets` remaining tickets issued evenly over the period on both processes;
  * a manager's month report (`GET .../reports?period=month&by=category`) back to back, alternating
    between the processes;
  * phones refreshing their status (`GET .../tickets/{track_token}`, random waiting tickets) at
    `--status-rate` (50) a second, each phone connection from its own loopback address.
  Afterwards every board must have ended at the hall's last seq (from `GET .../board` on both
  processes), with no seq skipped, repeated or out of order, every phone must have got exactly its
  category's seqs, and every call must have reached every board and every phone of a category it concerns:
  any violation is counted and fails the run.
- Baselines, in the same round: `bench/baselines/bare_broadcast.py`, one process, the same number of
  subscribers (in the same subscriber processes), replaying the day's message stream exactly — every
  message the probe received during the day, at the same offsets in time, with the same type, byte size
  and topic (calls are calls) — each one serialized once and sent in a plain loop on `POST /broadcast`.
  Its latency is from just before that POST to receipt of the call messages. It runs twice:
  * "every socket": every message to all the sockets, boards and phones alike (the issue's "a bare
    single-process broadcast to the same number of sockets"; what the day sent before phones followed a
    category);
  * "same recipients": the phones follow the same categories, so each message goes to the boards and the
    phones it concerns (the fan-out's own cost, like for like). With `--phones-follow hall` it is the first.
- Rounds: `--rounds` (3) × (county day, baselines). Target: the day's call → subscriber p99 <= 1.2 × the
  "every socket" baseline's p99; the ratio to "same recipients" is printed beside it. All processes
  (PostgreSQL, servers, subscribers, this controller) share the machine.

`--quick`: one round of 15 s with 200 phones, 30 boards and 1,000 tickets.

    .venv/bin/python bench/county_day.py [--quick] [--rounds 3] [--seconds 30] [--call-rate 3] [--phones-follow hall]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH,
    CATEGORIES,
    HALL,
    PYTHON,
    HttpConnection,
    Seeded,
    ServerProcess,
    SubscriberPool,
    bianmin_server,
    build_request,
    client_address,
    code_version,
    config_with_caps,
    fill_queue,
    free_port,
    install_uvloop,
    machine_load,
    median,
    percentile,
    raise_nofile,
    request_json,
    seed,
    start_postgres,
    table,
    verdict,
)
from config.loader import load_config
from queue_server.store.stages import STAGES
from queue_server.topics import Topic, WindowCategories, follows, topic, window_categories

TARGET_RATIO = 1.2
DAILY_CAP = 9999
WINDOWS = 60
MANAGER = "boss"
BOARD_PATH = f"/ws/halls/{HALL}/board"
API = f"/api/v1/halls/{HALL}"
TEMPLATE = "county_template"
FINISH = {"case_class": "immediate"}  # 即办件


def clerk(number: int) -> str:
    return f"c{number:02d}"


def county_config(dest: Path, windows: int) -> Path:
    """The demo hall with `windows` windows (two categories each, clerk cNN on the A post) and caps of 9,999."""
    path = config_with_caps(dest, DAILY_CAP)
    text = path.read_text(encoding="utf-8")
    # Drop the demo's windows (each block runs to the next table header) and add ours at the end: the
    # file has one hall, so [[halls.windows]] there still belongs to it.
    text = re.sub(r"(?ms)^\[\[halls\.windows\]\]\n.*?(?=^\[|\Z)", "", text)
    blocks = []
    for n in range(1, windows + 1):
        first, second = CATEGORIES[(n - 1) % len(CATEGORIES)], CATEGORIES[(n + 3) % len(CATEGORIES)]
        blocks.append(
            f'[[halls.windows]]\nnumber = {n}\nname_zh = "{n}号窗口"\nname_en = "Window {n}"\n'
            f'categories = ["{first}", "{second}"]\na_post = "{clerk(n)}"\n'
        )
    path.write_text(text.rstrip() + "\n\n" + "\n".join(blocks), encoding="utf-8")
    loaded = load_config(path)
    if len(loaded.hall(HALL).windows) != windows:
        raise RuntimeError(f"the county configuration {path} does not have {windows} windows")
    return path


class Heard(NamedTuple):
    """One message of the day's stream, as the probe board received it."""

    ns: int
    kind: str
    size: int  # bytes
    seq: int
    topic: Topic  # the categories it concerns (None: everyone)
    number: str | None  # a call's ticket number


@dataclass(frozen=True)
class Audience:
    """Who is subscribed: boards (the whole hall) and phones, by the category each follows (None: the hall)."""

    boards: int
    phones: dict[str | None, int]

    @classmethod
    def of(cls, args: argparse.Namespace) -> Audience:
        if args.phones_follow == "hall":
            return cls(args.boards, {None: args.phones})
        k = len(CATEGORIES)
        return cls(
            args.boards, {c: args.phones // k + (1 if i < args.phones % k else 0) for i, c in enumerate(CATEGORIES)}
        )

    @property
    def total(self) -> int:
        return self.boards + sum(self.phones.values())

    def of_topic(self, message_topic: Topic) -> int:
        """How many subscribers a message of this topic is sent to."""
        return self.boards + sum(n for category, n in self.phones.items() if follows(category, message_topic))

    def connect(self, pool: SubscriberPool, port: int, share: int, parts: int, check_order: bool) -> None:
        """Connect this process's `share` (1 of `parts`) of every group to the server on `port`."""
        groups: list[tuple[str | None, int, bool]] = [(None, self.boards, False)]
        groups += [(category, n, category is not None) for category, n in self.phones.items()]
        for category, n, follower in groups:
            count = n // parts + (1 if share < n % parts else 0)
            if count:
                query = f"?category={category}" if category is not None else ""
                pool.connect(f"ws://127.0.0.1:{port}{BOARD_PATH}{query}", count, check_order,
                             follow=category if follower and check_order else None)  # fmt: skip


def fill(db: str, config: Path, count: int) -> list[str]:
    """Issue `count` tickets in this process through the store (the morning's queue); their tracking tokens."""
    return fill_queue(db, config, range(count), "morning")


@dataclass
class DayLog:
    """What the day's clients did and saw (this process)."""

    calls: list[tuple[str, int]] = field(default_factory=list)  # (ticket number, trigger ns)
    call_http_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)  # by kind of request
    report_ms: list[float] = field(default_factory=list)
    status_ms: list[float] = field(default_factory=list)
    issue_ms: list[float] = field(default_factory=list)
    stream: list[Heard] = field(default_factory=list)  # every message the probe board received
    probe_seq: int = 0  # the seq of the probe's snapshot
    issued_tokens: list[str] = field(default_factory=list)
    #: Per server process, per writer stage: (transactions or jobs, mean ms, p99 bound ms), from its /metrics.
    stages: list[dict[str, tuple[int, float, float]]] = field(default_factory=list)
    snapshot_size: int = 3000

    def count(self, kind: str, status: int) -> None:
        bucket = self.statuses.setdefault(kind, {})
        bucket[status] = bucket.get(status, 0) + 1


@dataclass
class Run:
    server: str
    round: int
    subscribers: int
    calls: int
    p50: float
    p99: float
    max: float
    last_p50: float
    missing: int
    samples: int
    order: dict[str, Any] = field(default_factory=dict)
    day: DayLog | None = None
    expected: int = 0  # call receipts due (each call: the boards + the phones of a category it concerns)
    phone_problems: list[str] = field(default_factory=list)  # the phones' seqs against the probe's stream
    wrong_phones: int = 0


async def open_windows(ports: list[int], clerks: dict[int, str]) -> None:
    """Each clerk opens its window on its process (window n on process n mod 2)."""
    for n, token in clerks.items():
        port = ports[n % len(ports)]
        conn = await HttpConnection.open(port)
        try:
            status, answer = await request_json(
                conn, port, "POST", f"{API}/windows/{n}/open", {"post": "A"}, {"Authorization": f"Bearer {token}"}
            )
        finally:
            conn.close()
        if status != 200:
            raise RuntimeError(f"opening window {n} failed: {status} {answer}")


async def run_day(
    ports: list[int],
    clerks: dict[int, str],
    manager: str,
    kiosk: str,
    tokens: list[str],
    windows: WindowCategories,
    args: argparse.Namespace,
) -> DayLog:
    """The day's load for args.seconds; returns what was triggered and measured."""
    from websockets.asyncio.client import connect

    log = DayLog()
    loop = asyncio.get_running_loop()
    end = loop.time() + args.seconds
    cycle = WINDOWS / args.call_rate  # seconds between two calls of one window
    rng = random.Random(args.seed)

    async def probe() -> None:
        # One subscriber in this process records the day's message stream for the baseline to replay.
        async with connect(f"ws://127.0.0.1:{ports[0]}{BOARD_PATH}", compression=None, ping_interval=None) as ws:
            snapshot = await ws.recv()
            log.snapshot_size = len(snapshot.encode() if isinstance(snapshot, str) else snapshot)
            log.probe_seq = int(json.loads(snapshot)["seq"])
            while True:
                message = await ws.recv()
                at = time.monotonic_ns()
                text = message if isinstance(message, str) else message.decode()
                body = json.loads(text)
                number = body["ticket"]["number"] if body["type"] == "call" else None
                heard = Heard(at, body["type"], len(text.encode()), int(body["seq"]), topic(body, windows), number)
                log.stream.append(heard)

    async def window(n: int) -> None:
        port = ports[n % len(ports)]
        auth = {"Authorization": f"Bearer {clerks[n]}"}
        conn = await HttpConnection.open(port)
        base = f"{API}/windows/{n}"
        try:
            await asyncio.sleep(rng.uniform(0, cycle))
            while loop.time() < end:
                if conn.closed:  # left idle past the server's keep-alive timeout (a slow --call-rate)
                    conn = await HttpConnection.open(port)
                t0 = time.monotonic_ns()
                status, answer = await request_json(conn, port, "POST", f"{base}/call-next", None, auth)
                log.call_http_ms.append((time.monotonic_ns() - t0) / 1e6)
                log.count("call-next", status)
                if status != 200:
                    if len(log.errors) < 5:
                        log.errors.append(f"window {n} call-next: {status} {answer}")
                    await asyncio.sleep(cycle)
                    continue
                log.calls.append((answer["ticket"]["number"], t0))  # type: ignore[index]
                for action, body in (("start", None), ("finish", FINISH)):
                    await asyncio.sleep(cycle / 3 * rng.uniform(0.5, 1.5))
                    if conn.closed:
                        conn = await HttpConnection.open(port)
                    status, answer = await request_json(conn, port, "POST", f"{base}/{action}", body, auth)
                    log.count(action, status)
                    if status != 200 and len(log.errors) < 5:
                        log.errors.append(f"window {n} {action}: {status} {answer}")
                await asyncio.sleep(cycle / 3 * rng.uniform(0.5, 1.5))
        finally:
            conn.close()

    async def kiosk_loop(index: int, kiosks: int) -> None:
        port = ports[index % len(ports)]
        share = args.live_tickets // kiosks + (1 if index < args.live_tickets % kiosks else 0)
        if share == 0:
            return
        interval = args.seconds / share
        headers = {"Authorization": f"Bearer {kiosk}"}
        conn = await HttpConnection.open(port)
        try:
            await asyncio.sleep(rng.uniform(0, interval))
            for n in range(share):
                if loop.time() >= end:
                    return
                t0 = time.perf_counter()
                body = {"category": CATEGORIES[(index + n) % len(CATEGORIES)]}
                status, answer = await request_json(
                    conn, port, "POST", f"{API}/tickets", body, {**headers, "Idempotency-Key": f"live-{index}-{n}"}
                )
                log.issue_ms.append((time.perf_counter() - t0) * 1000)
                log.count("issue", status)
                if status == 201:
                    log.issued_tokens.append(str(answer["track_token"]))  # type: ignore[index]
                elif len(log.errors) < 5:
                    log.errors.append(f"issue: {status} {answer}")
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))
        finally:
            conn.close()

    async def reports() -> None:
        conns = [await HttpConnection.open(p) for p in ports]
        auth = {"Authorization": f"Bearer {manager}"}
        raws = [build_request("GET", f"{API}/reports?period=month&by=category", p, auth) for p in ports]
        n = 0
        try:
            while loop.time() < end:
                t0 = time.perf_counter()
                answer = await conns[n % len(conns)].request(raws[n % len(raws)])
                log.report_ms.append((time.perf_counter() - t0) * 1000)
                log.count("report", answer.status)
                n += 1
        finally:
            for c in conns:
                c.close()

    async def phones(index: int, connections: int) -> None:
        port = ports[index % len(ports)]
        rate = args.status_rate / connections
        conn = await HttpConnection.open(port, source=client_address(index))
        try:
            await asyncio.sleep(rng.uniform(0, 1 / rate))
            while loop.time() < end:
                t0 = time.perf_counter()
                answer = await conn.request(build_request("GET", f"{API}/tickets/{rng.choice(tokens)}", port))
                log.status_ms.append((time.perf_counter() - t0) * 1000)
                log.count("status", answer.status)
                await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - t0)))
        finally:
            conn.close()

    recorder = asyncio.create_task(probe())
    await asyncio.sleep(0.5)
    # Each phone connection reads at most 2 a second: far below the per-address limit.
    phone_connections = max(1, min(200, int(args.status_rate / 2))) if args.status_rate > 0 else 0
    kiosks = 2 * len(ports)
    await asyncio.gather(
        *(window(n) for n in range(1, WINDOWS + 1)),
        *(kiosk_loop(i, kiosks) for i in range(kiosks)),
        *(phones(i, phone_connections) for i in range(phone_connections)),
        *([reports()] if args.reports else []),
    )
    await asyncio.sleep(1.0)  # the last messages reach the probe
    recorder.cancel()
    await asyncio.gather(recorder, return_exceptions=True)
    return log


async def replay(port: int, stream: list[Heard]) -> tuple[list[tuple[str, int]], dict[str, Topic]]:
    """Send the recorded stream to the bare broadcast at the same offsets; the calls' (number, trigger ns), and
    each call's topic by number."""
    conn = await HttpConnection.open(port)
    triggers: list[tuple[str, int]] = []
    topics: dict[str, Topic] = {}
    try:
        begin = time.monotonic_ns()
        first = stream[0].ns if stream else 0
        for n, heard in enumerate(stream, start=1):
            delay = (heard.ns - first) - (time.monotonic_ns() - begin)
            if delay > 0:
                await asyncio.sleep(delay / 1e9)
            if conn.closed:  # a quiet stream leaves it idle past the keep-alive timeout
                conn = await HttpConnection.open(port)
            body = {"n": n, "size": heard.size, "type": heard.kind,
                    "topic": None if heard.topic is None else sorted(heard.topic)}  # fmt: skip
            t0 = time.monotonic_ns()
            status, answer = await request_json(conn, port, "POST", "/broadcast", body)
            if status != 200:
                raise RuntimeError(f"broadcast answered {status}: {answer}")
            if heard.kind == "call":
                triggers.append((f"X{n:05d}", t0))
                topics[f"X{n:05d}"] = heard.topic
    finally:
        conn.close()
    return triggers, topics


def call_topics(stream: list[Heard]) -> dict[str, Topic]:
    return {h.number: h.topic for h in stream if h.number is not None}


def latencies(
    name: str, round_no: int, audience: Audience, triggers: list[tuple[str, int]], topics: Mapping[str, Topic],
    stamps: dict[str, list[tuple[int, int]]],
) -> Run:  # fmt: skip
    """Call → receipt figures; a call the probe did not hear is due to everyone (and so counts as missing)."""
    socket_ms: list[float] = []
    last_ms: list[float] = []
    missing = expected = 0
    for number, t0 in triggers:
        got = stamps.get(number, [])
        due = audience.of_topic(topics[number]) if number in topics else audience.total
        expected += due
        missing += max(0, due - len(got))
        these = [(rx - t0) / 1e6 for rx, _ in got]
        socket_ms += these
        if these:
            last_ms.append(max(these))
    run = Run(
        name, round_no, audience.total, len(triggers), percentile(socket_ms, 50), percentile(socket_ms, 99),
        max(socket_ms, default=float("nan")), median(last_ms), missing, len(socket_ms),
    )  # fmt: skip
    run.expected = expected
    return run


async def final_seqs(ports: list[int]) -> list[int]:
    seqs = []
    for port in ports:
        conn = await HttpConnection.open(port)
        try:
            status, answer = await request_json(conn, port, "GET", f"{API}/board")
        finally:
            conn.close()
        if status != 200:
            raise RuntimeError(f"GET board answered {status}")
        seqs.append(int(answer["seq"]))  # type: ignore[index]
    return seqs


def writer_stages(port: int) -> dict[str, tuple[int, float, float]]:
    """A server's writer stages for the whole run (store/stages.py): count, mean and the p99's bucket bound, in ms."""
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", trust_env=False, timeout=10)
    answer.raise_for_status()
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    buckets: dict[str, list[tuple[float, float]]] = {}
    for family in text_string_to_metric_families(answer.text):
        if family.name != "bianmin_writer_stage_seconds":
            continue
        for sample in family.samples:
            stage = sample.labels.get("stage", "")
            if sample.name.endswith("_sum"):
                sums[stage] = sample.value
            elif sample.name.endswith("_count"):
                counts[stage] = sample.value
            elif sample.name.endswith("_bucket"):
                buckets.setdefault(stage, []).append((float(sample.labels["le"]), sample.value))
    found = {}
    for stage, count in counts.items():
        if not count:
            continue
        bound = next(le for le, cumulative in sorted(buckets[stage]) if cumulative >= 0.99 * count)
        found[stage] = (int(count), 1000 * sums[stage] / count, 1000 * bound)
    return found


def template(cluster: Any, config: Path, args: argparse.Namespace) -> tuple[str, Seeded, list[str]]:
    """A database every round starts from (a copy): the accounts, logged in, the kiosk, the morning's queue."""
    started = time.monotonic()
    db = str(cluster.create_database(TEMPLATE))
    staff = [(clerk(n), "clerk") for n in range(1, WINDOWS + 1)] + [(MANAGER, "manager")]
    seeded = seed(db, config, staff=staff, log_in=True, cheap_hashes=True)
    tokens = fill(db, config, args.tickets - args.live_tickets)
    print(f"  {len(staff)} staff logged in, {len(tokens):,} morning tickets issued"
          f" ({time.monotonic() - started:.1f} s)", flush=True)  # fmt: skip
    return TEMPLATE, seeded, tokens


def county_round(
    work: Path, cluster: Any, base: tuple[str, Seeded, list[str]], config: Path, pool: SubscriberPool,
    round_no: int, args: argparse.Namespace,
) -> Run:  # fmt: skip
    folder = work / f"day-{round_no}"
    folder.mkdir(parents=True)
    name, seeded, tokens = base
    started = time.monotonic()
    db = str(cluster.create_database(f"county_{round_no}", template=name))
    servers: list[ServerProcess] = []
    try:
        for n in range(args.processes):
            servers.append(bianmin_server(db, free_port(), folder / f"server-{n}.log", config).start())
        ports = [s.port for s in servers]
        clerks = {n: seeded.sessions[clerk(n)] for n in range(1, WINDOWS + 1)}
        asyncio.run(open_windows(ports, clerks))
        audience = Audience.of(args)
        for i, port in enumerate(ports):
            audience.connect(pool, port, i, len(ports), check_order=True)
        print(f"  round {round_no}: servers up, {WINDOWS} windows open, {audience.total:,} subscribers connected"
              f" ({time.monotonic() - started:.0f} s)", flush=True)  # fmt: skip
        time.sleep(0.5)
        windows = window_categories(load_config(config).hall(HALL))
        sessions, kiosk = seeded.sessions, seeded.kiosks["kiosk-1"]
        day = asyncio.run(run_day(ports, clerks, sessions[MANAGER], kiosk, tokens, windows, args))
        time.sleep(1.0)
        seqs = asyncio.run(final_seqs(ports))
        day.stages = [writer_stages(port) for port in ports]
        run = latencies("county day", round_no, audience, day.calls, call_topics(day.stream), pool.report())
        run.order = pool.order()
        run.order["final_seqs"] = seqs
        run.phone_problems, run.wrong_phones = trail_problems(run.order["trails"], day, max(seqs))
        run.day = day
        pool.close_connections()
    finally:
        for server in servers:
            server.stop()
    return run


EVERY_SOCKET = "bare, every socket"
SAME_RECIPIENTS = "bare, same recipients"


def baseline_round(
    work: Path, pool: SubscriberPool, day: DayLog, round_no: int, name: str, args: argparse.Namespace
) -> Run:
    """The day's stream replayed on a bare broadcast: to every socket (the issue's "a bare broadcast to the same
    number of sockets") or to the same recipients as the day (the boards, and the phones of each category)."""
    port = free_port()
    argv = [PYTHON, str(BENCH / "baselines" / "bare_broadcast.py"), "--port", str(port), "--hello-size",
            str(day.snapshot_size)]  # fmt: skip
    audience = Audience.of(args) if name == SAME_RECIPIENTS else Audience(args.boards + args.phones, {})
    with ServerProcess("bare_broadcast", argv, port, work / f"bare-{round_no}-{len(audience.phones)}.log"):
        audience.connect(pool, port, 0, 1, check_order=False)
        time.sleep(0.5)
        triggers, topics = asyncio.run(replay(port, day.stream))
        time.sleep(1.0)
        run = latencies(name, round_no, audience, triggers, topics, pool.report())
        pool.close_connections()
    return run


def trail_problems(trails: list[tuple[str, list[int]]], day: DayLog, final: int) -> tuple[list[str], int]:
    """Each category follower's seqs against its category's messages in the probe's stream after its snapshot;
    the problems and how many phones' seqs were wrong."""
    problems = []
    heard = [h.seq for h in day.stream]
    if heard != list(range(day.probe_seq + 1, day.probe_seq + 1 + len(heard))):
        problems.append(f"the probe board's own stream is not every seq after its snapshot's {day.probe_seq}")
    if trails and heard and heard[-1] != final:
        problems.append(
            f"the probe heard up to seq {heard[-1]}, the hall ended at {final}: phones not checked to the end"
        )
    due: dict[str, list[int]] = {}
    wrong: dict[str, int] = {}
    for category, trail in trails:
        if not trail or trail[0] < day.probe_seq:
            problems.append(f"a {category} phone's snapshot (seq {trail[:1]}) is older than the probe's")
            continue
        if category not in due:
            due[category] = [h.seq for h in day.stream if follows(category, h.topic)]
        expected = [seq for seq in due[category] if seq > trail[0]]
        if trail[1:] != expected:
            wrong[category] = wrong.get(category, 0) + 1
            if wrong[category] == 1:
                got = set(trail[1:])
                lost = [q for q in expected if q not in got][:3]
                extra = [q for q in trail[1:] if q not in set(expected)][:3]
                problems.append(f"a {category} phone got {len(trail) - 1} seqs, {len(expected)} due"
                                f" (e.g. missing {lost}, not due {extra})")  # fmt: skip
    if wrong:
        problems.append(f"phones whose seqs were not exactly their category's, in order: {wrong}")
    return problems, sum(wrong.values())


def order_problems(run: Run) -> list[str]:
    order = run.order
    problems = []
    trails = order.get("trails", [])
    if order.get("connections", 0) + len(trails) != run.subscribers:
        problems.append(
            f"{order.get('connections')} + {len(trails)} of {run.subscribers} subscribers checked their order"
        )
    if order.get("gaps") or order.get("repeats"):
        problems.append(f"{order['gaps']} seq gaps and {order['repeats']} repeated or out-of-order seqs"
                        f" (e.g. {'; '.join(order['examples'][:3])})")  # fmt: skip
    seqs = set(order.get("final_seqs", []))
    if len(seqs) != 1:
        problems.append(f"the processes end at different seqs: {sorted(seqs)}")
    lasts = order.get("last_seqs", {})
    final = max(seqs, default=0)
    behind = sum(count for seq, count in lasts.items() if seq != final)
    if behind:
        problems.append(f"{behind} subscribers did not end at the hall's last seq {final}: {lasts}")
    problems += run.phone_problems
    if run.missing:
        problems.append(f"{run.missing} of {run.expected:,} call receipts missing")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description="A county center's day: call latency to every subscriber under load.")
    parser.add_argument("--quick", action="store_true", help="one round of 15 s, 200 phones, 30 boards, 1,000 tickets")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the day's measured period")
    parser.add_argument("--processes", type=int, default=2, help="bianmin serve processes on the database")
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--boards", type=int, default=150)
    parser.add_argument(
        "--phones-follow", choices=("category", "hall"), default="category",
        help="what a phone follows: its ticket's category (as the phone page does) or the whole hall",
    )  # fmt: skip
    parser.add_argument("--subscriber-processes", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=5000, help="the day's tickets")
    parser.add_argument("--live-tickets", type=int, default=500, help="of them, issued during the measured period")
    parser.add_argument("--call-rate", type=float, default=3.0, help="calls a second, over all 60 windows")
    parser.add_argument("--status-rate", type=float, default=50.0, help="phone status refreshes a second (0: none)")
    parser.add_argument("--no-reports", dest="reports", action="store_false",
                        help="no month report loop (to see what it costs)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server logs)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.phones, args.boards = 1, 15.0, 200, 30
        args.tickets, args.live_tickets = 1000, 100
    install_uvloop()
    total = args.phones + args.boards
    raise_nofile(total * 2 + 4096)

    work = Path(tempfile.mkdtemp(prefix="bench-county-"))
    started = time.monotonic()
    print(f"county day: {WINDOWS} windows, {args.tickets:,} tickets ({args.live_tickets:,} during the run),"
          f" {args.processes} processes on PostgreSQL, {args.phones:,} phones (following the {args.phones_follow})"
          f" + {args.boards} boards subscribed,"
          f" {args.call_rate:g} calls/s, {args.status_rate:g} status reads/s,"
          f" {'month report in a loop' if args.reports else 'no reports'};"
          f" {args.rounds} round(s) of {args.seconds:g} s; {os.cpu_count()} CPUs; {machine_load()}")  # fmt: skip
    print(f"  {code_version()}")
    runs: list[Run] = []
    cluster = None
    try:
        config = county_config(work / "config", WINDOWS)
        cluster = start_postgres()
        per_process = -(-total // args.subscriber_processes)
        base = template(cluster, config, args)
        with SubscriberPool(args.subscriber_processes, per_process) as pool:
            for round_no in range(1, args.rounds + 1):
                day = county_round(work, cluster, base, config, pool, round_no, args)
                runs.append(day)
                print(f"  round {round_no} county day: {day.calls} calls, p50 {day.p50:.1f} ms, p99 {day.p99:.1f} ms",
                      flush=True)  # fmt: skip
                assert day.day is not None
                for name in (EVERY_SOCKET, SAME_RECIPIENTS) if args.phones_follow == "category" else (EVERY_SOCKET,):
                    bare = baseline_round(work, pool, day.day, round_no, name, args)
                    runs.append(bare)
                    print(f"  round {round_no} {name}: {len(day.day.stream)} messages replayed, {bare.calls} calls,"
                          f" p50 {bare.p50:.1f} ms, p99 {bare.p99:.1f} ms", flush=True)  # fmt: skip
    finally:
        if cluster is not None:
            cluster.remove()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    groups = {name: [r for r in runs if r.server == name] for name in (EVERY_SOCKET, SAME_RECIPIENTS, "county day")}
    groups = {name: group for name, group in groups.items() if group}
    rows: list[list[object]] = [
        [r.server, str(r.round), r.calls, r.p50, r.p99, r.max, r.last_p50, r.samples, r.missing] for r in runs
    ]
    for name, group in groups.items():
        rows.append([name, "median", int(median([r.calls for r in group])),
                     *(median([getattr(r, f) for r in group]) for f in ("p50", "p99", "max", "last_p50")),
                     sum(r.samples for r in group), sum(r.missing for r in group)])  # fmt: skip
    print()
    print(f"call -> receipt at {total:,} subscribers (ms; last = until every subscriber concerned had it):")
    print(table(["server", "round", "calls", "p50", "p99", "max", "last p50", "receipts", "missing"], rows))

    day_rows: list[list[object]] = []
    for r in groups["county day"]:
        d = r.day
        assert d is not None
        day_rows.append([str(r.round), len(d.stream), median(d.call_http_ms), percentile(d.issue_ms, 50),
                         len(d.report_ms), median(d.report_ms), max(d.report_ms, default=float("nan")),
                         len(d.status_ms), percentile(d.status_ms, 50), percentile(d.status_ms, 99)])  # fmt: skip
    print("\nthe day's other clients (ms): call-next answer, kiosk issue, month reports, phone status reads:")
    print(table(["round", "messages", "call-next p50", "issue p50", "reports", "report p50", "report max",
                 "status reads", "status p50", "status p99"], day_rows))  # fmt: skip

    stage_rows = []
    for r in groups["county day"]:
        assert r.day is not None
        for n, found in enumerate(r.day.stages):
            for stage in STAGES:
                if stage in found:
                    count, mean, p99 = found[stage]
                    bound = f"<= {p99:g}" if p99 != float("inf") else "> 2500"
                    stage_rows.append([str(r.round), str(n), stage, f"{count:,}", f"{mean:.2f}", bound])
    print("\nwhere each server's writer spends its time (its /metrics; queued: per job, else per transaction; ms):")
    print(table(["round", "process", "stage", "count", "mean", "p99 bucket"], stage_rows))

    problems: list[str] = []
    for r in groups["county day"]:
        assert r.day is not None
        for problem in order_problems(r):
            problems.append(f"round {r.round}: {problem}")
        for kind, statuses in sorted(r.day.statuses.items()):
            unexpected = {s: c for s, c in statuses.items() if s not in (200, 201)}
            if unexpected:
                problems.append(f"round {r.round}: {kind} answered {unexpected}")
        problems += [f"round {r.round}: {e}" for e in r.day.errors]
    for name in (EVERY_SOCKET, SAME_RECIPIENTS):
        for r in groups.get(name, []):
            if r.missing:
                problems.append(f"{name} round {r.round}: {r.missing} call receipts missing")
    days = groups["county day"]
    checked = sum(int(r.order.get("messages", 0)) + sum(len(t) - 1 for _, t in r.order.get("trails", []))
                  for r in days)  # fmt: skip
    violations = sum(int(r.order.get("gaps", 0)) + int(r.order.get("repeats", 0)) for r in days)
    violations += sum(r.wrong_phones for r in days)
    print(f"\norder: {checked:,} event messages checked at the subscribers; violations: {violations}")
    for name in (EVERY_SOCKET, SAME_RECIPIENTS):
        if name not in groups:
            continue
        ratio = median([r.p99 for r in days]) / median([r.p99 for r in groups[name]])
        p50_ratio = median([r.p50 for r in days]) / median([r.p50 for r in groups[name]])
        target = f"  (target <= {TARGET_RATIO}: {verdict(ratio <= TARGET_RATIO)})" if name == EVERY_SOCKET else ""
        print(f"county day / {name} p99: {ratio:.2f}{target}; p50: {p50_ratio:.2f}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"\nnow {machine_load()}; took {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; every server and subscriber process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
