"""Helpers for the tests that load a real server: issuing with Idempotency-Keys, and auditing the books.

The "nothing acknowledged is ever lost" bar is checked three ways: what the clients were told
(every 201, by Idempotency-Key), what the API says afterwards (ticket status by track token, the
board, the audit trail), and what the database holds. The checks here are the parts the
concurrency test and the crash test share.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy

from config.schema import Hall

HALL = "qingshan"
API = f"/api/v1/halls/{HALL}"
HALL_TZ = ZoneInfo("Asia/Shanghai")
DEVICE = "kiosk-1"

# What each ticket event moves a ticket to. "keep" keeps the window column as it was: the store
# keeps a finished or no-show ticket's window, and clears it when the ticket goes back to a queue.
EVENT_STATES: dict[str, tuple[str, str]] = {
    "ticket.issued": ("waiting", "clear"),
    "ticket.called": ("called", "set"),
    "ticket.recalled": ("called", "keep"),
    "ticket.started": ("serving", "keep"),
    "ticket.finished": ("finished", "keep"),
    "ticket.no_show": ("no_show", "keep"),
    "ticket.transferred": ("transferred", "clear"),
    "ticket.requeued": ("waiting", "clear"),
    "ticket.returned": ("waiting", "clear"),
}


def http_client(url: str, token: str | None = None) -> httpx.AsyncClient:
    """An HTTP client for a test server.

    Idle connections are dropped after 1 s: httpx keeps them 5 s by default, exactly uvicorn's
    keep-alive timeout, and reusing one just as the server closes it fails the request (ReadError).
    """
    return httpx.AsyncClient(
        base_url=url,
        timeout=30,
        limits=httpx.Limits(keepalive_expiry=1.0),
        headers=bearer(token) if token else None,
    )


def shanghai_day() -> dt.date:
    """The hall's service day by the real clock (what a spawned server uses)."""
    return dt.datetime.now(HALL_TZ).date()


def service_day_of(ticket: dict[str, Any]) -> dt.date:
    """The service day an issued ticket belongs to (its numbers restart each day)."""
    return dt.datetime.fromisoformat(ticket["issued_at"]).astimezone(HALL_TZ).date()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- issuing ---------------------------------------------------------------------------------


@dataclass
class IssueBook:
    """Every issuance attempt by Idempotency-Key, and every answer the server gave to it."""

    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    fresh: Counter[str] = field(default_factory=Counter)  # 201s without Idempotent-Replayed
    lost: Counter[str] = field(default_factory=Counter)  # attempts whose answer never came
    refused: Counter[str] = field(default_factory=Counter)  # of those, attempts that never reached the server
    unexpected: list[str] = field(default_factory=list)  # any answer but a 201

    def acknowledged(self) -> dict[str, dict[str, Any]]:
        """Key -> the ticket of its first 201, for every key that got one."""
        return {key: answers[0] for key, answers in self.answers.items() if answers}

    def unanswered(self) -> list[str]:
        """Keys sent at least once that never got a 201 (their answers were lost)."""
        return [key for key in self.bodies if not self.answers.get(key)]

    @property
    def acked_count(self) -> int:
        return sum(1 for answers in self.answers.values() if answers)


async def issue(
    client: httpx.AsyncClient,
    kiosk_token: str,
    book: IssueBook,
    key: str,
    body: dict[str, Any],
    *,
    read_timeout: float | None = None,
) -> dict[str, Any] | None:
    """One issuance attempt; the ticket of a 201, or None when the answer was lost (timeout, dead server)."""
    previous = book.bodies.setdefault(key, body)
    assert previous == body, f"the test itself reused key {key} for another body"
    timeout = httpx.Timeout(30.0, read=read_timeout) if read_timeout is not None else httpx.USE_CLIENT_DEFAULT
    try:
        answer = await client.post(
            f"{API}/tickets", json=body, headers={**bearer(kiosk_token), "Idempotency-Key": key}, timeout=timeout
        )
    except httpx.TransportError as error:
        book.lost[key] += 1
        book.refused[key] += isinstance(error, httpx.ConnectError)
        return None
    if answer.status_code != 201:
        book.unexpected.append(f"{key} {body}: {answer.status_code} {answer.text[:300]}")
        return None
    ticket: dict[str, Any] = answer.json()
    book.answers[key].append(ticket)
    if answer.headers.get("Idempotent-Replayed") != "true":
        book.fresh[key] += 1
    return ticket


