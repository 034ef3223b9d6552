"""The link's tables: the township's acknowledged position, the county's tokens and copies (migration 0008), the
county's published documents and what a township did with them (0009), a city's county tokens (0011)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, String, Table, Text

from queue_server.store.tables import metadata

# At a township: how far the county has acknowledged each hall's log, and how the link went last.
link_state = Table(
    "link_state",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("acked_seq", BigInteger, nullable=False),  # the county holds every event up to this seq
    Column("last_contact", BigInteger, nullable=True),  # the county's last answer (µs)
    Column("last_error", Text, nullable=True),  # the last failure, None once a batch went through again
    Column("error_at", BigInteger, nullable=True),
)

# At a county: each township's link token (only its hash), one per hall.
link_tokens = Table(
    "link_tokens",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

# At a city: each county's relay token (only its hash): it may send the events of that county's halls only.
link_county_tokens = Table(
    "link_county_tokens",
    metadata,
    Column("county", String(48), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

# At a county: each township's copy, written in the same transaction as the events it records (the checkpoint).
link_peers = Table(
    "link_peers",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),  # the county holds the hall's events 1..last_seq
    Column("last_contact", BigInteger, nullable=False),
    Column("waiting", BigInteger, nullable=False),  # events the township said it still had to send
    Column("version", String(40), nullable=False),  # the township's Bianmin version
    Column("last_refusal", Text, nullable=True),  # the last batch refused (409), None once one is taken
    Column("refused_at", BigInteger, nullable=True),
    Column("documents", Text, nullable=True),  # JSON: the county's documents the township runs, staged, refused
)

# At a county: every version of the documents it published (link down), with its canonical body.
link_documents = Table(
    "link_documents",
    metadata,
    Column("kind", String(16), primary_key=True),  # catalogue or calendar
    Column("version", Integer, primary_key=True),  # 1, 2, ... per kind
    Column("sha256", String(64), nullable=False),  # of the body, as served
    Column("content_sha256", String(64), nullable=False),  # of the content without its header: no new version of it
    Column("body", Text, nullable=False),
    Column("published_at", BigInteger, nullable=False),
)

# At a township: a county document version fetched and checked, waiting for the next day start, or refused.
link_received = Table(
    "link_received",
    metadata,
    Column("hall", String(48), primary_key=True),  # the hall whose link fetched it
    Column("kind", String(16), primary_key=True),
    Column("state", String(8), primary_key=True),  # staged or refused
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("day", Date, nullable=True),  # staged: the service day it was staged on (applied on a later one)
    Column("error", Text, nullable=True),  # refused: why
    Column("at", BigInteger, nullable=False),
)
