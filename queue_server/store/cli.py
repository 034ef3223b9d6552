"""`bianmin db`: database chores (copy halls between databases, back up and restore)."""

from __future__ import annotations

from pathlib import Path

import click

EXIT_REFUSED = 2  # the target already holds the hall: nothing was written


@click.group()
def db() -> None:
    """Databases: back up and restore; copy halls between SQLite files and PostgreSQL."""


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


@db.command("backup")
@click.option("--db", "database", required=True, help="the database to back up: SQLite path or postgresql://… URL")
@click.option(
    "--to", "destination", required=True, type=click.Path(dir_okay=False, path_type=Path), help="the backup file"
)
@click.option("--force", is_flag=True, help="replace an existing backup file")
def backup_command(database: str, destination: Path, force: bool) -> None:
    """Back up the database while the server serves it.

    \b
    SQLite: an online backup (one consistent snapshot; the server keeps issuing), checked before it is kept.
    PostgreSQL: runs pg_dump --format=custom when it is on PATH; otherwise prints the command to run.
    """
    from queue_server.store import backup
    from queue_server.store.copy import shown

    try:
        if backup.is_sqlite(database):
            found = backup.backup_sqlite(database, destination, force)
            click.echo(f"backed up {shown(database)} to {destination} (schema {found.revision}):")
            for line in found.lines():
                click.echo(line)
            return
        backup.backup_postgres(database, destination, force)
        click.echo(f"backed up {shown(database)} to {destination} (pg_dump custom format; restore: bianmin db restore)")
    except backup.BackupRefused as refused:
        click.echo(f"Error: {refused}", err=True)
        raise SystemExit(EXIT_REFUSED) from None
    except (backup.BackupError, ValueError) as error:
        raise click.ClickException(str(error)) from None


@db.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a backup made by bianmin db backup",
)
@click.option("--db", "database", required=True, help="the database to restore into: SQLite path or URL")
@click.option("--force", is_flag=True, help="SQLite: replace a database that exists (stop its server first)")
def restore_command(source: Path, database: str, force: bool) -> None:
    """Restore a backup into the database (stop the server first), then migrate it to the newest schema.

    \b
    SQLite: refuses a target that holds a database unless --force (exit code 2).
    PostgreSQL: runs pg_restore --clean into the database (made once with createdb) when it is on PATH.
    """
    from queue_server.store import backup
    from queue_server.store.copy import shown

    try:
        if backup.is_sqlite(database):
            found = backup.restore_sqlite(source, database, force)
        else:
            backup.restore_postgres(source, database)
            found = backup.contents(database)
    except backup.BackupRefused as refused:
        click.echo(f"Error: {refused}", err=True)
        raise SystemExit(EXIT_REFUSED) from None
    except (backup.BackupError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {source} into {shown(database)} (schema {found.revision}):")
    for line in found.lines():
        click.echo(line)
