"""Phone reminders a citizen asked for on the phone page: 快到您了 when few are ahead, and the call.

The consent and the phone number live in `notify_requests` for the service day only (deleted when the day
closes), never in an event, a message or a log. Each notice is claimed in the hall transaction that makes it
due (a call), under the hall's lock, by marking the request: of several processes only the one that commits
the call sends it, once. The notices go out after the commit (Tx.outbox → notify/sender.py), never holding
up the writer or the call.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, insert, select, update

from queue_server.domain.cases import mask_phone
from queue_server.domain.tickets import TicketState
from queue_server.errors import BadRequest, Conflict, NotFound
from queue_server.notify.message import Notice, call_texts, soon_texts
from queue_server.runtime import HallRuntime, LiveTicket
from queue_server.store.tables import notify_requests
from queue_server.store.writer import Tx

_ASKABLE = (TicketState.WAITING, TicketState.TRANSFERRED)


class ReminderState(BaseModel):
    """Whether the ticket's phone reminder is on, and to which phone (masked)."""

    model_config = ConfigDict(extra="forbid")
    available: bool  # the hall sends phone reminders
    active: bool
    phone: str | None = None  # masked: 138****5678
    remind_ahead: int | None = None  # 快到您了 when this many or fewer are ahead


def _ticket(rt: HallRuntime, track_token: str) -> LiveTicket:
    ticket = rt.by_track_token(track_token)
    if ticket is None:
        raise NotFound("no live ticket of today has this tracking token (号票不存在或已失效)")
    return ticket


def reminder_state(tx: Tx, track_token: str) -> ReminderState:
    rt: HallRuntime = tx.rt
    ticket = _ticket(rt, track_token)
    if rt.hall.notify is None:
        return ReminderState(available=False, active=False)
    row = tx.conn.execute(select(notify_requests).where(notify_requests.c.ticket_id == ticket.id)).first()
    return ReminderState(
        available=True,
        active=row is not None,
        phone=mask_phone(row.phone) if row is not None else None,
        remind_ahead=rt.hall.notify.remind_ahead,
    )


def ask(tx: Tx, track_token: str, phone: str, consent: bool) -> ReminderState:
    """The citizen's consent and phone: remind them (at once when few are ahead already)."""
    rt: HallRuntime = tx.rt
    ticket = _ticket(rt, track_token)
    if rt.hall.notify is None:
        raise NotFound(f"hall {rt.hall.id} sends no phone reminders (本大厅未开通手机提醒)")
    if not consent:
        raise BadRequest("a reminder needs your consent to use the phone number today (请勾选同意)")
    if ticket.state not in _ASKABLE:
        state = ticket.state.label_en
        raise Conflict(f"a reminder is for a waiting ticket; {ticket.number} is {state} (仅排队中可设置提醒)")
    assert rt.day is not None
    tx.conn.execute(delete(notify_requests).where(notify_requests.c.ticket_id == ticket.id))
    tx.conn.execute(
        insert(notify_requests).values(
            ticket_id=ticket.id, hall=rt.hall.id, day=rt.day, phone=phone, created_at=tx.now_us,
            reminded=False, called=False,
        )
    )  # fmt: skip
    claim_due(tx)
    return reminder_state(tx, track_token)


def withdraw(tx: Tx, track_token: str) -> None:
    """The citizen takes the reminder back: the phone is deleted."""
    ticket = _ticket(tx.rt, track_token)
    tx.conn.execute(delete(notify_requests).where(notify_requests.c.ticket_id == ticket.id))


def claim_due(tx: Tx, called: LiveTicket | None = None) -> None:
    """Claim the notices due now (after a call, or a new request) and put them in the transaction's outbox.

    `called`: the ticket just called (its call notice); every waiting ticket with a request is checked
    for 快到您了. A request is marked in this transaction, so it is sent once.
    """
    rt: HallRuntime = tx.rt
    settings = rt.hall.notify
    if settings is None or rt.day is None:
        return
    rows = tx.conn.execute(
        select(notify_requests).where(
            notify_requests.c.hall == rt.hall.id, notify_requests.c.day == rt.day, notify_requests.c.called.is_(False)
        )
    ).all()
    for row in rows:
        ticket = rt.tickets.get(row.ticket_id)
        if ticket is None:
            continue
        if called is not None and ticket.id == called.id and ticket.window is not None:
            zh, en = call_texts(rt.hall.name_zh, ticket.number, ticket.window)
            tx.conn.execute(
                update(notify_requests).where(notify_requests.c.ticket_id == row.ticket_id).values(called=True)
            )
            tx.outbox.append(_notice(tx, ticket, row.phone, "call", ticket.window, None, zh, en))
        elif not row.reminded and rt.index.get(ticket.id) is not None:
            ahead = rt.index.rank(ticket.id)
            if ahead > settings.remind_ahead:
                continue
            zh, en = soon_texts(rt.hall.name_zh, ticket.number, ahead)
            tx.conn.execute(
                update(notify_requests).where(notify_requests.c.ticket_id == row.ticket_id).values(reminded=True)
            )
            tx.outbox.append(_notice(tx, ticket, row.phone, "soon", None, ahead, zh, en))


def _notice(
    tx: Tx, ticket: LiveTicket, phone: str, kind: str, window: int | None, ahead: int | None, zh: str, en: str
) -> Notice:
    rt: HallRuntime = tx.rt
    return Notice(
        id=f"{rt.hall.id}:{ticket.id}:{kind}", hall=rt.hall.id, hall_name_zh=rt.hall.name_zh,
        kind="call" if kind == "call" else "soon", phone=phone, number=ticket.number, window=window,
        ahead=ahead, text_zh=zh, text_en=en, at=tx.now,
    )  # fmt: skip


def drop_phones(tx: Tx) -> None:
    """At day close: every phone of the hall is deleted."""
    tx.conn.execute(delete(notify_requests).where(notify_requests.c.hall == tx.rt.hall.id))
