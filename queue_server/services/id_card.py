"""Tickets by ID card: the hall's hashing key, and one open ticket per card per category (against 黄牛).

The server never sees an ID number: the kiosk hashes it (HMAC-SHA256) with the hall's key, which it gets
over its device token, and sends only the hash (docs/id-card.md says why this side).
"""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select

from queue_server.domain.tickets import TicketState
from queue_server.errors import Conflict
from queue_server.runtime import HallRuntime
from queue_server.store.tables import id_card_keys
from queue_server.store.writer import Tx

KEY_BYTES = 32
OPEN_STATES = (TicketState.WAITING, TicketState.CALLED)


class IdTicketOpen(Conflict):
    code = "id_ticket_open"


def hall_key(tx: Tx) -> str:
    """The hall's key (hex), made on first use; the same for every kiosk of the hall, kept across restarts."""
    hall = tx.rt.hall.id
    key = tx.conn.execute(select(id_card_keys.c.key).where(id_card_keys.c.hall == hall)).scalar_one_or_none()
    if key is None:
        key = secrets.token_hex(KEY_BYTES)
        tx.conn.execute(insert(id_card_keys).values(hall=hall, key=key, created_at=tx.now_us))
    return str(key)


def check_one_open(rt: HallRuntime, id_hash: str, category: str) -> None:
    """Refuse a second ticket of a category for a card whose first one is still waiting or called."""
    for ticket in rt.tickets.values():
        if ticket.id_hash == id_hash and ticket.category == category and ticket.state in OPEN_STATES:
            raise IdTicketOpen(
                f"this ID card already has ticket {ticket.number} waiting in this category: one at a time"
                f" (该身份证在本类业务已有未办结的号 {ticket.number}，请等候叫号)"
            )
