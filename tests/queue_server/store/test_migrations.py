"""Schema migrations (SQLite and PostgreSQL): a new database gets the newest schema; an old one keeps its data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import Engine, inspect, text

from queue_server.services import accounts
from queue_server.store.engine import make_engine
from queue_server.store.migrate import _alembic_config, is_current, upgrade
from tests.support.server import PASSWORD, start_server


def test_a_new_database_is_at_the_newest_schema(new_db: Callable[..., str | Path]) -> None:
    engine = make_engine(new_db(migrated=False))
    upgrade(engine)
    assert is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"tickets", "events", "windows", "users", "sessions", "devices", "ratings", "appointments"} <= tables
    assert not {"idempotency", "day_counters"} & tables
    upgrade(engine)  # a second upgrade changes nothing
    assert is_current(engine)
    engine.dispose()


def test_upgrading_0003_moves_each_idempotency_key_into_its_ticket(new_db: Callable[..., str | Path]) -> None:
    engine = make_engine(new_db(migrated=False))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0003")
        conn.execute(
            text(
                "INSERT INTO tickets (id, hall, day, seq, number, category, priority, state, queue_key, track_token,"
                " device, issued_at, recalls) VALUES (7, 'qingshan', :day, 1, 'A001', 'jisheng', 'ordinary',"
                " 'waiting', 1, 'token-token-token-1', 'kiosk-1', 1, 0)"
            ),
            {"day": dt.date(2026, 3, 16)},
        )
        conn.execute(
            text(
                "INSERT INTO idempotency (hall, device, key, body_hash, ticket_id, created_at)"
                " VALUES ('qingshan', 'kiosk-1', 'tap-1', 'abc', 7, 1)"
            )
        )
        conn.execute(text("INSERT INTO hall_state (hall, last_seq, service_day) VALUES ('qingshan', 1, NULL)"))
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT idem_key, body_hash FROM tickets WHERE id = 7")).one()
        assert tuple(row) == ("tap-1", "abc")
        assert [c["name"] for c in inspect(conn).get_columns("hall_state")] == ["hall", "service_day"]
    engine.dispose()


def _users_before_0007(engine: Engine, halls: list[str]) -> None:
    """A database at 0004 (before staff had halls) with an administrator, a manager and a clerk."""
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
        for hall in halls:
            conn.execute(text("INSERT INTO hall_state (hall, service_day) VALUES (:hall, NULL)"), {"hall": hall})
        for i, (username, role) in enumerate([("root", "admin"), ("director", "manager"), ("liuxia", "clerk")], 1):
            conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, role, password_hash, active, failed_logins,"
                    " created_at) VALUES (:id, :username, :username, :role, :hash, :active, 0, 1)"
                ),
                {"id": i, "username": username, "role": role, "hash": accounts._hasher.hash(PASSWORD), "active": True},
            )


def test_upgrading_0004_keeps_every_account_working_in_the_hall_it_served(
    tmp_path: Path, cheap_password_hashing: None
) -> None:
    db = tmp_path / "township.db"
    engine = make_engine(db)
    _users_before_0007(engine, ["qingshan"])
    upgrade(engine)
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT username, all_halls FROM users")).all()) == {
            "root": True, "director": False, "liuxia": False,
        }  # fmt: skip
        assert sorted(conn.execute(text("SELECT user_id, hall FROM staff_halls")).all()) == [
            (2, "qingshan"), (3, "qingshan"),
        ]  # fmt: skip
    engine.dispose()
    server = start_server(db)
    try:
        token = server.login("liuxia")
        me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["halls"] == ["qingshan"]
        opened = httpx.post(
            f"{server.url}/api/v1/halls/qingshan/windows/1/open",
            json={"post": "A"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert opened.status_code == 200, opened.text
        root = server.login("root")
        staff = httpx.get(f"{server.url}/api/v1/staff", headers={"Authorization": f"Bearer {root}"}).json()
        assert {s["username"]: s["halls"] for s in staff} == {
            "root": None, "director": ["qingshan"], "liuxia": ["qingshan"],
        }  # fmt: skip
    finally:
        server.stop()


def test_upgrading_0004_without_any_hall_lets_its_accounts_act_in_every_hall(tmp_path: Path) -> None:
    """Accounts made before the database served a hall: nothing says which hall they belong to."""
    engine = make_engine(tmp_path / "fresh.db")
    _users_before_0007(engine, [])
    upgrade(engine)
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT username FROM users WHERE all_halls")).scalars()) == {
            "root", "director", "liuxia",
        }  # fmt: skip
        assert conn.execute(text("SELECT COUNT(*) FROM staff_halls")).scalar() == 0
    engine.dispose()


def test_upgrading_0004_with_two_halls_gives_clerks_both(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "county.db")
    _users_before_0007(engine, ["qingshan", "baiyun"])
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT user_id, hall FROM staff_halls ORDER BY user_id, hall")).all()
        assert [tuple(r) for r in rows] == [(2, "baiyun"), (2, "qingshan"), (3, "baiyun"), (3, "qingshan")]
    engine.dispose()
