"""Event rows as the reports read them, and the query that reads them from the hall's event log.

A month of a busy hall is a quarter of a million events; decoding each payload's JSON in Python
would cost more than everything else together. So the few payload fields the reports use are
extracted by the database (SQLite's `json_extract`, PostgreSQL's `->>`), and a report's EventRow
carries a slim payload with only those keys. Other databases fall back to decoding in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, case, cast, func, null, select
from sqlalchemy.dialects.postgresql import JSONB

from queue_server.store.tables import events

#: The payload fields a report uses, by event type.
REPORT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "ticket.issued": ("category", "item_id"),
    "ticket.finished": ("case_class",),
    "ticket.transferred": ("to_category",),
    "ticket.rated": ("level",),
}
PAYLOAD_TYPES = tuple(REPORT_FIELDS)
_EMPTY: Mapping[str, Any] = {}


class EventRow(NamedTuple):
    """One event of the hall's log (a NamedTuple: a month's report reads a few hundred thousand)."""

    seq: int
    type: str
    at: int  # µs since the epoch
    actor: str | None = None
    window: int | None = None
    post: str | None = None
    ticket_id: int | None = None
    payload: Mapping[str, Any] = _EMPTY


def _field(dialect: str, key: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.json_extract(events.c.payload, f"$.{key}")
    field: ColumnElement[Any] = cast(events.c.payload, JSONB)[key].astext
    return field


def events_query(dialect: str, hall: str, start_us: int, end_us: int | None, after_seq: int) -> Select[Any]:
    """The report's SELECT: the event columns, and either the used payload fields or the payload itself."""
    columns: list[ColumnElement[Any]] = [
        events.c.seq, events.c.type, events.c.at, events.c.actor, events.c.window, events.c.post, events.c.ticket_id,
    ]  # fmt: skip
    if dialect in ("sqlite", "postgresql"):
        kind = events.c.type
        columns += [
            case(
                (kind == "ticket.issued", _field(dialect, "category")),
                (kind == "ticket.transferred", _field(dialect, "to_category")),
                else_=null(),
            ),
            case((kind == "ticket.issued", _field(dialect, "item_id")), else_=null()),
            case(
                (kind == "ticket.finished", _field(dialect, "case_class")),
                (kind == "ticket.rated", _field(dialect, "level")),
                else_=null(),
            ),
        ]
    else:
        columns.append(case((events.c.type.in_(PAYLOAD_TYPES), events.c.payload), else_=null()))
    query = select(*columns).where(events.c.hall == hall, events.c.at >= start_us).order_by(events.c.seq)
    if end_us is not None:
        query = query.where(events.c.at < end_us)
    if after_seq:
        query = query.where(events.c.seq > after_seq)
    return query


def read_events(
    conn: Connection, hall: str, start_us: int, end_us: int | None = None, *, after_seq: int = 0
) -> list[EventRow]:
    """The hall's events at `start_us` ≤ at < `end_us` (and after `after_seq`), in log order.

    Each row's payload holds only the fields of REPORT_FIELDS (all of it on other databases).
    """
    return list(iter_events(conn, hall, start_us, end_us, after_seq=after_seq))


BATCH = 5_000


def iter_events(
    conn: Connection, hall: str, start_us: int, end_us: int | None = None, *, after_seq: int = 0
) -> Iterator[EventRow]:
    """As read_events, a batch at a time: a month's rows are folded as they come and never all held,
    and each batch is garbage before the next (the cyclic collector then has little to look at)."""
    dialect = conn.dialect.name
    result_set = conn.execute(events_query(dialect, hall, start_us, end_us, after_seq))
    # The driver's plain tuples: every column is an int or a str as stored, so SQLAlchemy's Row
    # objects (a quarter of the time of a month's report) add nothing here.
    cursor = result_set.cursor
    make = tuple.__new__  # EventRow(...) goes through a Python-level __new__: three times slower
    slim = dialect in ("sqlite", "postgresql")
    try:
        while rows := cursor.fetchmany(BATCH):
            if not slim:
                for seq, kind, at, actor, window, post, ticket, text in rows:
                    payload = json.loads(text) if text else _EMPTY
                    yield make(EventRow, (seq, kind, at, actor, window, post, ticket, payload))
                continue
            for seq, kind, at, actor, window, post, ticket, category, item, case_or_level in rows:
                if kind == "ticket.issued":
                    payload = {"category": category, "item_id": item}
                elif kind == "ticket.finished":
                    payload = {"case_class": case_or_level}
                elif kind == "ticket.rated":
                    payload = {"level": case_or_level}
                elif kind == "ticket.transferred":
                    payload = {"to_category": category}
                else:
                    payload = _EMPTY
                yield make(EventRow, (seq, kind, at, actor, window, post, ticket, payload))
    finally:
        result_set.close()


def last_seq(conn: Connection, hall: str) -> int:
    """The hall's newest sequence number (0 for an empty log)."""
    row = conn.execute(select(events.c.seq).where(events.c.hall == hall).order_by(events.c.seq.desc()).limit(1)).first()
    return int(row.seq) if row is not None else 0
