"""The county's side of link down: publish the catalogue and the calendar as numbered versions, serve them.

A version's body is rendered canonically from the county's validated configuration (`config/documents.py`), so
publishing the same content again makes no new version. Versions are never changed or removed: a township that
runs version 7 can always be told what version 7 was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from config import documents
from config.documents import Kind
from config.schema import HallConfig
from queue_server.errors import BadRequest
from queue_server.link.tables import link_documents
from queue_server.link.wire import DocumentIndex, DocumentInfo
from queue_server.store.backends import backend_for
from queue_server.store.writer import from_us

LOCK = "#link-documents"  # one publisher at a time (an advisory lock of its own, beside the halls')
LOCK_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class Published:
    """A kind's newest version after publishing: new, or the same content published before."""

    kind: Kind
    version: int
    sha256: str
    size: int
    new: bool
    count: int  # items, or calendar years


def contents(config: HallConfig) -> dict[Kind, tuple[str, int]]:
    """Each document's canonical content and how many entries it holds.

    The catalogue is `[county] catalog` (its items), else the items of the county's first hall; the calendar is
    the configuration's (its `calendar` files, else the official calendars bundled with Bianmin).
    """
    items = config.county.items if config.county is not None and config.county.items else config.halls[0].items
    return {
        "catalogue": (documents.catalogue_content(items), len(items)),
        "calendar": (documents.calendar_content(config.calendar), len(config.calendar)),
    }


def publish(conn: Connection, now_us: int, kind: Kind, content: str, count: int, county: str | None) -> Published:
    """Store the content as the kind's next version, unless it is the newest version's content already."""
    backend_for(conn).lock_halls(conn, [LOCK], LOCK_TIMEOUT_MS)
    newest = conn.execute(
        select(link_documents).where(link_documents.c.kind == kind).order_by(link_documents.c.version.desc()).limit(1)
    ).first()
    digest = documents.sha256(content.encode())
    if newest is not None and newest.content_sha256 == digest:
        return Published(kind, newest.version, newest.sha256, len(newest.body.encode()), False, count)
    version = 1 if newest is None else newest.version + 1
    body = documents.render(kind, version, content, county, from_us(now_us))
    data = body.encode()
    if len(data) > documents.MAX_BYTES:
        raise BadRequest(f"the {kind} has {len(data)} bytes; a document may have at most {documents.MAX_BYTES}")
    conn.execute(insert(link_documents).values(kind=kind, version=version, sha256=documents.sha256(data),
                                               content_sha256=digest, body=body, published_at=now_us))  # fmt: skip
    return Published(kind, version, documents.sha256(data), len(data), True, count)


def index(conn: Connection) -> DocumentIndex:
    """The newest version of each kind."""
    found: dict[str, DocumentInfo] = {}
    for kind in documents.KINDS:
        row = conn.execute(
            select(link_documents.c.version, link_documents.c.sha256, link_documents.c.body,
                   link_documents.c.published_at)
            .where(link_documents.c.kind == kind).order_by(link_documents.c.version.desc()).limit(1)
        ).first()  # fmt: skip
        if row is not None:
            found[kind] = DocumentInfo(version=row.version, sha256=row.sha256, size=len(row.body.encode()),
                                       published_at=from_us(row.published_at))  # fmt: skip
    return DocumentIndex.model_validate(found)


def body(conn: Connection, kind: Kind, version: int) -> str | None:
    query = select(link_documents.c.body).where(link_documents.c.kind == kind, link_documents.c.version == version)
    text: str | None = conn.execute(query).scalar()
    return text


def newest_versions(conn: Connection) -> dict[str, int]:
    """Each kind's newest version number (a kind never published is missing)."""
    newest = index(conn)
    return {kind: info.version for kind in documents.KINDS if (info := getattr(newest, kind)) is not None}
