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

#: A category with fewer services learned than this is estimated from the catalogue's typical time: rough.
ROUGH_BELOW = 5


def rough(rt: HallRuntime, category: str, estimate: Estimate) -> bool:
    """Whether to say an estimate is rough: from the opening hours, or before the hall knows its own times."""
    return estimate.rough or rt.service_times.observed(category) < ROUGH_BELOW


def estimates(rt: HallRuntime) -> dict[int, Estimate]:
    """Estimated waits of every queued ticket."""
    outlook = rt.outlook()
    return estimate_waits(
        rt.queued(),
        outlook.loads,
        rt.service_times.snapshot(),
        opens_in_s=outlook.opens_in_s,
        inflow=outlook.inflow,
    )


def queue_summaries(rt: HallRuntime, now_us: int | None = None) -> list[QueueSummary]:
    """Per category: the tickets waiting, and the estimated wait (with its 90% interval) of one ticket taken now."""
    codes = [c.code for c in rt.hall.categories]
    outlook = rt.outlook(now_us)
    new = estimate_new(
        rt.counts(),
        outlook.loads,
        rt.service_times.snapshot(),
        codes,
        opens_in_s=outlook.opens_in_s,
        inflow=outlook.inflow,
    )
    return [_summary(rt, c.code, c.prefix, new[c.code]) for c in rt.hall.categories]


def _summary(rt: HallRuntime, code: str, prefix: str, new: Estimate) -> QueueSummary:
    # Nobody waits and no window serving it is open: the board and the kiosk tile say so (暂无窗口办理); a ticket
    # taken gets the rough estimate from the windows that will open.
    if new.rough and new.ahead == 0:
        return QueueSummary(category=code, prefix=prefix, waiting=0, wait_s=None, rough=True)
    return QueueSummary(
        category=code,
        prefix=prefix,
        waiting=new.ahead,
        wait_s=new.wait_s,
        wait_low_s=new.low_s,
        wait_high_s=new.high_s,
        rough=rough(rt, code, new),
    )


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
        estimated_wait_low_s=estimate.low_s,
        estimated_wait_high_s=estimate.high_s,
        estimate_rough=rough(rt, ticket.category, estimate),
        windows=rt.windows_serving(ticket.category),
        issued_at=from_us(ticket.issued_at),
        track_token=ticket.track_token,
        track_path=f"/t/{ticket.track_token}",
    )


def ticket_status(rt: HallRuntime, ticket: LiveTicket, now_us: int | None = None) -> TicketStatus:
    """The public status of a live ticket of today (its estimate at `now_us`, or at the hall's latest change)."""
    category_zh, category_en, item_zh, _ = _names(rt.hall, ticket)
    waiting = ticket.state in (TicketState.WAITING, TicketState.TRANSFERRED)
    estimate = rt.estimate(ticket, now_us) if waiting else None
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
        estimated_wait_low_s=estimate.low_s if estimate else None,
        estimated_wait_high_s=estimate.high_s if estimate else None,
        estimate_rough=rough(rt, ticket.category, estimate) if estimate else False,
        window=window,
        window_name_zh=rt.hall.window(window).name_zh if window else None,
        issued_at=from_us(ticket.issued_at),
        called_at=from_us(ticket.called_at) if ticket.called_at else None,
        day=ticket.day,
    )
