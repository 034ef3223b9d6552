"""Upgrades: a database made at every earlier schema revision, with a hall's day in it, migrates to head and serves.

The hall's day is real: a server at the newest schema issues, calls, serves and rates tickets and takes an
appointment (once per test session), and its rows are read back. For each revision from 0001 on, a new database
is created by Alembic at that revision and the rows go in with the columns that revision has (and what it had
then and the newest schema no longer has: the idempotency table, the day counters, hall_state.last_seq before
0004). It is migrated to head, a real server is started on it, and every ticket is read back by its track token,
staff log in with their passwords, the event log resumes gapless, and the next ticket gets the next number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, insert, select

from queue_server.store.backends import backend_for
from queue_server.store.engine import make_engine
from queue_server.store.migrate import _alembic_config, is_current, upgrade
from queue_server.store.tables import appointments, devices, events, hall_state, ratings, tickets, users, windows
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.hashing import cheap_hashing
from tests.support.server import HALL, RunningServer, start_server

API = f"/api/v1/halls/{HALL}"
DAY = dt.date(2026, 3, 16)
#: The hall's tables, parents first; sessions are not kept (staff log in again), nor the link's (empty here).
TABLES = [users, devices, hall_state, windows, tickets, events, ratings, appointments]
IDS = [tickets.c.id, users.c.id, ratings.c.id, appointments.c.id]


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(_alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


@dataclass
class HallDay:
    """The rows of a real day of the demo hall, and what its tickets were when the day was written."""

    rows: dict[str, list[dict[str, Any]]]
    tickets: dict[str, tuple[str, str]]  # track token -> (number, state)
    last_seq: int
    kiosk_token: str


@pytest.fixture(scope="module")
def hall_day(tmp_path_factory: pytest.TempPathFactory, migrated_db: Path) -> Iterator[HallDay]:
    db = tmp_path_factory.mktemp("hall-day") / "day.db"
    db.write_bytes(migrated_db.read_bytes())
    clock = FakeClock(dt.datetime.combine(DAY, dt.time(9, 0), tzinfo=SHANGHAI))
    # The staff's hashes go into every revision's database: at the default cost each test's two logins took
    # ~0.2 s of CPU each (at nice 19 on a busy machine, much longer), for nothing the upgrade is about.
    with pytest.MonkeyPatch.context() as monkeypatch:
        cheap_hashing(monkeypatch)
        server = start_server(db, clock)
        try:
            kiosk = _live_a_day(server, clock)
        finally:
            server.stop()
    engine = make_engine(db)
    with engine.connect() as conn:
        rows = {table.name: [dict(row._mapping) for row in conn.execute(select(table))] for table in TABLES}
    engine.dispose()
    found = {row["track_token"]: (row["number"], row["state"]) for row in rows["tickets"]}
    yield HallDay(rows, found, max(row["seq"] for row in rows["events"]), kiosk)


def _live_a_day(server: RunningServer, clock: FakeClock) -> str:
    kiosk = server.add_device("kiosk-1")
    clerk = server.add_staff("liuxia", "clerk")
    server.add_staff("director", "manager")
    with httpx.Client(base_url=f"{server.url}{API}", timeout=10, trust_env=False) as http:

        def post(path: str, token: str, body: Any = None, **headers: str) -> Any:
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            answer = http.post(path, json=body, headers={**auth, **headers})
            assert answer.status_code in (200, 201), answer.text
            return answer.json()

        tokens = {}
        for n, category in enumerate(["jisheng", "jisheng", "minzheng", "jisheng"], 1):
            ticket = post("/tickets", kiosk, {"category": category}, **{"Idempotency-Key": f"tap-{n}"})
            tokens[ticket["number"]] = ticket["track_token"]
            clock.advance(minutes=2)
        post("/windows/1/open", clerk, {"post": "A"})
        first = post("/windows/1/call-next", clerk)["ticket"]
        post("/windows/1/start", clerk)
        clock.advance(minutes=6)
        post("/windows/1/finish", clerk, {"case_class": "promised", "promised_days": 5})
        status = http.get(f"/tickets/{tokens[first['number']]}")
        assert status.status_code == 200 and status.json()["state"] == "finished"
        post(f"/tickets/{tokens[first['number']]}/rating", "", {"level": "satisfied"})
        post("/windows/1/call-next", clerk)  # the next one is called and left at the window
        booked = http.post("/appointments", json={"category": "jisheng", "day": "2026-03-17", "start": "09:00"})
        assert booked.status_code == 201, booked.text
    return kiosk


def _write_at(engine: Engine, revision: str, day: HallDay) -> set[str]:
    """Create the schema of `revision` and put the day in, with the columns and tables that revision has.

    The names of the tables it had: ratings and appointments came with 0003, a day before has none."""
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
        schema = MetaData()
        schema.reflect(conn)
        for table in TABLES:
            if table.name not in schema.tables:
                continue
            then = schema.tables[table.name]
            rows = [_then(then.name, row, day) for row in day.rows[table.name]]
            rows = [{key: value for key, value in row.items() if key in then.c} for row in rows]
            if rows:
                conn.execute(insert(then), rows)
        if "idempotency" in schema.tables:  # before 0004 a ticket's Idempotency-Key was a row of its own
            requests = [
                {"hall": t["hall"], "device": t["device"], "key": t["idem_key"], "body_hash": t["body_hash"],
                 "ticket_id": t["id"], "created_at": t["issued_at"]}
                for t in day.rows["tickets"] if t["idem_key"]
            ]  # fmt: skip
            conn.execute(insert(schema.tables["idempotency"]), requests)
        if "day_counters" in schema.tables:  # and each category's last number of the day had a row
            last: dict[tuple[str, dt.date, str], int] = {}
            for t in day.rows["tickets"]:
                key = (t["hall"], t["day"], t["category"])
                last[key] = max(last.get(key, 0), t["seq"])
            counters = [{"hall": h, "day": d, "category": c, "last_seq": s} for (h, d, c), s in last.items()]
            conn.execute(insert(schema.tables["day_counters"]), counters)
        serials = [column for column in IDS if column.table.name in schema.tables]
        backend_for(conn).reset_id_sequences(conn, serials)  # ids came from the serials, as they did then
    return set(schema.tables)


def _then(table: str, row: dict[str, Any], day: HallDay) -> dict[str, Any]:
    if table == "hall_state":  # before 0004 the hall's last seq was kept here too
        return {**row, "last_seq": day.last_seq}
    return row


@pytest.mark.parametrize("revision", revisions())
def test_a_database_of_every_revision_upgrades_and_serves(
    revision: str,
    hall_day: HallDay,
    new_db: Callable[..., str | Path],
    clock: FakeClock,
    cheap_password_hashing: None,
) -> None:
    db = new_db(migrated=False)
    engine = make_engine(db)
    try:
        had = _write_at(engine, revision, hall_day)
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
    clock.set(dt.datetime.combine(DAY, dt.time(11, 0), tzinfo=SHANGHAI))
    server = start_server(db, clock)
    try:
        _serves(server, hall_day, had)
    finally:
        server.stop()


def _serves(server: RunningServer, day: HallDay, had: set[str]) -> None:
    with httpx.Client(base_url=f"{server.url}{API}", timeout=10, trust_env=False) as http:
        for token, (number, state) in day.tickets.items():
            answer = http.get(f"/tickets/{token}")
            assert answer.status_code == 200, (number, answer.text)
            assert (answer.json()["number"], answer.json()["state"]) == (number, state)
        manager = server.login("director")
        log = http.get("/events", params={"since": 0, "limit": 1000}, headers={"Authorization": f"Bearer {manager}"})
        assert [e["seq"] for e in log.json()["events"]] == list(range(1, day.last_seq + 1))
        assert http.get("/board").json()["seq"] == day.last_seq
        clerk = server.login("liuxia")
        desk = http.get("/console/desk", headers={"Authorization": f"Bearer {clerk}"}).json()
        assert desk["window"]["number"] == 1 and desk["current"]["number"] == "A002"
        ratings_list = http.get("/ratings", headers={"Authorization": f"Bearer {manager}"}).json()
        assert [r["number"] for r in ratings_list["ratings"]] == (["A001"] if "ratings" in had else [])
        kiosk = {"Authorization": f"Bearer {day.kiosk_token}"}  # the kiosk's token of before the upgrade
        replayed = http.post("/tickets", json={"category": "jisheng"}, headers={**kiosk, "Idempotency-Key": "tap-1"})
        assert replayed.status_code == 201 and replayed.headers.get("Idempotent-Replayed") == "true"
        assert replayed.json()["number"] == "A001"  # the same tap's ticket, not a second one
        issued = http.post("/tickets", json={"category": "jisheng"}, headers={**kiosk, "Idempotency-Key": "after"})
        assert issued.status_code == 201, issued.text
        assert issued.json()["number"] == "A004"  # numbering goes on after A001–A003
        if "appointments" in had:
            appointment = day.rows["appointments"][0]["code"]
            assert http.get(f"/appointments/{appointment}").json()["state"] == "booked"
