"""The county's side of link up: check a township's batch against the county's copy, and append what is new.

The copy of a hall's log is a prefix 1..last_seq of the township's. A batch continues it or repeats part of it:
events already held must be identical (a replay is answered with the county's last seq, nothing doubled), the
new ones are appended, and `link_peers.last_seq` is moved in the same transaction (the checkpoint). Anything
else (a gap, a batch out of order, other content for a seq held) is refused whole: nothing is written.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from queue_server.errors import Conflict
from queue_server.link.tables import link_county_tokens, link_peers, link_tokens
from queue_server.link.wire import TOKEN_PREFIX, Ack, Batch, ShippedEvent
from queue_server.services.accounts import token_hash
from queue_server.store.backends import backend_for
from queue_server.store.tables import events

#: A hall's lock not had within this is an error (503, the township retries), never a hang.
LOCK_TIMEOUT_MS = 5_000
FIELDS = ("type", "at", "actor", "window", "post", "ticket_id", "payload", "public")


class Refused(Conflict):
    """A batch that does not continue the county's copy: refused whole, with the county's last seq."""

    def __init__(self, code: str, message: str, last_seq: int) -> None:
        super().__init__(message)
        self.reason = code  # link_gap, link_out_of_order or link_conflict
        self.last_seq = last_seq


@dataclass(frozen=True)
class Sender:
    """Who sent a batch: the township whose link token it carries, or (at a city) the county relaying its halls."""

    hall: str | None
    county: str | None = None


def add_token(conn: Connection, now_us: int, hall: str) -> str:
    """A new link token for the hall (its old one stops working); only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(delete(link_tokens).where(link_tokens.c.hall == hall))
    conn.execute(insert(link_tokens).values(hall=hall, token_hash=token_hash(token), created_at=now_us))
    return token


def add_county_token(conn: Connection, now_us: int, county: str) -> str:
    """At a city: a new relay token for the county (its old one stops working); only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(delete(link_county_tokens).where(link_county_tokens.c.county == county))
    conn.execute(insert(link_county_tokens).values(county=county, token_hash=token_hash(token), created_at=now_us))
    return token


def sender_for_token(conn: Connection, token: str) -> Sender | None:
    digest = token_hash(token)
    hall = conn.execute(select(link_tokens.c.hall).where(link_tokens.c.token_hash == digest)).scalar()
    if hall is not None:
        return Sender(hall)
    county = conn.execute(select(link_county_tokens.c.county).where(link_county_tokens.c.token_hash == digest)).scalar()
    return None if county is None else Sender(None, county)


def held_seq(conn: Connection, hall: str) -> int:
    return int(conn.execute(select(func.max(events.c.seq)).where(events.c.hall == hall)).scalar() or 0)


def receive(conn: Connection, now_us: int, hall: str, batch: Batch) -> Ack | Refused:
    """Take the batch into the county's copy of the hall's log, or refuse it whole (and note why).

    A refusal is returned, not raised: the transaction wrote nothing of the log before it, and commits the note.
    """
    backend_for(conn).lock_halls(conn, [hall], LOCK_TIMEOUT_MS)  # two deliveries of one hall never interleave
    held = held_seq(conn, hall)
    try:
        return _take(conn, now_us, hall, batch, held)
    except Refused as refused:
        _record(conn, now_us, hall, held, batch)
        values = {"last_refusal": str(refused), "refused_at": now_us}
        conn.execute(update(link_peers).where(link_peers.c.hall == hall).values(**values))
        return refused


def _take(conn: Connection, now_us: int, hall: str, batch: Batch, held: int) -> Ack:
    _check_order(batch, held)
    if batch.events and batch.after > held:
        raise Refused("link_gap", f"gap: the county holds hall {hall} up to seq {held}, this batch starts at seq "
                                  f"{batch.after + 1}; send from seq {held + 1} (缺少中间事件)", held)  # fmt: skip
    old = [e for e in batch.events if e.seq <= held]
    new = [e for e in batch.events if e.seq > held]
    _check_same(conn, hall, old, held)
    if new:
        conn.execute(insert(events), [e.row(hall) for e in new])
    last = max(held, new[-1].seq if new else 0)
    _record(conn, now_us, hall, last, batch, taken=bool(new))
    return Ack(hall=hall, last_seq=last, received=len(new))


def _check_order(batch: Batch, held: int) -> None:
    expected = batch.after + 1
    for event in batch.events:
        if event.seq != expected:
            raise Refused("link_out_of_order", f"batch out of order: seq {event.seq} where seq {expected} was due; "
                                               "a batch holds consecutive events (顺序错误)", held)  # fmt: skip
        expected += 1


def _check_same(conn: Connection, hall: str, shipped: list[ShippedEvent], held: int) -> None:
    """Events the county holds already must come again exactly as they are held."""
    if not shipped:
        return
    columns = [events.c.seq, *(events.c[name] for name in FIELDS)]
    query = select(*columns).where(events.c.hall == hall, events.c.seq.between(shipped[0].seq, shipped[-1].seq))
    stored = {row.seq: tuple(row)[1:] for row in conn.execute(query)}
    for event in shipped:
        if stored.get(event.seq) != tuple(getattr(event, name) for name in FIELDS):
            message = (f"conflict: seq {event.seq} of hall {hall} differs from the event the county holds; "
                       "nothing was taken (事件内容与县级副本不一致)")  # fmt: skip
            raise Refused("link_conflict", message, held)


def _record(conn: Connection, now_us: int, hall: str, last: int, batch: Batch, *, taken: bool = False) -> None:
    values: dict[str, object] = {
        "last_seq": last, "last_contact": now_us, "waiting": batch.waiting, "version": batch.version
    }  # fmt: skip
    if batch.documents is not None:  # the county's documents the township runs (link down)
        values["documents"] = json.dumps([d.model_dump(mode="json") for d in batch.documents], ensure_ascii=False)
    if taken:  # the link works again: an old refusal is history
        values |= {"last_refusal": None, "refused_at": None}
    if conn.execute(update(link_peers).where(link_peers.c.hall == hall).values(**values)).rowcount == 0:
        conn.execute(insert(link_peers).values(hall=hall, **values))
