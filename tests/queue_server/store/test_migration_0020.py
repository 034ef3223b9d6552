"""Migration 0020: the stored reason codes of ratings become the national indicators, and back on downgrade."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, insert, select

from queue_server.store.engine import make_engine
from queue_server.store.migrate import _alembic_config

ROW = {
    "hall": "qingshan", "ticket_id": 1, "day": "2026-03-16", "number": "A001", "category": "jisheng", "item_id": None,
    "window": 1, "served_by": "liuxia", "level": "dissatisfied", "score": 2, "comment": "", "contact_phone": None,
    "rated_at": 1, "follow_up": "open", "due_on": None, "follow_up_notes": "[]", "updated_at": 1,
}  # fmt: skip


def test_old_reason_codes_are_mapped_to_the_national_indicators(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "old.db")

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0015")
        schema = MetaData()
        schema.reflect(conn)
        old = schema.tables["ratings"]
        day = dt.date(2026, 3, 16)
        conn.execute(insert(old), [
            {**ROW, "day": day, "ticket_id": 1, "reasons": json.dumps(["wait", "slow", "other"])},
            {**ROW, "day": day, "ticket_id": 2, "reasons": json.dumps(["attitude", "notice", "environment"])},
            {**ROW, "day": day, "ticket_id": 3, "level": "satisfied", "reasons": "[]", "follow_up": None},
        ])  # fmt: skip
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0020")
        schema = MetaData()
        schema.reflect(conn)
        new = schema.tables["ratings"]
        rows = conn.execute(select(new).order_by(new.c.ticket_id)).all()
        assert [json.loads(r.reasons) for r in rows] == [
            ["efficiency", "overall"],
            ["attitude", "level", "overall"],
            [],
        ]
        assert {(r.source, bool(r.excluded), r.case_code, r.callbacks) for r in rows} == {
            ("citizen", False, None, "[]")
        }
        assert "staff_no" in schema.tables["users"].c
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0015")
        schema = MetaData()
        schema.reflect(conn)
        back = conn.execute(select(schema.tables["ratings"].c.reasons).order_by("ticket_id")).scalars().all()
        assert [json.loads(r) for r in back] == [["slow", "other"], ["attitude", "rules", "other"], []]
    engine.dispose()
