"""What every backend provides: capability flags with safe defaults, and the SQL that differs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Engine, Table, func, select

from queue_server.store.tables import events


@dataclass(frozen=True)
class Features:
    """Capability flags (Django's `features.py`): safe defaults here, set per backend."""

    #: Other processes hear of commits through the database itself (PostgreSQL LISTEN/NOTIFY).
    has_notify: bool = False
    #: Halls are locked one by one (row or advisory locks); False: a write transaction locks the whole database.
    locks_per_hall: bool = False
    #: Several server processes may share the database.
    multi_process: bool = False
    #: The database itself tells other processes of every event a server appends (a trigger, migration 0016),
    #: so the writer sends no notification of its own for them.
    notifies_events: bool = False


class Backend:
    """One database vendor: its features and the operations spelled in its SQL."""

    name = "base"
    features = Features()

    def accepts(self, url: str) -> bool:
        raise NotImplementedError

    def engine_url(self, db: str) -> str:
        raise NotImplementedError

    def make_engine(self, url: str) -> Engine:
        """An engine whose every commit is durable before it returns."""
        raise NotImplementedError

    def opens_elsewhere(self, url: str) -> bool:
        """Whether another process can open the database at `url` (the store's report process)."""
        return True

    def reader_engine(self, writer: Engine) -> Engine:
        """The engine reads use (the writer's own on most databases)."""
        return writer

    def lock_halls(self, conn: Connection, halls: list[str], timeout_ms: int) -> None:
        """Lock the halls for the rest of the transaction, in sorted order (two processes never deadlock)."""

    def lock_halls_newest(self, conn: Connection, halls: list[str], timeout_ms: int, origin: str) -> dict[str, int]:
        """Lock the halls (as `lock_halls`) and return each one's newest event seq, read after its lock was had.

        `origin` names the process in the notifications of the events this transaction appends (on a backend
        with `notifies_events`).
        """
        self.lock_halls(conn, halls, timeout_ms)
        newest = select(func.max(events.c.seq))
        return {hall: conn.execute(newest.where(events.c.hall == hall)).scalar() or 0 for hall in halls}

    def json_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        """The text of one top-level key of a JSON text column."""
        raise NotImplementedError

    def insert_or_ignore(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert the rows; a row whose primary key exists already is left as it is (no error)."""
        raise NotImplementedError

    def notify(self, conn: Connection, channel: str, payload: str) -> None:
        """Tell other processes, when this transaction commits (a no-op without has_notify)."""

    def begin_snapshot(self, conn: Connection) -> None:
        """Make the transaction just begun read one consistent picture of the database, and nothing else."""

    def reset_id_sequences(self, conn: Connection, columns: list[Column[Any]]) -> None:
        """After rows were inserted with their own ids: the next generated id of each column follows the largest."""

    @staticmethod
    def hall_key(hall: str) -> int:
        """A stable signed 64-bit number for a hall (advisory lock keys)."""
        digest = hashlib.blake2b(f"bianmin:hall:{hall}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)
