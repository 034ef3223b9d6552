"""`kill -9` of `bianmin serve` in the middle of a stream of issuances and calls loses nothing it acknowledged.

The server runs as a child process on a SQLite file in tmp_path, or on a PostgreSQL database (the
server is killed, not the database: what it acknowledged was committed). A few kiosk clients issue tickets
as fast as they can and a few clerks call, start and finish, until a seeded, bounded number of
tickets has been acknowledged; then the server gets SIGKILL with requests still in flight, and is
started again on the same file. Each time, every acknowledged ticket must be there (looked up by its
track token) in the state its last answer said, or in the state of a request whose answer was cut
off; the kiosks' retries with the same Idempotency-Key must get the same ticket if it was committed;
numbering must go on right after the highest number handed out; and the event log must be gapless
and tell the same story as the tickets. Three kill/restart rounds.

The spawned server follows the real clock in Asia/Shanghai. Should the service day change while
the test runs (around midnight there), tickets of the old day expire and windows close, so a failed
check is turned into a skip that says so.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.loader import default_config_path, load_config
from config.schema import Hall
from tests.support.load import (
    API,
    HALL,
    IssueBook,
    bearer,
    check_answers,
    check_db,
    check_seqs,
    fetch_events,
    http_client,
    issue,
    read_db,
    replay,
    service_day_of,
    shanghai_day,
)
from tests.support.server import ServerProcess, free_port, spawn_server

pytestmark = pytest.mark.slow

SEED = 90210
ROUNDS = 3
ISSUERS = 4
CLERK_WINDOWS = (1, 9, 10)  # their A-post clerks: liuxia, xiaoming, chenjing
ACKS_BEFORE_KILL = (15, 45)  # each round kills the server after this many (seeded) 201s
BUDGET_S = 90.0  # a guard against a hang: the test takes ~15 s on an idle machine

State = tuple[str, int | None]  # a ticket's state and its window column, as the database keeps them


@dataclass
class Demo:
    """The demo accounts `bianmin serve` wrote on its first start."""

    kiosk_token: str
    passwords: dict[str, str]


def read_demo_accounts(path: Path) -> Demo:
    text = path.read_text(encoding="utf-8")
    kiosk = re.search(rf"^\s*{HALL}/kiosk-1:\s*(\S+)\s*$", text, re.MULTILINE)
    assert kiosk, f"no kiosk-1 token in {path}:\n{text}"
    passwords = dict(re.findall(r"^\s*\w+\s+(\S+)\s+password:\s*(\S+)\s*$", text, re.MULTILINE))
    return Demo(kiosk.group(1), passwords)


@dataclass
class Ledger:
    """What the clients were told, and what they asked without hearing back."""

    book: IssueBook = field(default_factory=IssueBook)
    acked: dict[int, State] = field(default_factory=dict)  # ticket id -> the state the last answer confirmed
    pending: dict[int, State] = field(default_factory=dict)  # ticket id -> the state a cut-off request asked for
    calling: set[int] = field(default_factory=set)  # windows whose call-next answer was cut off
    current: dict[int, int | None] = field(default_factory=dict)  # window -> the ticket its clerk works on
    cut_off: int = 0  # requests of any kind whose answer never came
    committed_unanswered: int = 0  # issuances the kill cut off that had been committed (the retry replayed them)
    probes: int = 0


class ServerUnderTest:
    """The server process of the moment, restarted on the same database (and port, if it is still free)."""

    def __init__(self, db: str | Path, home: Path) -> None:
        self.db, self.home, self.log, self.port = db, home, home / "server.log", free_port()
        # The demo's first start writes its accounts next to a SQLite file, or to ./var/ for a database URL.
        self.accounts = (db.parent if isinstance(db, Path) else home / "var") / "demo-accounts.txt"
        self.process: ServerProcess | None = None

    def start(self) -> str:
        """Start `bianmin serve` on the database (on the same port when it is still free); return its URL."""
        self.process = spawn_server(self.db, self.log, self.port, cwd=self.home)
        self.port = self.process.port
        return self.process.url

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


def issue_body(rng: random.Random, categories: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"category": rng.choice(categories)}
    if rng.random() < 0.1:
        body["priority"] = "green"
    return body


async def issuer(
    url: str, n: int, round_: int, kiosk: str, ledger: Ledger, categories: list[str], rng: random.Random,
    target: int, reached: asyncio.Event,
) -> None:  # fmt: skip
    """Issue tickets back to back until the server dies under us."""
    async with http_client(url) as client:
        for i in range(10_000):
            key = f"r{round_}-kiosk{n}-{i}"
            ticket = await issue(client, kiosk, ledger.book, key, issue_body(rng, categories))
            assert not ledger.book.unexpected, ledger.book.unexpected
            if ticket is None:  # the server is gone
                ledger.cut_off += not ledger.book.refused[key]
                return
            ledger.acked.setdefault(ticket["id"], ("waiting", None))
            if ledger.book.acked_count >= target:
                reached.set()


async def clerk(url: str, window: int, token: str, ledger: Ledger) -> None:
    """Call, start and finish at one window until the server dies; a cut-off request stays pending."""
    async with http_client(url, token) as client:
        while True:
            current = ledger.current.get(window)
            state = ledger.acked[current][0] if current is not None else None
            if current is None:
                action, wanted = "call-next", None
                ledger.calling.add(window)
            elif state == "called":
                action, wanted = "start", ("serving", window)
            else:
                action, wanted = "finish", ("finished", window)
            if current is not None and wanted is not None:
                ledger.pending[current] = wanted
            try:
                answer = await client.post(
                    f"{API}/windows/{window}/{action}", json={"case_class": "immediate"} if action == "finish" else None
                )
            except httpx.ConnectError:
                return  # the server was already gone: this request never reached it
            except httpx.TransportError:
                ledger.cut_off += 1
                return
            assert answer.status_code in (200, 204), f"window {window} {action}: {answer.status_code} {answer.text}"
            if action == "call-next":
                ledger.calling.discard(window)
                if answer.status_code == 204:
                    await asyncio.sleep(0.02)
                    continue
                ticket = answer.json()["ticket"]
                assert (ticket["state"], ticket["window"]) == ("called", window), ticket
                assert ledger.acked.get(ticket["id"], ("waiting", None)) == ("waiting", None), (
                    f"window {window} was handed {ticket['number']}, which was {ledger.acked[ticket['id']]}"
                )
                ledger.acked[ticket["id"]] = ("called", window)
                ledger.current[window] = ticket["id"]
            else:
                assert current is not None and wanted is not None
                ledger.pending.pop(current)
                ledger.acked[current] = wanted
                if action == "finish":
                    ledger.current[window] = None


async def stream_and_kill(
    hall: ServerUnderTest, url: str, round_: int, demo: Demo, clerks: dict[int, str], ledger: Ledger, rng: random.Random
) -> None:
    """Issue and call until the round's number of 201s, then SIGKILL the server with requests in flight."""
    categories = [c.code for c in hall_config().categories]
    target = ledger.book.acked_count + rng.randint(*ACKS_BEFORE_KILL)
    reached = asyncio.Event()
    delay = rng.uniform(0, 0.01)

    async def killer() -> None:
        await reached.wait()
        await asyncio.sleep(delay)
        hall.kill()

    async with asyncio.TaskGroup() as group:
        group.create_task(killer())
        for n in range(ISSUERS):
            group.create_task(
                issuer(url, n, round_, demo.kiosk_token, ledger, categories, random.Random(rng.random()), target,
                       reached)
            )  # fmt: skip
        for window, token in clerks.items():
            group.create_task(clerk(url, window, token, ledger))


