"""Writing a changed ticket or window: the one place that also keeps the runtime's routing queue in step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update

from queue_server.runtime import LiveTicket, LiveWindow
from queue_server.store.tables import tickets, windows
from queue_server.store.writer import Tx

# Built once: SQLAlchemy reuses their compiled forms; the SET columns come from each call's parameters.
_UPDATE_WINDOW = update(windows).where(windows.c.hall == bindparam("b_hall"), windows.c.number == bindparam("b_number"))
_UPDATE_TICKET = update(tickets).where(tickets.c.id == bindparam("b_id"))


def save_window(tx: Tx, live: LiveWindow) -> None:
    """Write a changed window."""
    tx.touch()
    tx.conn.execute(
        _UPDATE_WINDOW,
        {
            "b_hall": tx.rt.hall.id,
            "b_number": live.number,
            "state": live.state.value,
            "clerk": live.clerk,
            "post": live.post.value if live.post else None,
            "current_ticket": live.current_ticket,
            "paused_reason": live.paused_reason,
            "priority_streak": live.priority_streak,
            "since": live.since,
        },
    )


def save_ticket(tx: Tx, ticket: LiveTicket, **extra: Any) -> None:
    """Write a changed ticket, and bring the routing queue in step with it."""
    tx.touch()
    tx.conn.execute(
        _UPDATE_TICKET,
        {
            "b_id": ticket.id,
            "state": ticket.state.value,
            "category": ticket.category,
            "window": ticket.window,
            "target_window": ticket.target_window,
            "called_at": ticket.called_at,
            "started_at": ticket.started_at,
            "recalls": ticket.recalls,
            "recalled_at": ticket.recalled_at,
            **extra,
        },
    )
    tx.rt.track(ticket)
