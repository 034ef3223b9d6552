"""Every difference between the databases, in one folder: a Backend (features + operations) per vendor.

Code above the store never compares dialect names: it asks `backend_for(conn)` for the operations
(how to lock a hall, read a JSON field, notify other processes) and the features (what the database can do).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from queue_server.store.backends.base import Backend
from queue_server.store.backends.postgresql import PostgresBackend
from queue_server.store.backends.sqlite import SqliteBackend

__all__ = ["Backend", "backend_for", "backend_for_url", "engine_url"]

_BACKENDS: dict[str, Backend] = {"sqlite": SqliteBackend(), "postgresql": PostgresBackend()}


def backend_for(bind: Connection | Engine) -> Backend:
    """The backend of an engine or a connection."""
    try:
        return _BACKENDS[bind.dialect.name]
    except KeyError:
        raise ValueError(f"unsupported database {bind.dialect.name!r}: use SQLite or PostgreSQL") from None


def backend_for_url(url: str) -> Backend:
    for backend in _BACKENDS.values():
        if backend.accepts(url):
            return backend
    raise ValueError(f"unsupported database URL {url.split('://', 1)[0]!r}: use a SQLite path or postgresql://…")


def engine_url(db: str) -> str:
    """The SQLAlchemy URL for what the user gave: a file path (SQLite) or a database URL."""
    return backend_for_url(db).engine_url(db)