def hall_config() -> Hall:
    return load_config(default_config_path()).hall(HALL)


async def audit_after_restart(
    url: str, db: str | Path, round_: int, demo: Demo, clerks: dict[int, str], manager: str, ledger: Ledger
) -> None:
    """After a restart: retries get their tickets, nothing acknowledged is missing or wrong, numbering goes on."""
    book = ledger.book
    async with http_client(url) as client:
        # First of all: every ticket a kiosk was given before the kill is still there.
        for key, given in book.acknowledged().items():
            answer = await client.get(f"{API}/tickets/{given['track_token']}")
            assert answer.status_code == 200 and answer.json()["number"] == given["number"], (
                f"ticket {given['number']} (key {key}) was acknowledged before kill {round_} and is gone after it:"
                f" {answer.status_code} {answer.text[:200]}"
            )

        # The kiosks retry every request whose answer the kill cut off, with the same key.
        for key in book.unanswered():
            retried = await issue(client, demo.kiosk_token, book, key, book.bodies[key])
            assert retried is not None, f"the retry of {key} after the restart failed: {book.unexpected[-1:]}"
            ledger.acked.setdefault(retried["id"], ("waiting", None))
            ledger.committed_unanswered += book.fresh[key] == 0
        check_answers(book)
        acked = {t["id"]: t for t in book.acknowledged().values()}
        unknown = set(ledger.acked) - set(acked)
        assert not unknown, f"clerks were handed tickets no issuance answer names: {sorted(unknown)}"

        # Every acknowledged ticket, by its track token, and in the database.
        stored = {t["id"]: t for t in read_db(db).tickets}
        claimed: dict[int, int] = {}  # window -> the ticket its cut-off call-next turned out to call
        observed: dict[int, State] = {}
        for ticket_id, ticket in acked.items():
            answer = await client.get(f"{API}/tickets/{ticket['track_token']}")
            assert answer.status_code == 200, (
                f"acknowledged {ticket['number']} is gone: {answer.status_code} {answer.text}"
            )
            status = answer.json()
            assert (status["number"], status["category"]) == (ticket["number"], ticket["category"]), status
            row = stored.get(ticket_id)
            assert row is not None, f"acknowledged {ticket['number']} (id {ticket_id}) is not in the database"
            state: State = (row["state"], row["window"])
            assert status["state"] == row["state"], (status, row["state"])
            assert status["window"] == (row["window"] if row["state"] in ("called", "serving") else None), status
            allowed = {ledger.acked[ticket_id], ledger.pending.get(ticket_id, ledger.acked[ticket_id])}
            if state not in allowed:
                window = state[1]
                cut_off_call = (
                    ledger.acked[ticket_id] == ("waiting", None)
                    and state[0] == "called"
                    and window is not None
                    and window in ledger.calling
                    and window not in claimed
                )
                assert cut_off_call, (
                    f"{ticket['number']} is {state} after the restart; the clients were told {ledger.acked[ticket_id]}"
                    f" (a request for {ledger.pending.get(ticket_id)} was cut off; windows with a cut-off call: "
                    f"{sorted(ledger.calling)})"
                )
                assert window is not None
                claimed[window] = ticket_id
            observed[ticket_id] = state
        assert len(stored) == len(acked), f"{len(stored)} tickets in the database but {len(acked)} acknowledged"

        # The windows came back as they were: open, with the ticket each clerk was working on.
        snapshot = (await client.get(f"{API}/board")).json()
        for view in snapshot["board"]["windows"]:
            if view["number"] in clerks:
                assert view["state"] == "open", f"window {view['number']} came back {view['state']}"
                holding = [i for i, (s, w) in observed.items() if w == view["number"] and s in ("called", "serving")]
                assert len(holding) <= 1, f"window {view['number']} holds {holding}"
                number = acked[holding[0]]["number"] if holding else None
                assert view["current_number"] == number, (view, number)
                ledger.current[view["number"]] = holding[0] if holding else None

        # The audit trail: gapless, and each ticket's events end where the ticket is.
        events, last_seq = await fetch_events(client, manager)
        check_seqs([e["seq"] for e in events], f"GET /events after restart {round_}")
        assert last_seq == len(events) == snapshot["seq"], (last_seq, len(events), snapshot["seq"])
        traces, _ = replay(events)
        assert set(traces) == set(acked), "the issued events are not the acknowledged tickets"
        for ticket_id, (now_state, now_window) in observed.items():
            trace = traces[ticket_id]
            assert (trace.state, trace.window) == (now_state, now_window), (acked[ticket_id]["number"], trace)
            assert trace.calls == ([now_window] if now_state != "waiting" else []), (trace, now_state, now_window)

        # Numbering goes on right after the highest number handed out, in every category.
        hall = hall_config()
        days = {service_day_of(t).isoformat() for t in acked.values()}
        highest = {c.code: 0 for c in hall.categories}
        for ticket in acked.values():
            highest[ticket["category"]] = max(highest[ticket["category"]], int(ticket["number"][1:]))
        for category in hall.categories:
            probe = await issue(client, demo.kiosk_token, book, f"probe-{round_}-{category.code}",
                                {"category": category.code})  # fmt: skip
            assert probe is not None, book.unexpected[-1:]
            ledger.acked[probe["id"]] = ("waiting", None)
            ledger.probes += 1
            expected = f"{category.prefix}{highest[category.code] + 1:03d}"
            assert probe["number"] == expected, (
                f"after restart {round_}, a new {category.code} ticket got {probe['number']}, not {expected}"
                f" (tickets so far were issued on {sorted(days)})"
            )

    ledger.acked.update(observed)
    ledger.pending.clear()
    ledger.calling.clear()
    check_db(read_db(db), book, hall_config())


