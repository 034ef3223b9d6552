"""Schema migrations: bring a database up to the newest schema with Alembic."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


def _alembic_config(engine_connection: object | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "queue_server.store:migrations")
    if engine_connection is not None:
        cfg.attributes["connection"] = engine_connection
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every migration the database has not had yet."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest schema revision."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
