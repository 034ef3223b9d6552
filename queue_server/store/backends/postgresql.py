"""PostgreSQL: the county and city engine (psycopg 3), several server processes on one database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Engine, Table, cast, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from queue_server.store.backends.base import Backend, Features


class PostgresBackend(Backend):
    name = "postgresql"
    features = Features(has_notify=True, locks_per_hall=True, multi_process=True, notifies_events=True)

    def accepts(self, url: str) -> bool:
        return url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))

    def engine_url(self, db: str) -> str:
        for prefix in ("postgresql://", "postgres://"):
            if db.startswith(prefix):
                return "postgresql+psycopg://" + db.removeprefix(prefix)
        return db

    def make_engine(self, url: str) -> Engine:
        # connect_timeout: an unreachable database (a cut network, not a refusal) fails in seconds, not minutes,
        # so the writer answers 503 instead of hanging every kiosk behind it.
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=8, max_overflow=8, pool_timeout=10, connect_args={"connect_timeout": 5}
        )
        event.listen(engine, "connect", _session_settings)
        return engine

    def lock_halls(self, conn: Connection, halls: list[str], timeout_ms: int) -> None:
        # A lock wait longer than this is an error the caller can report (503), never a hang. The timeout is set
        # by the same statement as the first lock (one round trip for the usual transaction of one hall): the
        # materialized CTE is evaluated before the row it feeds, so the timeout holds when the lock waits.
        if not halls:
            return
        first, *others = sorted(halls)
        conn.execute(
            text(
                "WITH s AS MATERIALIZED (SELECT set_config('lock_timeout', :ms, true)) "
                "SELECT pg_advisory_xact_lock(:key) FROM s"
            ),
            {"ms": str(int(timeout_ms)), "key": self.hall_key(first)},
        )
        for hall in others:
            conn.execute(select(func.pg_advisory_xact_lock(self.hall_key(hall))))

    def lock_halls_newest(self, conn: Connection, halls: list[str], timeout_ms: int, origin: str) -> dict[str, int]:
        # One round trip instead of three (the timeout and first lock, the newest seq, the notification at the
        # end): bianmin_lock_halls (migration 0016) is VOLATILE, so its last query takes a snapshot of its own,
        # after the locks were had, and sees every commit of the process that held a lock before; it also names
        # the process for the trigger that notifies other processes of each event appended.
        if not halls:
            return {}
        chosen = sorted(halls)
        row = conn.execute(
            text("SELECT bianmin_lock_halls(:keys, :halls, :ms, :origin)"),
            {"keys": [self.hall_key(h) for h in chosen], "halls": chosen, "ms": str(int(timeout_ms)), "origin": origin},
        ).scalar_one()
        return {hall: int(seq) for hall, seq in zip(chosen, row, strict=True)}

    def json_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        field: ColumnElement[Any] = cast(column, JSONB)[key].astext
        return field

    def insert_or_ignore(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)

    def notify(self, conn: Connection, channel: str, payload: str) -> None:
        conn.execute(select(func.pg_notify(channel, payload)))

    def begin_snapshot(self, conn: Connection) -> None:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))

    def reset_id_sequences(self, conn: Connection, columns: list[Column[Any]]) -> None:
        # Rows copied with their ids leave the serial's sequence behind: the next insert would collide.
        for column in columns:
            table = column.table.name
            largest = select(func.max(column)).scalar_subquery()
            conn.execute(
                select(
                    func.setval(
                        func.pg_get_serial_sequence(table, column.name),
                        func.coalesce(largest, 1),
                        largest.is_not(None),
                    )
                )
            )


def _session_settings(dbapi_connection: Any, _record: object) -> None:
    # Durable before the answer: the commit waits for the WAL flush (the server's default, set explicitly).
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
        cursor.execute("SET application_name = 'bianmin'")
    dbapi_connection.commit()
