"""Schema migrations: a new database gets the newest schema; an old one keeps its data across upgrades."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from queue_server.store.engine import make_engine
from queue_server.store.migrate import _alembic_config, is_current, upgrade


def test_a_new_database_is_at_the_newest_schema(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "new.db")
    upgrade(engine)
    assert is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"tickets", "events", "windows", "users", "sessions", "devices", "ratings", "appointments"} <= tables
    assert not {"idempotency", "day_counters"} & tables
    upgrade(engine)  # a second upgrade changes nothing
    assert is_current(engine)
    engine.dispose()


def test_upgrading_0003_moves_each_idempotency_key_into_its_ticket(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "old.db")
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
