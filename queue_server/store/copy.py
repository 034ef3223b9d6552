"""Moving halls between databases: copy a hall's whole history (or every hall's), verify it, refuse to overwrite.

A township that moves onto the county's PostgreSQL, or a county that moves a hall back onto a PC, copies
with `bianmin db copy --from SRC --to DST [--hall H]`:

- the target is migrated to the newest schema first; the source is only read, in one snapshot;
- everything of the hall is copied with its ids and its event `seq`s: hall state, windows, devices,
  tickets, events, ratings, appointments and complaints; ids are kept because events, ratings, appointments and
  windows refer to tickets by id (and event payloads name rating and appointment ids);
- staff accounts of the copied halls come with their password hashes, as accounts of the copied halls
  only (an account of every hall in the source becomes one of the copied halls: in a county database
  "every hall" would mean far more); login sessions are not copied (everyone logs in again);
- nothing is written when the target already has rows of a copied hall, an account of the same name or
  a row with one of the copied ids (CopyRefused); everything is written in one transaction, verified
  (row counts per table, last seq per hall) before it commits: a failed copy leaves the target as it was;
- afterwards the target's id sequences follow the copied ids (a backend operation), so new rows do not collide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from queue_server.store.backends import backend_for, backend_for_url
from queue_server.store.engine import database_url
from queue_server.store.migrate import is_current, upgrade
from queue_server.store.tables import (
    appointments,
    cases,
    complaints,
    devices,
    events,
    hall_state,
    ratings,
    staff_halls,
    tickets,
    users,
    windows,
)

BATCH = 1000
LOCK_TIMEOUT_MS = 10_000
# Every table that holds a hall's rows, in an order that satisfies references (tickets before what names them).
HALL_TABLES: tuple[Table, ...] = (
    hall_state, windows, devices, tickets, events, ratings, appointments, cases, complaints,
)  # fmt: skip
KEPT_IDS: tuple[Column[Any], ...] = (tickets.c.id, ratings.c.id, appointments.c.id, cases.c.id, complaints.c.id)


class CopyError(Exception):
    """The copy cannot start or did not finish; the target is as it was."""


class CopyRefused(CopyError):
    """The target already holds what the copy would write: nothing was written."""


@dataclass(frozen=True)
class Counted:
    table: str
    source: int
    target: int


@dataclass
class CopyReport:
    halls: list[str]
    counts: list[Counted] = field(default_factory=list)
    last_seq: dict[str, tuple[int, int]] = field(default_factory=dict)  # hall → (source, target)
    staff: list[str] = field(default_factory=list)

    def lines(self, source: str, target: str) -> list[str]:
        width = max(len(c.table) for c in self.counts)
        out = [f"已复制 copied {', '.join(self.halls)}: {source} → {target}", f"{'table':{width}}  source  target"]
        out += [f"{c.table:{width}}  {c.source:6d}  {c.target:6d}" for c in self.counts]
        out += [f"last seq {hall}: {src} → {dst}" for hall, (src, dst) in self.last_seq.items()]
        if self.staff:
            out.append(f"staff of {', '.join(self.halls)}: {', '.join(self.staff)} (log in again; sessions not copied)")
        return out


def shown(db: str) -> str:
    """A database as it may be printed: the URL without its password."""
    try:
        return make_url(database_url(db)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid URL>"


def _url(db: str, role: str) -> str:
    try:
        return make_url(database_url(db)).render_as_string(hide_password=False)
    except (ArgumentError, ValueError, TypeError) as error:
        raise CopyError(f"{role}: not a database path or URL we can use ({error})") from None


def _engine(db: str, role: str, *, must_exist: bool) -> Engine:
    """An engine for a path or URL given by a person, each mistake said plainly."""
    try:
        backend = backend_for_url(db)
        url = backend.engine_url(db)
        parsed = make_url(url)
        if must_exist and parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
            raise CopyError(f"{role}: no database file at {parsed.database} (没有该数据库文件)")
        engine = backend.make_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError, TypeError) as error:
        raise CopyError(f"{role}: not a database path or URL we can use ({error})") from None
    return engine


def _reason(error: Exception) -> str:
    """The driver's own first line (never the SQL and its parameters, which SQLAlchemy would add)."""
    return (str(getattr(error, "orig", None) or error).strip().splitlines() or ["unknown error"])[0]


def _connect_error(role: str, db: str, error: Exception) -> CopyError:
    return CopyError(f"{role} {shown(db)}: cannot use the database (无法使用该数据库): {_reason(error)}")


def copy_database(source: str, target: str, halls: Sequence[str] | None = None, batch: int = BATCH) -> CopyReport:
    """Copy `halls` (default: every hall of the source) from `source` to `target`; see the module's docstring."""
    if _url(source, "source") == _url(target, "target"):
        raise CopyError("the source and the target are the same database (源和目标是同一个数据库)")
    src = _engine(source, "source", must_exist=True)
    try:
        dst = _engine(target, "target", must_exist=False)
        try:
            return _copy(src, dst, source, target, halls, batch)
        finally:
            dst.dispose()
    finally:
        src.dispose()


