"""Public views of a hall's runtime: queue summaries, windows, the board, a ticket's status."""

from __future__ import annotations

from config.schema import Hall
from queue_server.domain.estimate import Estimate, estimate_new, estimate_waits
from queue_server.domain.tickets import TicketState
from queue_server.protocol import (
    BoardState,
    CallView,
    IssuedTicket,
    QueueSummary,
    TicketRef,
    TicketStatus,
    WindowView,
)
from queue_server.runtime import HallRuntime, LiveTicket
from queue_server.store.writer import from_us


def estimates(rt: HallRuntime) -> dict[int, Estimate]:
    """Estimated waits of every queued ticket."""
    return estimate_waits(rt.queued(), rt.window_loads(), rt.service_times.snapshot())


def queue_summaries(rt: HallRuntime) -> list[QueueSummary]:
    """Per category: the tickets waiting, and the estimated wait of one ticket taken now."""
    codes = [c.code for c in rt.hall.categories]
    new = estimate_new(rt.counts(), rt.window_loads(), rt.service_times.snapshot(), codes)
    return [
        QueueSummary(category=c.code, prefix=c.prefix, waiting=new[c.code].ahead, wait_s=new[c.code].wait_s)
        for c in rt.hall.categories
    ]


def ticket_ref(ticket: LiveTicket) -> TicketRef:
    return TicketRef(number=ticket.number, category=ticket.category, priority=ticket.priority.value)


def window_view(rt: HallRuntime, number: int) -> WindowView:
    config_window = rt.hall.window(number)
    live = rt.windows[number]
    current = rt.tickets.get(live.current_ticket) if live.current_ticket is not None else None
    return WindowView(
        number=number,
        name_zh=config_window.name_zh,
        name_en=config_window.name_en,
        state=live.state.value,
        post=live.post.value if live.post else None,
        clerk_name=rt.clerk_names.get(live.clerk, live.clerk) if live.clerk else None,
        current_number=current.number if current else None,
        current_state=current.state.value if current and current.state.value in ("called", "serving") else None,
        paused_reason=live.paused_reason,
    )


def board_state(rt: HallRuntime) -> BoardState:
    hall = rt.hall
    return BoardState(
        hall=hall.id,
        name_zh=hall.name_zh,
        name_en=hall.name_en,
        notice_zh=hall.notice_zh,
        notice_en=hall.notice_en,
        supervision_phone=hall.supervision_phone,
        day=rt.day,
        windows=[window_view(rt, w.number) for w in hall.windows],
        queues=queue_summaries(rt),
        recent_calls=[CallView(number=c.number, window=c.window, at=from_us(c.at)) for c in reversed(rt.recent_calls)],
    )


def _names(hall: Hall, ticket: LiveTicket) -> tuple[str, str, str | None, str | None]:
    category = hall.category(ticket.category)
    item = hall.item(ticket.item_id) if ticket.item_id else None
    return (
        category.name_zh,
        category.name_en,
        item.name_zh if item else None,
        item.name_en if item else None,
    )


def issued_ticket(rt: HallRuntime, ticket: LiveTicket, estimate: Estimate) -> IssuedTicket:
    category_zh, category_en, item_zh, item_en = _names(rt.hall, ticket)
    return IssuedTicket(
        id=ticket.id,
        number=ticket.number,
        category=ticket.category,
        category_name_zh=category_zh,
        category_name_en=category_en,
        item_id=ticket.item_id,
        item_name_zh=item_zh,
        item_name_en=item_en,
        priority=ticket.priority.value,
        state=ticket.state.value,
        ahead=estimate.ahead,
        estimated_wait_s=estimate.wait_s,
        windows=rt.windows_serving(ticket.category),
        issued_at=from_us(ticket.issued_at),
        track_token=ticket.track_token,
        track_path=f"/t/{ticket.track_token}",
    )


def ticket_status(rt: HallRuntime, ticket: LiveTicket) -> TicketStatus:
    """The public status of a live ticket of today."""
    category_zh, category_en, item_zh, _ = _names(rt.hall, ticket)
    estimate = rt.estimate(ticket) if ticket.state in (TicketState.WAITING, TicketState.TRANSFERRED) else None
    window = ticket.window if ticket.state in (TicketState.CALLED, TicketState.SERVING) else None
    return TicketStatus(
        number=ticket.number,
        category=ticket.category,
        category_name_zh=category_zh,
        category_name_en=category_en,
        item_id=ticket.item_id,
        item_name_zh=item_zh,
        priority=ticket.priority.value,
        state=ticket.state.value,
        state_label_zh=ticket.state.label_zh,
        state_label_en=ticket.state.label_en,
        ahead=estimate.ahead if estimate else None,
        estimated_wait_s=estimate.wait_s if estimate else None,
        window=window,
        window_name_zh=rt.hall.window(window).name_zh if window else None,
        issued_at=from_us(ticket.issued_at),
        called_at=from_us(ticket.called_at) if ticket.called_at else None,
        day=ticket.day,
    )
