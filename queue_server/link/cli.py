"""`bianmin link add HALL`: a township's link token, made at its county (shown once, stored hashed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from queue_server.link import receiver

if TYPE_CHECKING:
    from queue_server.store.writer import Store


@click.group()
def link() -> None:
    """Link up (联动上报): the tokens townships ship their events to this county with."""


@link.command("add")
@click.argument("hall")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the county's configuration (TOML), which lists HALL under [[townships]]")  # fmt: skip
@click.option("--db", default=str(Path("var") / "bianmin.db"), show_default=True,
              help="SQLite file path, or a database URL (postgresql://...)")  # fmt: skip
def link_add(hall: str, config_file: Path | None, db: str) -> None:
    """Make (or replace) the link token of township HALL and print it once: give it to the township, which
    names its file in [halls.link] token_file (or its variable in token_env). Only its hash is kept here."""
    from queue_server.cli import _load
    from queue_server.server import open_store

    loaded = _load(config_file)
    if not any(township.id == hall for township in loaded.townships):
        names = ", ".join(t.id for t in loaded.townships) or "none"
        raise click.ClickException(f"{hall!r} is not a township of this county ([[townships]]: {names})")
    store = open_store(loaded, db)
    try:
        token = make_token(store, hall)
    finally:
        store.close()
    click.echo(token)


def make_token(store: Store, hall: str) -> str:
    """A new link token of township `hall` at the county whose store this is (its old token stops working)."""
    from queue_server.store.writer import to_us

    return store.run_global_sync(lambda conn, now: receiver.add_token(conn, to_us(now), hall), invalidates=False)