def _copy(src: Engine, dst: Engine, source: str, target: str, halls: Sequence[str] | None, batch: int) -> CopyReport:
    try:
        if not is_current(src):
            raise CopyError(
                f"source {shown(source)} is not at this version's schema: start `bianmin serve --db` on it once"
                " (it migrates), or use the bianmin that wrote it (源数据库版本不符)"
            )
    except DBAPIError as error:
        raise _connect_error("source", source, error) from None
    try:
        upgrade(dst)
    except DBAPIError as error:
        raise _connect_error("target", target, error) from None
    reader = backend_for(src).reader_engine(src)
    try:
        with reader.connect() as read, read.begin():
            backend_for(read).begin_snapshot(read)
            chosen = _halls(read, halls)
            with dst.begin() as write:
                backend_for(write).lock_halls(write, chosen, LOCK_TIMEOUT_MS)
                _refuse_overwrite(read, write, chosen)
                report = CopyReport(chosen)
                for table in HALL_TABLES:
                    _copy_rows(read, write, table, chosen, batch)
                report.staff = _copy_staff(read, write, chosen)
                backend_for(write).reset_id_sequences(write, [*KEPT_IDS, users.c.id])
                _verify(read, write, chosen, report)
    except DBAPIError as error:
        raise CopyError(
            f"the copy to {shown(target)} failed and nothing was written (复制失败，未写入任何数据): {_reason(error)}"
        ) from None
    finally:
        if reader is not src:
            reader.dispose()
    return report


def _halls(read: Connection, wanted: Sequence[str] | None) -> list[str]:
    present: set[str] = set()
    for table in HALL_TABLES:
        present |= set(read.execute(select(table.c.hall).distinct()).scalars())
    if not wanted:
        if not present:
            raise CopyError("the source has no hall to copy (源数据库没有服务大厅的数据)")
        return sorted(present)
    missing = sorted(set(wanted) - present)
    if missing:
        raise CopyError(
            f"the source has no hall {', '.join(missing)} (源数据库没有该大厅);"
            f" halls there: {', '.join(sorted(present)) or 'none'}"
        )
    return sorted(set(wanted))


def _count(conn: Connection, table: Table, halls: list[str]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(table.c.hall.in_(halls))).scalar_one())


def _refuse_overwrite(read: Connection, write: Connection, halls: list[str]) -> None:
    problems = [f"{table.name}: {n} row(s)" for table in HALL_TABLES if (n := _count(write, table, halls))]
    if problems:
        raise CopyRefused(
            f"the target already has rows of {', '.join(halls)} ({'; '.join(problems)}): nothing was written"
            " (目标数据库已有该大厅的数据，未写入). Copy into a database that has not served the hall yet."
        )
    for column in KEPT_IDS:
        table = column.table
        assert isinstance(table, Table)
        mine = table.c.hall.in_(halls)
        low, high = read.execute(select(func.min(column), func.max(column)).where(mine)).one()
        if low is None:
            continue
        in_range = select(column).where(column >= low, column <= high)
        taken = set(write.execute(in_range).scalars())
        clashing = taken & set(read.execute(in_range.where(mine)).scalars()) if taken else set()
        if clashing:
            raise CopyRefused(
                f"the target's {table.name} already has {len(clashing)} of the ids the copy keeps (from"
                f" {min(clashing)}): nothing was written (目标数据库的编号与源冲突)"
            )
    names = list(_staff_rows(read, halls))
    existing = set(
        write.execute(select(users.c.username).where(users.c.username.in_([r["username"] for r in names]))).scalars()
    )
    if existing:
        raise CopyRefused(
            f"the target already has staff accounts named {', '.join(sorted(existing))}: nothing was written"
            " (目标数据库已有同名账号)"
        )


def _batches(read: Connection, query: Any, batch: int) -> Iterator[list[dict[str, Any]]]:
    result = read.execution_options(yield_per=batch).execute(query)
    for part in result.mappings().partitions(batch):
        yield [dict(row) for row in part]


def _copy_rows(read: Connection, write: Connection, table: Table, halls: list[str], batch: int) -> None:
    query = select(table).where(table.c.hall.in_(halls)).order_by(*table.primary_key.columns)
    for rows in _batches(read, query, batch):
        write.execute(insert(table), rows)


def _staff_rows(read: Connection, halls: list[str]) -> Iterator[dict[str, Any]]:
    members = select(staff_halls.c.user_id).where(staff_halls.c.hall.in_(halls))
    query = select(users).where((users.c.all_halls.is_(True)) | users.c.id.in_(members)).order_by(users.c.id)
    for row in read.execute(query).mappings():
        yield dict(row)


def _copy_staff(read: Connection, write: Connection, halls: list[str]) -> list[str]:
    """The accounts of the copied halls, with new ids (nothing refers to a user's id but its sessions)."""
    scope: dict[int, set[str]] = {}
    for r in read.execute(select(staff_halls).where(staff_halls.c.hall.in_(halls))):
        scope.setdefault(r.user_id, set()).add(r.hall)
    copied = []
    for row in _staff_rows(read, halls):
        old_id = row.pop("id")
        their = set(halls) if row["all_halls"] else scope[old_id]
        inserted = write.execute(insert(users).values({**row, "all_halls": False})).inserted_primary_key
        assert inserted is not None
        write.execute(insert(staff_halls), [{"user_id": inserted[0], "hall": h} for h in sorted(their)])
        copied.append(row["username"])
    return copied


def _last_seq(conn: Connection, hall: str) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0)).where(events.c.hall == hall)).scalar_one())


def _verify(read: Connection, write: Connection, halls: list[str], report: CopyReport) -> None:
    """Count both sides before the commit: any difference undoes the whole copy."""
    for table in HALL_TABLES:
        report.counts.append(Counted(table.name, _count(read, table, halls), _count(write, table, halls)))
    copied = write.execute(select(func.count()).where(users.c.username.in_(report.staff))).scalar_one()
    report.counts.append(Counted("users", len(report.staff), int(copied)))
    for hall in halls:
        report.last_seq[hall] = (_last_seq(read, hall), _last_seq(write, hall))
    wrong = [c.table for c in report.counts if c.source != c.target]
    wrong += [f"last seq of {h}" for h, (a, b) in report.last_seq.items() if a != b]
    if wrong:
        raise CopyError(f"the copy does not match its source ({', '.join(wrong)}): nothing was written")