async def login(url: str, username: str, password: str) -> str:
    async with http_client(url) as client:
        answer = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


async def scenario(hall: ServerUnderTest, url: str, report: list[str]) -> Ledger:
    rng = random.Random(SEED)
    config = hall_config()
    demo = read_demo_accounts(hall.accounts)
    users = {w.number: w.a_post or "" for w in config.windows if w.number in CLERK_WINDOWS}
    clerks = {n: await login(url, u, demo.passwords[u]) for n, u in users.items()}
    manager = await login(url, "director", demo.passwords["director"])
    async with http_client(url) as client:
        for window, token in clerks.items():
            answer = await client.post(f"{API}/windows/{window}/open", json={"post": "A"}, headers=bearer(token))
            assert answer.status_code == 200, answer.text
    ledger = Ledger(current=dict.fromkeys(clerks))
    for round_ in range(1, ROUNDS + 1):
        before, cut_before, replayed_before = ledger.book.acked_count, ledger.cut_off, ledger.committed_unanswered
        started = time.monotonic()
        await stream_and_kill(hall, url, round_, demo, clerks, ledger, rng)
        killed = time.monotonic()
        url = await asyncio.to_thread(hall.start)
        restarted = time.monotonic()
        await audit_after_restart(url, hall.db, round_, demo, clerks, manager, ledger)
        report.append(
            f"round {round_}: {ledger.book.acked_count - before - len(config.categories)} tickets acknowledged "
            f"(with retries), {ledger.cut_off - cut_before} requests cut off by the kill "
            f"({ledger.committed_unanswered - replayed_before} of them issuances already committed); "
            f"stream {killed - started:.1f} s, restart {restarted - killed:.1f} s, "
            f"audit {time.monotonic() - restarted:.1f} s"
        )
    return ledger


