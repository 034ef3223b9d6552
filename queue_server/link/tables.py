"""The link's tables: the township's acknowledged position, the county's tokens and copies (migration 0008)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

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
)
