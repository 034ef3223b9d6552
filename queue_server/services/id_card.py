"""Tickets by ID card: the hall's hashing key, and one open ticket per card per category (against 黄牛).

The server never sees an ID number: the kiosk hashes it (HMAC-SHA256) with the hall's key, which it gets
over its device token, and sends only the hash (docs/id-card.md says why this side). The key lives in a
file (mode 600) outside the database; the hashes are cleared at day close.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine

from config.schema import Hall
from queue_server.domain.tickets import TicketState
from queue_server.errors import Conflict
from queue_server.runtime import HallRuntime
from queue_server.store.tables import tickets
from queue_server.store.writer import Tx

KEY_BYTES = 32
OPEN_STATES = (TicketState.WAITING, TicketState.CALLED)
_keys: dict[Path, str] = {}


class IdTicketOpen(Conflict):
    code = "id_ticket_open"


def data_dir(engine: Engine) -> Path:
    """Where generated files go: beside the SQLite file, or ./var/ (where `bianmin serve` puts the demo accounts)."""
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database).parent
    return Path("var")


def key_path(hall: Hall, engine: Engine) -> Path:
    return (
        Path(hall.id_card.key_file) if hall.id_card.key_file is not None else data_dir(engine) / f"idcard-{hall.id}.key"
    )


def hall_key(path: Path) -> str:
    """The hall's key (hex) from `path`, made there (mode 600) on first use. Kept in a file, not in the database:
    a copy of the database (a backup, a stolen disk image) holds the hashes but not what tests guesses against
    them. Several processes starting at once agree (only one creates it). ValueError: the file holds no key."""
    path = path.absolute()  # the cache's key: a relative default means the folder the server runs in
    known = _keys.get(path)
    if known is not None:
        return known
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(KEY_BYTES) + "\n")
    key = path.read_text(encoding="ascii").strip().lower()
    if len(key) < 32 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"{path} does not hold an ID card key (at least 32 hexadecimal digits)")
    _keys[path] = key
    return key


def drop_hashes(tx: Tx) -> None:
    """At day close: the hashes of the hall's tickets are cleared (the rule is about today's open tickets only)."""
    tx.conn.execute(update(tickets).where(tickets.c.hall == tx.rt.hall.id, tickets.c.id_hash.is_not(None))
                    .values(id_hash=None))  # fmt: skip
    for ticket in tx.rt.tickets.values():
        ticket.id_hash = None


def check_one_open(rt: HallRuntime, id_hash: str, category: str) -> None:
    """Refuse a second ticket of a category for a card whose first one is still waiting or called."""
    for ticket in rt.tickets.values():
        if ticket.id_hash == id_hash and ticket.category == category and ticket.state in OPEN_STATES:
            raise IdTicketOpen(
                f"this ID card already has ticket {ticket.number} waiting in this category: one at a time"
                f" (该身份证在本类业务已有未办结的号 {ticket.number}，请等候叫号)"
            )
