"""SQLite: the embedded default of a township PC (WAL, durable commits, one write transaction at a time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, create_engine, event, func
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from queue_server.store.backends.base import Backend, Features

# isolation_level=None: the driver opens no transaction by itself; the "begin" listeners below do.
_CONNECT = {"check_same_thread": False, "timeout": 10, "isolation_level": None}


class SqliteBackend(Backend):
    name = "sqlite"
    # A write transaction takes SQLite's database lock at BEGIN IMMEDIATE: that is the hall lock, for every hall.
    features = Features(has_notify=False, locks_per_hall=False, multi_process=True)

    def accepts(self, url: str) -> bool:
        return "://" not in url or url.startswith("sqlite")

    def engine_url(self, db: str) -> str:
        if "://" in db:
            return db
        return f"sqlite:///{Path(db).expanduser().resolve()}"

    def make_engine(self, url: str) -> Engine:
        if ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=_CONNECT)
        event.listen(engine, "connect", _pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine

    def opens_elsewhere(self, url: str) -> bool:
        return ":memory:" not in url and url != "sqlite://"  # an in-memory database is its connection's alone

    def reader_engine(self, writer: Engine) -> Engine:
        # Readers must not take the write lock: their transactions begin DEFERRED (a WAL snapshot).
        engine = create_engine(writer.url, connect_args=_CONNECT)
        event.listen(engine, "connect", _pragmas)
        event.listen(engine, "begin", _begin_deferred)
        return engine

    def json_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        result: ColumnElement[Any] = func.json_extract(column, f"$.{key}")
        return result

    def insert_or_ignore(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)


def _pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets boards and reports read while the writer writes; synchronous=FULL fsyncs the WAL at
    # every commit, so a ticket the kiosk showed survives a power cut, not only a process crash.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin_immediate(conn: Connection) -> None:
    # The write lock is taken at BEGIN, before anything is read: what a transaction reads (the hall's last
    # seq) cannot change under it, whichever process writes next.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")