def check_answers(book: IssueBook) -> None:
    """Every answer to one key names the same ticket, and only one of them created it."""
    assert not book.unexpected, "issuances answered with something else than 201:\n" + "\n".join(book.unexpected[:20])
    for key, answers in book.answers.items():
        if not answers:
            continue
        first = answers[0]
        for other in answers[1:]:
            same = {f: (first[f], other[f]) for f in ("id", "number", "category", "track_token")}
            assert all(a == b for a, b in same.values()), f"key {key} was answered with two tickets: {same}"
        assert book.fresh[key] <= 1, f"key {key}: {book.fresh[key]} answers say they created a new ticket"
        if book.lost[key] == 0:
            assert book.fresh[key] == 1, f"key {key}: every answer says 'replayed', none created the ticket"
    ids = Counter(a["id"] for a in book.acknowledged().values())
    twice = [i for i, n in ids.items() if n > 1]
    assert not twice, f"distinct Idempotency-Keys were answered with the same ticket ids {twice[:10]}"
    numbers = Counter((service_day_of(a), a["number"]) for a in book.acknowledged().values())
    assert all(n == 1 for n in numbers.values()), (
        f"numbers given to two keys: {[k for k, n in numbers.items() if n > 1]}"
    )


# --- the audit trail -------------------------------------------------------------------------


async def fetch_events(client: httpx.AsyncClient, manager_token: str) -> tuple[list[dict[str, Any]], int]:
    """The hall's whole event log through the API, page by page, and the last_seq it reports."""
    events: list[dict[str, Any]] = []
    last_seq = 0
    since = 0
    while True:
        answer = await client.get(
            f"{API}/events", params={"since": since, "limit": 1000}, headers=bearer(manager_token)
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        last_seq = page["last_seq"]
        events.extend(page["events"])
        if not page["events"]:
            return events, last_seq
        since = page["events"][-1]["seq"]


def check_seqs(seqs: list[int], where: str) -> None:
    """Event seqs are 1..N, each once, in order."""
    assert seqs == list(range(1, len(seqs) + 1)), (
        f"{where}: the event seqs are not 1..{len(seqs)} without gaps: "
        f"missing {sorted(set(range(1, max(seqs, default=0) + 1)) - set(seqs))[:10]}, "
        f"repeated {[s for s, n in Counter(seqs).items() if n > 1][:10]}"
    )


@dataclass
class Trace:
    """One ticket as its events tell it."""

    number: str
    state: str = "waiting"
    window: int | None = None
    calls: list[int] = field(default_factory=list)  # the window of each ticket.called
    recalls: int = 0


def replay(events: list[dict[str, Any]]) -> tuple[dict[int, Trace], dict[int, int | None]]:
    """Each ticket's state and window, and each window's current ticket, by replaying the event log."""
    traces: dict[int, Trace] = {}
    current: dict[int, int | None] = {}
    for event in events:
        kind, ticket_id, window = event["type"], event["ticket_id"], event["window"]
        if kind == "day.closed":
            for trace in traces.values():
                if trace.state in ("waiting", "called", "transferred"):
                    trace.state, trace.window = "expired", None
            current = {w: t for w, t in current.items() if t is not None and traces[t].state == "serving"}
            continue
        if kind not in EVENT_STATES:
            continue
        assert ticket_id is not None, f"event {event['seq']} {kind} names no ticket"
        if kind == "ticket.issued":
            assert ticket_id not in traces, f"ticket {ticket_id} was issued twice (event {event['seq']})"
            traces[ticket_id] = Trace(number=event["payload"]["number"])
            continue
        found = traces.get(ticket_id)
        assert found is not None, f"event {event['seq']} {kind} for ticket {ticket_id}, which was never issued"
        trace = found
        state, window_rule = EVENT_STATES[kind]
        if kind == "ticket.called":
            trace.calls.append(window)
            current[window] = ticket_id
        elif kind == "ticket.recalled":
            trace.recalls += 1
            assert window == trace.window, f"{trace.number} recalled at window {window}, called at {trace.window}"
        elif state not in ("called", "serving") and window is not None and current.get(window) == ticket_id:
            current[window] = None  # finished, no-show, transferred or returned: the window is free again
        trace.state = state
        if window_rule == "set":
            trace.window = window
        elif window_rule == "clear":
            trace.window = None
    return traces, current


# --- the database, read directly -----------------------------------------------------------


@dataclass
class DbView:
    tickets: list[dict[str, Any]]
    events: list[dict[str, Any]]
    windows: list[dict[str, Any]]


def read_db(db: str | Path) -> DbView:
    """Everything the checks need, read straight from the database: a SQLite file (its WAL included) or a URL."""
    queries = {
        "tickets": "SELECT * FROM tickets WHERE hall = :hall ORDER BY id",
        "events": 'SELECT seq, type, "window", ticket_id, payload FROM events WHERE hall = :hall ORDER BY seq',
        "windows": "SELECT * FROM windows WHERE hall = :hall ORDER BY number",
    }
    found: dict[str, list[dict[str, Any]]] = {}
    if "://" in str(db):
        engine = sqlalchemy.create_engine(str(db), poolclass=sqlalchemy.NullPool)
        try:
            with engine.connect() as conn:
                for name, sql in queries.items():
                    found[name] = [dict(r._mapping) for r in conn.execute(sqlalchemy.text(sql), {"hall": HALL})]
        finally:
            engine.dispose()
    else:
        lite = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)  # read-only: it must not recover anything
        try:
            lite.row_factory = sqlite3.Row
            for name, sql in queries.items():
                found[name] = [dict(r) for r in lite.execute(sql, {"hall": HALL})]
        finally:
            lite.close()
    return DbView(
        tickets=found["tickets"],
        events=[{**e, "payload": json.loads(e["payload"])} for e in found["events"]],
        windows=found["windows"],
    )


