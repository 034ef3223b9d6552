"""Backups of a hall's database: SQLite's online backup while the server serves; pg_dump/pg_restore for PostgreSQL.

SQLite: the backup API copies every page in one step under a read transaction, a WAL snapshot: the server goes on
committing (readers never block writers under WAL) and the copy holds exactly the commits made before the step
began. The copy is written beside the destination, synced and checked (`PRAGMA integrity_check`) before it takes
the destination's name, so a half-written backup never looks like a whole one.

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot too, while the servers serve) and `pg_restore`, run
when on PATH with the URL's parts; the password goes in the environment, never on the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from queue_server.store.engine import database_url, make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import events, tickets

PG_DUMP, PG_RESTORE = "pg_dump", "pg_restore"


class BackupError(Exception):
    """The backup or the restore could not be made; nothing was changed. The message says why."""


class BackupRefused(BackupError):
    """The destination already exists (restore: holds a database) and --force was not given."""


@dataclass(frozen=True)
class Contents:
    """What a database holds, hall by hall: tickets and the last seq of its event log."""

    revision: str | None
    halls: dict[str, tuple[int, int]]  # hall -> (tickets, last seq)

    def lines(self) -> list[str]:
        if not self.halls:
            return ["  no hall has a ticket or an event yet"]
        return [
            f"  {hall}: {count} tickets, events up to seq {seq}" for hall, (count, seq) in sorted(self.halls.items())
        ]


def is_sqlite(db: str) -> bool:
    return database_url(db).startswith("sqlite")


def sqlite_path(db: str) -> Path:
    url = database_url(db)
    path = url.removeprefix("sqlite:///")
    if path == url or ":memory:" in path:
        raise BackupError(f"not a SQLite file: {db}")
    return Path(path)


def contents(db: str | Path) -> Contents:
    """The schema revision and each hall's tickets and last seq (read in one snapshot)."""
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            counts: dict[str, int] = {
                hall: count
                for hall, count in conn.execute(select(tickets.c.hall, func.count()).group_by(tickets.c.hall))
            }
            seqs: dict[str, int | None] = {
                hall: seq
                for hall, seq in conn.execute(select(events.c.hall, func.max(events.c.seq)).group_by(events.c.hall))
            }
    finally:
        engine.dispose()
    halls = {hall: (int(counts.get(hall, 0)), int(seqs.get(hall) or 0)) for hall in set(counts) | set(seqs)}
    return Contents(str(revision) if revision else None, halls)


# -- SQLite ----------------------------------------------------------------------------------------------------


def backup_sqlite(db: str, destination: Path, force: bool = False) -> Contents:
    """Copy the live SQLite database to destination (a new file unless force) and check the copy."""
    source = sqlite_path(db)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if destination.exists() and not force:
        raise BackupRefused(f"{destination} exists; give --force to replace it (目标文件已存在)")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy_pages(source, partial)
        _check(partial)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return contents(destination)


def restore_sqlite(backup: Path, db: str, force: bool = False) -> Contents:
    """Write the backup's pages into the database at db (migrated to the newest schema after)."""
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    _check(backup)
    target = sqlite_path(db)
    if target.exists() and target.stat().st_size > 0 and not force:
        raise BackupRefused(
            f"{target} holds a database; stop its server and give --force to replace it with the backup"
            " (目标数据库已存在)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Through SQLite (not a file copy): the target's WAL and lock files stay consistent with what it holds.
    _copy_pages(backup, target)
    engine = make_engine(target)
    try:
        upgrade(engine)  # a backup from an older version of Bianmin comes back at the newest schema
    finally:
        engine.dispose()
    return contents(target)


def _copy_pages(source: Path, target: Path) -> None:
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(target, timeout=30)
            try:
                src.backup(dst)  # pages=-1: every page in one step, one consistent snapshot
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy {source} to {target}: {error}") from None


def _check(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            has_schema = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from None
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result[0] if result else 'no answer'}")
    if not has_schema or not has_schema[0]:
        raise BackupError(f"{path} is not a Bianmin database (it has no schema revision)")


# -- PostgreSQL --------------------------------------------------------------------------------------------------


def pg_command(tool: str, db: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The pg_dump/pg_restore command for the URL, and the environment that carries the password."""
    url = make_url(database_url(db))
    command = [tool, "--no-password"]
    if url.host:
        command += ["--host", url.host]
    if url.port:
        command += ["--port", str(url.port)]
    if url.username:
        command += ["--username", url.username]
    command += [*args, "--dbname" if tool == PG_RESTORE else "", url.database or ""]
    command = [part for part in command if part]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return command, env


def guidance(tool: str, db: str, *args: str) -> str:
    """What to run by hand where the PostgreSQL client tools are not installed."""
    command, _ = pg_command(tool, db, *args)
    return (
        f"{tool} is not on PATH (apt-get install postgresql-client-15, or the server's own version). Run:\n"
        f"  PGPASSWORD=... {' '.join(command)}"
    )


def backup_postgres(db: str, destination: Path, force: bool = False) -> None:
    if destination.exists() and not force:
        raise BackupRefused(f"{destination} exists; give --force to replace it (目标文件已存在)")
    args = ("--format=custom", "--file", str(destination))
    _run(PG_DUMP, db, *args)


def restore_postgres(backup: Path, db: str) -> None:
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    _run(PG_RESTORE, db, "--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction",
         str(backup))  # fmt: skip
    engine = make_engine(db)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _run(tool: str, db: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(guidance(tool, db, *args))
    command, env = pg_command(tool, db, *args)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
