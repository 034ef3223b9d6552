"""`bianmin db`: database chores (copy a hall's whole history from one database to another)."""

from __future__ import annotations

import click

EXIT_REFUSED = 2  # the target already holds the hall: nothing was written


@click.group()
def db() -> None:
    """Databases: copy halls between SQLite files and PostgreSQL."""


@db.command("copy")
@click.option("--from", "source", required=True, metavar="SRC", help="the database to read: SQLite path or URL")
@click.option(
    "--to", "target", required=True, metavar="DST", help="the database to write (migrated first): path or URL"
)
@click.option("--hall", "halls", multiple=True, help="a hall to copy (repeat for several); default: every hall")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 100_000), help="rows per insert")
def copy_command(source: str, target: str, halls: tuple[str, ...], batch: int) -> None:
    """Copy halls' whole history (tickets, events with their seq, ratings, appointments, windows, devices
    and staff with their password hashes) from SRC to DST, keeping every id.

    Refuses (exit code 2, nothing written) when DST already has rows of a copied hall, an account of the same
    name or a copied id. Writes in one transaction, compares row counts and the last seq of each hall on both
    sides before committing, and prints them. Sessions are not copied: staff log in again.
    """
    from queue_server.store.copy import CopyError, CopyRefused, copy_database, shown

    try:
        report = copy_database(source, target, list(halls) or None, batch)
    except CopyRefused as refused:
        click.echo(f"Error: {refused}", err=True)
        raise SystemExit(EXIT_REFUSED) from None
    except CopyError as error:
        raise click.ClickException(str(error)) from None
    for line in report.lines(shown(source), shown(target)):
        click.echo(line)
