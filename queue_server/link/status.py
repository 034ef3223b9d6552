"""The link's status on both sides: the township's manager wall, and the county's list of its townships."""

from __future__ import annotations

import datetime as dt
import json

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, func, select

from config.documents import KINDS
from config.schema import Hall
from queue_server.link import publisher
from queue_server.link.tables import link_peers, link_state
from queue_server.link.wire import DocumentReport
from queue_server.store.tables import events
from queue_server.store.writer import from_us

US = 1_000_000


class LinkView(BaseModel):
    """A township hall's link up, as its manager's wall shows it."""

    model_config = ConfigDict(frozen=True)

    url: str
    acked_seq: int  # the county holds the hall's events up to this seq
    newest_seq: int
    waiting: int  # events not acknowledged yet
    last_contact: dt.datetime | None  # the county's last answer
    last_error: str | None  # None: the last request went through
    error_at: dt.datetime | None
    documents: list[DocumentReport] = []  # link down: the county's catalogue and calendar here


class CountyDocument(DocumentReport):
    """A township's report of one kind of document, with the county's newest version of it."""

    published: int | None = None  # None: never published


class TownshipLink(BaseModel):
    """A township as its county sees it: how far its copy is, and how long since it was heard from."""

    model_config = ConfigDict(frozen=True)

    hall: str
    name_zh: str
    name_en: str
    last_seq: int  # the county holds the hall's events 1..last_seq
    newest_event_at: dt.datetime | None  # the time of the newest event held
    last_contact: dt.datetime | None
    silent_s: int | None  # seconds since the last contact (None: never heard from)
    waiting: int  # events the township said it still had to send
    version: str
    last_refusal: str | None
    refused_at: dt.datetime | None
    documents: list[CountyDocument] = []  # link down: what the township runs, staged and refused, as it last said


def _time(us: int | None) -> dt.datetime | None:
    return None if us is None else from_us(int(us))


def link_view(conn: Connection, hall: Hall) -> LinkView | None:
    """The hall's link as its township last saw it (None: the hall does not ship)."""
    if hall.link is None:
        return None
    state = conn.execute(select(link_state).where(link_state.c.hall == hall.id)).first()
    newest = int(conn.execute(select(func.max(events.c.seq)).where(events.c.hall == hall.id)).scalar() or 0)
    acked = int(state.acked_seq) if state is not None else 0
    return LinkView(
        url=hall.link.url,
        acked_seq=acked,
        newest_seq=newest,
        waiting=max(0, newest - acked),
        last_contact=_time(state.last_contact) if state is not None else None,
        last_error=state.last_error if state is not None else None,
        error_at=_time(state.error_at) if state is not None else None,
    )


def township_links(conn: Connection, townships: list[Hall], now_us: int) -> list[TownshipLink]:
    """Each township's copy at the county, in the configuration's order."""
    rows = {r.hall: r for r in conn.execute(select(link_peers).where(link_peers.c.hall.in_([h.id for h in townships])))}
    published = publisher.newest_versions(conn)
    found = []
    for hall in townships:
        row = rows.get(hall.id)
        newest = conn.execute(
            select(events.c.at).where(events.c.hall == hall.id).order_by(events.c.seq.desc()).limit(1)
        ).scalar()
        contact = None if row is None else int(row.last_contact)
        found.append(TownshipLink(
            hall=hall.id, name_zh=hall.name_zh, name_en=hall.name_en,
            last_seq=0 if row is None else int(row.last_seq),
            newest_event_at=_time(newest),
            last_contact=_time(contact),
            silent_s=None if contact is None else max(0, (now_us - contact) // US),
            waiting=0 if row is None else int(row.waiting),
            version="" if row is None else row.version,
            last_refusal=None if row is None else row.last_refusal,
            refused_at=None if row is None else _time(row.refused_at),
            documents=_documents(None if row is None else row.documents, published),
        ))  # fmt: skip
    return found


def _documents(text: str | None, published: dict[str, int]) -> list[CountyDocument]:
    """Each kind as the township last reported it (checked when it came), and the county's newest version."""
    said: dict[str, CountyDocument] = {}
    try:
        for entry in json.loads(text or "[]"):
            report = CountyDocument.model_validate(entry)
            said[report.kind] = report
    except (ValueError, ValidationError):
        said = {}
    return [
        (said.get(kind) or CountyDocument(kind=kind)).model_copy(update={"published": published.get(kind)})
        for kind in KINDS
    ]