def test_kill_9_loses_no_acknowledged_ticket(tmp_path: Path, new_db: Callable[..., str | Path]) -> None:
    day = shanghai_day()
    hall = ServerUnderTest(new_db(migrated=False), tmp_path)  # an empty database: the server's first start
    report: list[str] = []
    try:
        url = hall.start()
        try:
            ledger = asyncio.run(asyncio.wait_for(scenario(hall, url, report), BUDGET_S))
        except TimeoutError:
            raise AssertionError(f"the kill/restart rounds took more than {BUDGET_S} s; done: {report}") from None
        hall.stop()
        stored = read_db(hall.db)
        check_db(stored, ledger.book, hall_config())
    except Exception:
        later = shanghai_day()
        if later != day:
            pytest.skip(
                f"the service day changed during the test ({day} -> {later} in Asia/Shanghai): tickets of"
                " the old day expired and windows closed, so the checks do not apply; run it again"
            )
        raise
    finally:
        hall.stop()
        print("\n".join(report))
    assert ledger.cut_off > 0, "no request was in flight at any kill: the test did not test a kill mid-stream"
    called = sum(1 for state, _ in ledger.acked.values() if state != "waiting")
    assert called > 0, "no ticket was called: the clerks did not run"
    print(f"{len(stored.tickets)} tickets, {called} called, {len(stored.events)} events")
