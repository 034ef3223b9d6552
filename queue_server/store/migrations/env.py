"""Alembic environment: runs migrations on the connection the store hands in."""

from __future__ import annotations

from alembic import context

from queue_server.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic's own CLI is pointed at a URL
    raise RuntimeError("run migrations through queue_server.store.migrate, which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
