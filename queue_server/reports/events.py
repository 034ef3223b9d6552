"""Event rows as the reports read them, and the query that reads them from the hall's event log.

A month of a busy hall is a quarter of a million events; decoding each payload's JSON in Python
would cost more than everything else together. So the few payload fields the reports use are
extracted by the database (the backend's `json_text`: SQLite's `json_extract`, PostgreSQL's `->>`), and a
report's EventRow carries a slim payload with only those keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, case, null, select

from queue_server.store.backends import Backend, backend_for
from queue_server.store.tables import events

#: The payload fields a report uses, by event type.
REPORT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "ticket.issued": ("category", "item_id"),
    "ticket.finished": ("case_class",),
    "ticket.transferred": ("to_category",),
    "ticket.rated": ("level",),
}
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


def events_query(backend: Backend, hall: str, start_us: int, end_us: int | None, after_seq: int) -> Select[Any]:
    """The report's SELECT: the event columns and the payload fields the reports use."""
    columns: list[ColumnElement[Any]] = [
        events.c.seq, events.c.type, events.c.at, events.c.actor, events.c.window, events.c.post, events.c.ticket_id,
    ]  # fmt: skip
    kind = events.c.type

    def field(key: str) -> ColumnElement[Any]:
        return backend.json_text(events.c.payload, key)

    columns += [
        case((kind == "ticket.issued", field("category")), (kind == "ticket.transferred", field("to_category")),
             else_=null()),
        case((kind == "ticket.issued", field("item_id")), else_=null()),
        case((kind == "ticket.finished", field("case_class")), (kind == "ticket.rated", field("level")),
             else_=null()),
    ]  # fmt: skip
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
    result_set = conn.execute(events_query(backend_for(conn), hall, start_us, end_us, after_seq))
    # The driver's plain tuples: every column is an int or a str as stored, so SQLAlchemy's Row
    # objects (a quarter of the time of a month's report) add nothing here.
    cursor = result_set.cursor
    make = tuple.__new__  # EventRow(...) goes through a Python-level __new__: three times slower
    try:
        while rows := cursor.fetchmany(BATCH):
            for seq, kind, at, actor, window, post, ticket, category, item, case_or_level in rows:
                payload: Mapping[str, Any]
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
