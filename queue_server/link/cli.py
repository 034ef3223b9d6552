"""`bianmin link add HALL`: a township's link token, made at its county (shown once, stored hashed); `--county`:
a county's relay token, made at its city."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import Connection

from config.documents import Kind
from queue_server.link import publisher, receiver

if TYPE_CHECKING:
    from queue_server.store.writer import Store


@click.group()
def link() -> None:
    """The county's link with its townships: their tokens (link up), the documents it publishes (link down)."""


@link.command("add")
@click.argument("hall")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the county's configuration (TOML), which lists HALL under [[townships]]; with --county, the "
                   "city's, which lists the county under [[counties]]")  # fmt: skip
@click.option("--db", default=str(Path("var") / "bianmin.db"), show_default=True,
              help="SQLite file path, or a database URL (postgresql://...)")  # fmt: skip
@click.option(
    "--county",
    "is_county",
    is_flag=True,
    help="at a city: HALL is a county, whose token relays the events of that county's halls only",
)
def link_add(hall: str, config_file: Path | None, db: str, is_county: bool) -> None:
    """Make (or replace) the link token of township HALL and print it once: give it to the township, which
    names its file in [halls.link] token_file (or its variable in token_env). Only its hash is kept here.

    With --county (at a city): the relay token of county HALL, for its [county.link]."""
    from queue_server.cli import _load
    from queue_server.server import open_store

    loaded = _load(config_file)
    if is_county:
        if not any(county.id == hall for county in loaded.counties):
            names = ", ".join(c.id for c in loaded.counties) or "none"
            raise click.ClickException(f"{hall!r} is not a county of this city ([[counties]]: {names})")
    elif loaded.city is not None:
        raise click.ClickException(f"this is a city's configuration: a city gives its counties their tokens "
                                   f"(bianmin link add COUNTY --county), not its halls ({hall!r})")  # fmt: skip
    elif not any(township.id == hall for township in loaded.townships):
        names = ", ".join(t.id for t in loaded.townships) or "none"
        raise click.ClickException(f"{hall!r} is not a township of this county ([[townships]]: {names})")
    store = open_store(loaded, db)
    try:
        token = make_county_token(store, hall) if is_county else make_token(store, hall)
    finally:
        store.close()
    click.echo(token)


@link.command("publish")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="the county's configuration: its [county] catalog (else its hall's items), calendar")  # fmt: skip
@click.option("--db", default=str(Path("var") / "bianmin.db"), show_default=True,
              help="SQLite file path, or a database URL (postgresql://...)")  # fmt: skip
@click.option("--only", type=click.Choice(["catalogue", "calendar"]), help="publish one kind of document only")
def link_publish(config_file: Path, db: str, only: str | None) -> None:
    """Publish the county's service-item catalogue and working-day calendar to its townships (联动下发).

    The configuration is checked as `bianmin config check` does; each document that differs from its newest
    version becomes the next version. Townships fetch it, check it with their own configuration, and serve it
    from their next day start.
    """
    from queue_server.cli import _load
    from queue_server.server import open_store

    loaded = _load(config_file)
    county = loaded.county.id if loaded.county is not None else None
    store = open_store(loaded, db)
    try:
        for kind, (content, count) in publisher.contents(loaded).items():
            if only is not None and kind != only:
                continue
            publish = partial(_publish, kind=kind, content=content, count=count, county=county)
            done = store.run_global_sync(publish, invalidates=False)
            entries = f"{done.count} {'items' if kind == 'catalogue' else 'years'}"
            what = f"{entries}, {done.size} bytes, sha256 {done.sha256[:12]}"
            state = "published" if done.new else "unchanged, still"
            click.echo(f"{kind}: {state} version {done.version} ({what})")
    finally:
        store.close()


def _publish(
    conn: Connection, now: dt.datetime, *, kind: Kind, content: str, count: int, county: str | None
) -> publisher.Published:
    from queue_server.store.writer import to_us

    return publisher.publish(conn, to_us(now), kind, content, count, county)


def make_token(store: Store, hall: str) -> str:
    """A new link token of township `hall` at the county whose store this is (its old token stops working)."""
    from queue_server.store.writer import to_us

    return store.run_global_sync(lambda conn, now: receiver.add_token(conn, to_us(now), hall), invalidates=False)


def make_county_token(store: Store, county: str) -> str:
    """A new relay token of `county` at the city whose store this is (its old token stops working)."""
    from queue_server.store.writer import to_us

    return store.run_global_sync(lambda conn, now: receiver.add_county_token(conn, to_us(now), county),
                                 invalidates=False)  # fmt: skip
