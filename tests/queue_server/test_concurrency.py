"""Fifty kiosk clients issue at once (retrying and doubling requests) while ten clerks call: nothing lost or doubled.

A real server on a loopback port (uvicorn in a thread; a SQLite file in tmp_path, or a PostgreSQL
database). Every issuance carries an Idempotency-Key; some are sent twice in a row (the answer was
"lost"), some have their answer really cut off by a tiny read timeout and are sent again, some are
sent twice at the same moment. Ten clerks open windows 1-10 and call, recall, start, finish or mark no-shows meanwhile,
sometimes double-clicking "call next". Afterwards the clients' books, the API (board, ticket status
by track token, the audit trail) and the database must all tell the same story.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from queue_server.services import accounts
from tests.support.clock import SHANGHAI
from tests.support.load import (
    API,
    IssueBook,
    check_answers,
    check_db,
    check_numbering,
    check_seqs,
    fetch_events,
    http_client,
    issue,
    read_db,
    replay,
)
from tests.support.server import start_server

pytestmark = pytest.mark.slow

SEED = 20260316
ISSUERS = 50
TICKETS_PER_ISSUER = 8
LOAD_BUDGET_S = 60.0
MAX_TRIES = 6  # a kiosk retries a lost answer with the same key this many times at most


class SteadyClock:
    """Real elapsed time from a fixed working-day morning: the service day cannot change mid-test."""

    def __init__(self) -> None:
        self._start = dt.datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
        self._t0 = time.monotonic()

    def __call__(self) -> dt.datetime:
        return (self._start + dt.timedelta(seconds=time.monotonic() - self._t0)).astimezone(dt.UTC)


@dataclass
class Desk:
    """What one clerk was told by the server."""

    window: int
    calls: list[dict[str, Any]] = field(default_factory=list)  # tickets of call-next answers
    recalls: Counter[int] = field(default_factory=Counter)
    outcome: dict[int, str] = field(default_factory=dict)  # ticket id -> the last state an answer confirmed
    holding: dict[str, Any] | None = None  # the ticket left at the window at the end, as the last answer gave it
    double_clicks: list[tuple[int, int]] = field(default_factory=list)


def issue_body(rng: random.Random, categories: list[str], items: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = (
        {"item_id": rng.choice(items)} if rng.random() < 0.3 else {"category": rng.choice(categories)}
    )
    if rng.random() < 0.1:
        body["priority"] = "green"
    return body


async def issuer(
    n: int, url: str, kiosk: str, book: IssueBook, categories: list[str], items: list[str], rng: random.Random
) -> None:
    """One kiosk client: issues its tickets, retrying and doubling some of them with the same key."""
    async with http_client(url) as client:
        for i in range(TICKETS_PER_ISSUER):
            key = f"kiosk{n:02d}-{i}-{rng.getrandbits(32):08x}"
            body = issue_body(rng, categories, items)
            mode = rng.random()
            if mode < 0.55:  # once
                await issue(client, kiosk, book, key, body)
            elif mode < 0.70:  # answered, but the kiosk did not get it: the same request again
                await issue(client, kiosk, book, key, body)
                await issue(client, kiosk, book, key, body)
            elif mode < 0.85:  # the answer is cut off on the wire, then the kiosk retries
                await issue(client, kiosk, book, key, body, read_timeout=0.001)
                await issue(client, kiosk, book, key, body)
            else:  # a double tap: two identical requests at the same moment
                await asyncio.gather(issue(client, kiosk, book, key, body), issue(client, kiosk, book, key, body))
            tries = 0
            while not book.answers.get(key) and tries < MAX_TRIES:  # the kiosk retries until it can print
                tries += 1
                await issue(client, kiosk, book, key, body)
            await asyncio.sleep(rng.uniform(0, 0.04))


async def act(client: httpx.AsyncClient, window: int, action: str, body: dict[str, Any] | None = None) -> Any:
    answer = await client.post(f"{API}/windows/{window}/{action}", json=body)
    assert answer.status_code == 200, f"window {window} {action}: {answer.status_code} {answer.text[:300]}"
    return answer.json()


async def call_next(client: httpx.AsyncClient, desk: Desk, rng: random.Random) -> dict[str, Any] | None:
    """Call the next ticket, sometimes with a double click: at most one of the two calls may get a ticket."""
    url = f"{API}/windows/{desk.window}/call-next"
    if rng.random() < 0.15:
        answers = await asyncio.gather(client.post(url), client.post(url))
        statuses = (answers[0].status_code, answers[1].status_code)
        desk.double_clicks.append(statuses)
        assert statuses.count(200) <= 1, f"window {desk.window}: a double click called two tickets: {statuses}"
        assert set(statuses) <= {200, 204, 409}, f"window {desk.window}: {[a.text[:200] for a in answers]}"
        called = [a for a in answers if a.status_code == 200]
        answer = called[0] if called else answers[0]
    else:
        answer = await client.post(url)
        assert answer.status_code in (200, 204), f"window {desk.window} call-next: {answer.status_code} {answer.text}"
    if answer.status_code != 200:
        return None
    ticket: dict[str, Any] = answer.json()["ticket"]
    assert ticket["state"] == "called" and ticket["window"] == desk.window, ticket
    desk.calls.append(ticket)
    desk.outcome[ticket["id"]] = "called"
    return ticket


async def clerk(url: str, token: str, desk: Desk, issuing_done: asyncio.Event, rng: random.Random) -> None:
    """One clerk at one window: call, sometimes recall, then no-show or start and finish, until issuing ends."""
    async with http_client(url, token) as client:
        await act(client, desk.window, "open", {"post": "A"})
        while True:
            done = issuing_done.is_set()
            ticket = await call_next(client, desk, rng)
            if ticket is None:
                if done:
                    return
                await asyncio.sleep(0.02)
                continue
            ticket_id = ticket["id"]
            if rng.random() < 0.2:
                recalled = await act(client, desk.window, "recall")
                desk.recalls[ticket_id] += 1
                assert recalled["ticket"]["recalls"] == desk.recalls[ticket_id]
            if done:  # the last call: leave it at the window (called, or being served) for the board
                if desk.window % 2 == 0:
                    ticket = (await act(client, desk.window, "start"))["ticket"]
                    desk.outcome[ticket_id] = "serving"
                desk.holding = ticket
                return
            if rng.random() < 0.15:
                await act(client, desk.window, "no-show")
                desk.outcome[ticket_id] = "no_show"
                continue
            await act(client, desk.window, "start")
            desk.outcome[ticket_id] = "serving"
            await act(client, desk.window, "finish", {"case_class": "immediate"})
            desk.outcome[ticket_id] = "finished"


async def run_load(url: str, kiosk: str, clerks: dict[int, str], book: IssueBook, desks: dict[int, Desk]) -> float:
    rng = random.Random(SEED)
    async with http_client(url) as client:
        catalog = (await client.get(f"{API}/catalog")).json()
    categories = [c["code"] for c in catalog["categories"]]
    items = [i["id"] for i in catalog["items"]]
    issuing_done = asyncio.Event()

    async def issuing() -> None:
        async with asyncio.TaskGroup() as group:
            for n in range(ISSUERS):
                group.create_task(issuer(n, url, kiosk, book, categories, items, random.Random(rng.random())))
        issuing_done.set()

    started = time.monotonic()
    try:
        async with asyncio.timeout(LOAD_BUDGET_S), asyncio.TaskGroup() as group:
            for window, token in clerks.items():
                group.create_task(clerk(url, token, desks[window], issuing_done, random.Random(rng.random())))
            group.create_task(issuing())
    except TimeoutError:
        raise AssertionError(
            f"the load did not finish in {LOAD_BUDGET_S} s: {book.acked_count} tickets acknowledged so far"
        ) from None
    return time.monotonic() - started


async def audit_api(url: str, manager: str, book: IssueBook, desks: dict[int, Desk]) -> None:
    """What the API says after the load: the board, each ticket by its token, the audit trail."""
    acked = book.acknowledged()
    called_at = {t["id"]: desk.window for desk in desks.values() for t in desk.calls}
    outcome = {tid: state for desk in desks.values() for tid, state in desk.outcome.items()}
    async with http_client(url) as client:
        snapshot = (await client.get(f"{API}/board")).json()
        events, last_seq = await fetch_events(client, manager)

        # The board: each window shows what its clerk holds, and no ticket is at two windows.
        shown = {w["number"]: (w["current_number"], w["current_state"]) for w in snapshot["board"]["windows"]}
        held = {
            n: (d.holding["number"], desks[n].outcome[d.holding["id"]]) if d.holding else (None, None)
            for n, d in desks.items()
        }
        assert shown == held, f"the board shows {shown}, the clerks hold {held}"
        numbers = [number for number, _ in shown.values() if number is not None]
        assert len(numbers) == len(set(numbers)), f"a ticket is current at two windows: {shown}"

        # The audit trail: seqs 1..N, one issued event per acknowledged ticket, one call per called ticket.
        check_seqs([e["seq"] for e in events], "GET /events")
        assert last_seq == len(events) == snapshot["seq"], (last_seq, len(events), snapshot["seq"])
        traces, current = replay(events)
        assert set(traces) == {t["id"] for t in acked.values()}, "the issued events are not the acknowledged tickets"
        for ticket_id, trace in traces.items():
            window = called_at.get(ticket_id)
            assert trace.calls == ([window] if window else []), (
                f"{trace.number}: called at windows {trace.calls} by the events, at {window} by the clerks' answers"
            )
            assert trace.recalls == sum(d.recalls[ticket_id] for d in desks.values()), trace
            assert trace.state == outcome.get(ticket_id, "waiting"), (trace, outcome.get(ticket_id))
        assert {w: t for w, t in current.items() if t is not None} == {
            n: d.holding["id"] for n, d in desks.items() if d.holding
        }

        # Each acknowledged ticket, looked up by its track token as a citizen would.
        async def status(ticket: dict[str, Any]) -> None:
            answer = await client.get(f"{API}/tickets/{ticket['track_token']}")
            assert answer.status_code == 200, f"{ticket['number']}: {answer.status_code} {answer.text}"
            got = answer.json()
            state = outcome.get(ticket["id"], "waiting")
            window = called_at.get(ticket["id"]) if state in ("called", "serving") else None
            assert (got["number"], got["category"], got["state"], got["window"]) == (
                ticket["number"],
                ticket["category"],
                state,
                window,
            ), f"ticket {ticket['number']} by token: {got}"

        semaphore = asyncio.Semaphore(20)

        async def bounded(ticket: dict[str, Any]) -> None:
            async with semaphore:
                await status(ticket)

        await asyncio.gather(*(bounded(t) for t in acked.values()))


def test_concurrent_issuers_and_clerks_lose_and_double_nothing(
    new_db: Callable[[], str | Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Logins are not what this test is about: hash the eleven accounts' passwords at Argon2's lowest cost.
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not a real password"))
    db = new_db()
    server = start_server(db, SteadyClock())
    book = IssueBook()
    desks: dict[int, Desk] = {}
    try:
        kiosk = server.add_device("kiosk-1")
        manager = server.add_staff("boss", "manager")
        hall = server.config.hall("qingshan")
        clerks = {w.number: server.add_staff(w.a_post or "") for w in hall.windows}
        assert len(clerks) == 10 and len({w.a_post for w in hall.windows}) == 10
        desks = {n: Desk(n) for n in clerks}
        took = asyncio.run(run_load(server.url, kiosk, clerks, book, desks))
        print(
            f"load: {book.acked_count} tickets ({sum(book.lost.values())} answers cut off, "
            f"{sum(len(a) - 1 for a in book.answers.values())} replays), {sum(len(d.calls) for d in desks.values())} "
            f"calls ({sum(len(d.double_clicks) for d in desks.values())} double clicks: "
            f"{Counter(c for d in desks.values() for c in d.double_clicks)}) in {took:.1f} s"
        )

        # What the kiosks were told: one ticket per key, the same one every time.
        check_answers(book)
        assert not book.unanswered(), f"keys never acknowledged despite retries: {book.unanswered()[:10]}"
        assert book.acked_count == ISSUERS * TICKETS_PER_ISSUER
        assert sum(book.lost.values()) > 0, "no answer was cut off: the lost-answer path went untested"
        assert any(len(a) > 1 for a in book.answers.values()), "no key was answered twice"
        calls = Counter(t["id"] for d in desks.values() for t in d.calls)
        assert all(n == 1 for n in calls.values()), f"tickets handed to two windows (or twice): {calls.most_common(5)}"
        assert len(calls) > 20, f"only {len(calls)} tickets were called: the clerks barely ran alongside issuing"

        asyncio.run(audit_api(server.url, manager, book, desks))
    finally:
        server.stop()

    # The database, read after the server stopped.
    stored = read_db(db)
    traces = check_db(stored, book, hall)
    per_category = Counter(hall.category(t["category"]).prefix for t in book.acknowledged().values())
    highest = Counter({prefix: n for (_day, prefix), n in check_numbering(stored, hall).items()})
    assert highest == per_category, f"numbers per category {dict(highest)} != distinct keys {dict(per_category)}"
    called_at = {t["id"]: d.window for d in desks.values() for t in d.calls}
    for ticket_id, trace in traces.items():
        assert trace.calls == ([called_at[ticket_id]] if ticket_id in called_at else []), trace
    windows = {w["number"]: w["current_ticket"] for w in stored.windows}
    assert windows == {n: d.holding["id"] if d.holding else None for n, d in desks.items()}, windows
