"""Issuing tickets at a kiosk (idempotent), and re-queueing a no-show."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select

from queue_server.domain.estimate import Estimate, estimate_taken_now
from queue_server.domain.numbering import format_number, next_seq
from queue_server.domain.routing import requeue_key
from queue_server.domain.tickets import Priority, TicketState, check_transition
from queue_server.errors import BadRequest, IdempotencyConflict, NotFound
from queue_server.protocol import IssuedTicket, IssueRequest, TicketMessage
from queue_server.runtime import HallRuntime, LiveTicket
from queue_server.services import id_card
from queue_server.services.loading import live_ticket
from queue_server.services.rows import save_ticket
from queue_server.services.views import issued_ticket, queue_summaries, ticket_ref
from queue_server.store.tables import tickets
from queue_server.store.writer import Tx

TOKEN_BYTES = 24  # 192 bits: a tracking token nobody can guess
# Built once: SQLAlchemy reuses its compiled form rather than building a cache key per ticket.
_INSERT_TICKET = insert(tickets)


@dataclass(frozen=True)
class IssueResult:
    ticket: IssuedTicket
    replayed: bool  # True when an earlier request with the same Idempotency-Key is answered again


def body_hash(request: IssueRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def estimate_now(rt: HallRuntime, category: str, priority: Priority, now_us: int) -> Estimate:
    """The estimate of a ticket of `category` taken now, at the end of its class (what the kiosk prints)."""
    outlook = rt.outlook(now_us)
    return estimate_taken_now(
        rt.counts(),
        outlook.loads,
        rt.service_times.snapshot(),
        category,
        priority,
        opens_in_s=outlook.opens_in_s,
        inflow=outlook.inflow,
    )


def issue_ticket(
    tx: Tx,
    request: IssueRequest,
    device: str,
    key: str,
    priority: Priority | None = None,
    queue_key: int | None = None,
) -> IssueResult:
    """Give a number to a citizen; the same device and Idempotency-Key always get the same ticket.

    `priority` overrides the request's (an appointment checked in at the kiosk is Priority.APPOINTMENT,
    which a kiosk cannot ask for in the body). `queue_key` places it elsewhere than at the end (a remote ticket
    checked in: where it was taken).
    """
    rt: HallRuntime = tx.rt
    hall = rt.hall
    digest = body_hash(request)
    previous = rt.requests.get((device, key))  # every request of the days kept is in memory (IDEMPOTENCY_DAYS)
    if previous is not None:
        if previous[0] != digest:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different request; use a new key for a new ticket"
            )
        return IssueResult(replay(tx, previous[1]), replayed=True)

    category_code = _category_of(rt, request)
    category = hall.category(category_code)
    if request.id_hash is not None and hall.id_card.one_open_per_category:
        id_card.check_one_open(rt, request.id_hash, category_code)
    seq = next_seq(rt.counters.get(category_code, 0), category.daily_cap, category_code)
    number = format_number(category.prefix, seq)
    assert rt.day is not None  # roll_day ran before this transaction's work
    ticket = LiveTicket(
        id=0,
        day=rt.day,
        number=number,
        category=category_code,
        item_id=request.item_id,
        priority=priority if priority is not None else Priority(request.priority),
        state=TicketState.WAITING,
        queue_key=tx.now_us if queue_key is None else queue_key,
        target_window=None,
        window=None,
        track_token=secrets.token_urlsafe(TOKEN_BYTES),
        issued_at=tx.now_us,
        called_at=None,
        started_at=None,
        recalls=0,
        id_hash=request.id_hash,
    )
    estimate = estimate_now(rt, category_code, ticket.priority, tx.now_us)
    inserted = tx.conn.execute(
        _INSERT_TICKET,
        {
            "hall": hall.id,
            "day": ticket.day,
            "seq": seq,
            "number": number,
            "category": category_code,
            "item_id": request.item_id,
            "priority": ticket.priority.value,
            "state": ticket.state.value,
            "queue_key": ticket.queue_key,
            "track_token": ticket.track_token,
            "device": device,
            "issued_at": ticket.issued_at,
            "recalls": 0,
            "ahead_at_issue": estimate.ahead,
            "estimate_at_issue": estimate.wait_s,
            "idem_key": key,
            "body_hash": digest,
            "id_hash": request.id_hash,
        },
    ).inserted_primary_key
    assert inserted is not None
    ticket.id = inserted[0]
    tx.touch()
    rt.counters[category_code] = seq
    rt.requests[(device, key)] = (digest, ticket.id)
    rt.tickets[ticket.id] = ticket
    rt.track(ticket)
    rt.count_arrival(ticket.id, category_code, ticket.issued_at, ticket.priority is not Priority.ORDINARY)
    tx.emit(
        "ticket.issued",
        {"number": number, "category": category_code, "item_id": request.item_id, "priority": ticket.priority.value},
        lambda s: TicketMessage(
            seq=s,
            at=tx.now,
            event="issued",
            ticket=ticket_ref(ticket),
            state=ticket.state.value,
            window=None,
            queues=queue_summaries(rt),
        ),
        actor=f"device:{device}",
        ticket_id=ticket.id,
    )
    if queue_key is not None:  # not at the end of the queue: its estimate from its place
        estimate = rt.estimate(ticket, tx.now_us) or estimate
    return IssueResult(issued_ticket(rt, ticket, estimate), replayed=False)


def _category_of(rt: HallRuntime, request: IssueRequest) -> str:
    hall = rt.hall
    if request.item_id is not None:
        try:
            item = hall.item(request.item_id)
        except KeyError:
            raise NotFound(f"no service item {request.item_id!r} in hall {hall.id} (没有该事项)") from None
        if request.category is not None and request.category != item.category:
            raise BadRequest(f"item {item.id} belongs to category {item.category}, not {request.category}")
        return item.category
    if request.category is None:
        raise BadRequest("give item_id or category (请选择事项或业务类别)")
    try:
        return hall.category(request.category).code
    except KeyError:
        raise NotFound(f"no category {request.category!r} in hall {hall.id} (没有该业务类别)") from None


def replay(tx: Tx, ticket_id: int) -> IssuedTicket:
    """The answer to a retried issuance: the same ticket, as it stands now."""
    rt: HallRuntime = tx.rt
    live = rt.tickets.get(ticket_id)
    if live is not None:
        estimate = rt.estimate(live)
        if estimate is not None:
            return issued_ticket(rt, live, estimate)
    stored = live_ticket(tx.conn.execute(select(tickets).where(tickets.c.id == ticket_id)).one())
    return issued_ticket(rt, stored, Estimate(ahead=0, wait_s=0 if stored.state is not TicketState.EXPIRED else None))


def requeue(tx: Tx, token: str, device: str) -> IssuedTicket:
    """Put a no-show ticket back in its queue, behind the hall's configured number of waiting tickets."""
    rt: HallRuntime = tx.rt
    ticket = rt.by_track_token(token)
    if ticket is None:
        raise NotFound("no ticket of today with this code (未找到今日的该号票)")
    check_transition(ticket.state, TicketState.WAITING)
    keys = sorted(
        t.queue_key
        for t in rt.tickets.values()
        if t.category == ticket.category and t.state is TicketState.WAITING and t.priority is Priority.ORDINARY
    )
    key = requeue_key(tx.now_us, keys, rt.hall.queue.no_show_requeue_behind)
    ticket.state, ticket.queue_key, ticket.window = TicketState.WAITING, key, None
    save_ticket(tx, ticket, queue_key=key)
    tx.emit(
        "ticket.requeued",
        {"number": ticket.number, "queue_key": key},
        lambda s: TicketMessage(
            seq=s,
            at=tx.now,
            event="requeued",
            ticket=ticket_ref(ticket),
            state="waiting",
            window=None,
            queues=queue_summaries(rt),
        ),
        actor=f"device:{device}",
        ticket_id=ticket.id,
    )
    estimate = rt.estimate(ticket)
    assert estimate is not None  # it was just queued
    return issued_ticket(rt, ticket, estimate)
