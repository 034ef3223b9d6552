"""Database engines: SQLite (WAL, durable commits) by default, PostgreSQL by URL; see store/backends/."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from queue_server.store.backends import backend_for_url


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL for a file path or a URL given on the command line."""
    text = str(db)
    return backend_for_url(text).engine_url(text)


def make_engine(db: str | Path) -> Engine:
    """An engine whose every commit is durable before it returns."""
    url = database_url(db)
    return backend_for_url(url).make_engine(url)
