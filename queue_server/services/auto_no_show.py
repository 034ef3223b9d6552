"""The automatic no-show (过号): after the last allowed recall, a citizen who has not come within the hall's
`queue.no_show_after_s` is marked a no-show by the system, as the clerk would.

Every server process watches its read side for a called ticket past its deadline, and only then runs a hall
transaction. The transaction decides again on the writer's runtime, which holds the hall's lock and has caught
up with the log: when two processes' timers fire together, the second finds the ticket already a no-show (the
first one's event was read by the catch-up) and does nothing. So a ticket gets exactly one no-show event.
"""

from __future__ import annotations

import asyncio
import logging

from queue_server.domain.tickets import TicketState, no_show_due
from queue_server.hall_view import HallViews
from queue_server.runtime import HallRuntime, LiveTicket, LiveWindow
from queue_server.services.window_actions import mark_no_show
from queue_server.store.writer import Store, Tx, to_us

log = logging.getLogger(__name__)

#: The actor of the events the system writes by itself (the audit trail shows it as 系统).
SYSTEM_ACTOR = "system"
#: How often each process looks at its read side (a no-show is at most this late; the look costs no query).
WATCH_EVERY_S = 0.5


def deadline(rt: HallRuntime, ticket: LiveTicket) -> int | None:
    """When the called ticket becomes a no-show by itself (µs), or None (recalls left, the rule off)."""
    if ticket.state is not TicketState.CALLED:
        return None
    rules = rt.hall.queue
    return no_show_due(ticket.last_called_at, ticket.recalls, rules.recall_limit, rules.no_show_after_s)


def due(rt: HallRuntime, now_us: int) -> list[tuple[LiveWindow, LiveTicket]]:
    """The windows whose called ticket is past its deadline, with the ticket."""
    found = []
    for live in rt.windows.values():
        ticket = rt.tickets.get(live.current_ticket) if live.current_ticket is not None else None
        if ticket is None or ticket.window != live.number:
            continue
        at = deadline(rt, ticket)
        if at is not None and at <= now_us:
            found.append((live, ticket))
    return found


def mark_due(tx: Tx) -> list[str]:
    """In the hall's transaction: mark every ticket past its deadline a no-show; return their numbers."""
    rt: HallRuntime = tx.rt
    marked = []
    for live, ticket in due(rt, tx.now_us):
        payload = {"recalls": ticket.recalls, "automatic": True, "after_s": rt.hall.queue.no_show_after_s}
        mark_no_show(tx, live, ticket, SYSTEM_ACTOR, payload)
        marked.append(ticket.number)
    return marked


async def watch_no_shows(store: Store, views: HallViews, every_s: float = WATCH_EVERY_S) -> None:
    """Mark the automatic no-shows of every hall served here; runs until cancelled (on the event loop)."""
    while True:
        await asyncio.sleep(every_s)
        now_us = to_us(store.clock())
        for hall in store.config.halls:
            if hall.queue.no_show_after_s <= 0:
                continue
            view = views.get(hall.id)
            if view is None or not due(view, now_us):
                continue
            try:
                marked = await store.run(hall.id, mark_due)
            except Exception:  # the database may be away: the next look tries again
                log.warning("the automatic no-show of hall %s failed", hall.id, exc_info=True)
                continue
            if marked:
                log.info("hall %s: %d automatic no-show(s)", hall.id, len(marked))