def check_numbering(db: DbView, hall: Hall) -> dict[tuple[str, str], int]:
    """Per service day and category, numbers are prefix+001.. with no gap and no repeat.

    Returns the highest sequence per (day, category).
    """
    prefixes = {c.code: c.prefix for c in hall.categories}
    seqs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for t in db.tickets:
        prefix = prefixes[t["category"]]  # (these tests transfer no ticket to another category)
        assert t["number"] == f"{prefix}{t['seq']:03d}", (
            f"ticket {t['id']} of {t['category']} has number {t['number']} but seq {t['seq']}"
        )
        seqs[(str(t["day"]), prefix)].append(t["seq"])
    for (day, prefix), found in seqs.items():
        assert sorted(found) == list(range(1, len(found) + 1)), (
            f"{day} {prefix}: the numbers are not {prefix}001..{prefix}{len(found):03d} without gaps or repeats: "
            f"{sorted(found)}"
        )
    return {k: len(v) for k, v in seqs.items()}


def check_db(db: DbView, book: IssueBook, hall: Hall) -> dict[int, Trace]:
    """The file agrees with the clients and with itself; returns the tickets as the event log tells them."""
    acked = book.acknowledged()
    by_id = {t["id"]: t for t in db.tickets}
    # Every acknowledged ticket is there, exactly once, as it was announced.
    for key, ticket in acked.items():
        row = by_id.get(ticket["id"])
        assert row is not None, (
            f"acknowledged ticket {ticket['number']} (key {key}, id {ticket['id']}) is not in the file"
        )
        for column in ("number", "track_token", "category"):
            assert row[column] == ticket[column], (
                f"ticket {ticket['id']}: {column} {row[column]!r} != {ticket[column]!r}"
            )
    keys = Counter((t["day"], t["device"], t["idem_key"]) for t in db.tickets)
    assert all(t["idem_key"] for t in db.tickets), "a ticket without the Idempotency-Key that issued it"
    twice = [key for key, n in keys.items() if n > 1]
    assert not twice, f"one Idempotency-Key issued two tickets: {twice[:10]}"
    for key, ticket in acked.items():
        assert by_id[ticket["id"]]["idem_key"] == key and by_id[ticket["id"]]["device"] == DEVICE, (
            f"ticket {ticket['id']} does not record the Idempotency-Key {key} that issued it"
        )
    check_numbering(db, hall)

    # The event log: gapless, and telling the same story as the ticket rows.
    check_seqs([e["seq"] for e in db.events], "stored events")
    traces, current = replay(db.events)
    assert set(traces) == set(by_id), (
        f"tickets without an issued event: {sorted(set(by_id) - set(traces))[:10]}; "
        f"issued events without a ticket row: {sorted(set(traces) - set(by_id))[:10]}"
    )
    for ticket_id, trace in traces.items():
        row = by_id[ticket_id]
        assert (row["state"], row["window"], row["number"]) == (trace.state, trace.window, trace.number), (
            f"ticket {row['number']} is {row['state']} at window {row['window']} in the table, "
            f"but its events say {trace.state} at window {trace.window}"
        )
    holders = {w["number"]: w["current_ticket"] for w in db.windows}
    held = [t for t in holders.values() if t is not None]
    assert len(held) == len(set(held)), f"two windows hold the same current ticket: {holders}"
    expected = {w: current.get(w) for w in holders}
    assert holders == expected, f"windows' current tickets {holders} differ from the event log's {expected}"
    return traces
