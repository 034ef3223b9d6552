"""What a clerk does at a window: open, call, recall, start, finish, no-show, transfer, pause, close."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from config.schema import Hall, Window
from queue_server.domain.errors import InvalidFinish
from queue_server.domain.tickets import (
    CALLABLE,
    CaseClass,
    FinishDetails,
    TicketState,
    check_recall,
    check_transition,
    validate_finish,
)
from queue_server.domain.windows import Post, WindowState, check_window_action
from queue_server.errors import BadRequest, Conflict, Forbidden, NotFound
from queue_server.protocol import Announcement, CallMessage, TicketMessage, WindowMessage
from queue_server.runtime import HallRuntime, LiveTicket, LiveWindow, RecentCall
from queue_server.services.accounts import Staff
from queue_server.services.case_actions import finish_linked
from queue_server.services.cases import linked_case, open_from_finish
from queue_server.services.reminders import claim_due
from queue_server.services.rows import save_ticket, save_window
from queue_server.services.views import queue_summaries, ticket_ref, window_view
from queue_server.store.writer import Tx
from queue_server.voice import announcement_path

MAX_REASON = 200


@dataclass(frozen=True)
class FinishRequest:
    case_class: CaseClass
    promised_days: int | None = None
    missing_materials: tuple[str, ...] = ()
    next_department: str | None = None
    reason: str | None = None
    agent_name: str | None = None
    contact_phone: str | None = None  # the citizen's, optional: kept with the case only (services/cases.py)


def _window(rt: HallRuntime, number: int) -> tuple[Window, LiveWindow]:
    try:
        return rt.hall.window(number), rt.windows[number]
    except KeyError:
        raise NotFound(f"hall {rt.hall.id} has no window {number} (没有{number}号窗口)") from None


def _held(rt: HallRuntime, number: int, staff: Staff, action: str) -> tuple[Window, LiveWindow]:
    """The window, if `staff` is the clerk who holds it; its state must accept `action`."""
    config_window, live = _window(rt, number)
    if live.clerk != staff.username:
        holder = f"is held by {rt.clerk_names.get(live.clerk, live.clerk)}" if live.clerk else "is not open"
        raise Forbidden(
            f"window {number} {holder}: only the clerk who opened it may act on it (只有开启本窗口的工作人员可以操作)"
        )
    check_window_action(action, live.state)
    return config_window, live


def _current(rt: HallRuntime, live: LiveWindow, target: TicketState) -> LiveTicket:
    """The window's current ticket, if it may move to `target` (the state the action leads to)."""
    ticket = rt.tickets.get(live.current_ticket) if live.current_ticket is not None else None
    if ticket is None:
        raise Conflict(f"window {live.number} has no current ticket: call one first (当前没有正在办理的号)")
    check_transition(ticket.state, target)  # raises, naming the ticket's state and the one the action wanted
    return ticket


def _reason(text: str | None, what: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise BadRequest(f"a reason is required to {what} (请填写原因)")
    if len(cleaned) > MAX_REASON:
        raise BadRequest(f"the reason may have at most {MAX_REASON} characters")
    return cleaned


def _emit_window(tx: Tx, live: LiveWindow, event: str, staff: Staff, payload: dict[str, Any]) -> None:
    rt: HallRuntime = tx.rt
    tx.emit(
        f"window.{event}",
        {"window": live.number, **payload},
        lambda s: WindowMessage(
            seq=s, at=tx.now, event=event, window=window_view(rt, live.number), queues=queue_summaries(rt)
        ),
        actor=staff.username,
        window=live.number,
        post=live.post.value if live.post else None,
    )


def _emit_ticket(tx: Tx, ticket: LiveTicket, event: str, actor: str, live: LiveWindow, payload: dict[str, Any]) -> None:
    rt: HallRuntime = tx.rt
    tx.emit(
        f"ticket.{event}",
        {"number": ticket.number, **payload},
        lambda s: TicketMessage(
            seq=s,
            at=tx.now,
            event=event,
            ticket=ticket_ref(ticket),
            state=ticket.state.value,
            window=ticket.window,
            queues=queue_summaries(rt),
        ),
        actor=actor,
        window=live.number,
        post=live.post.value if live.post else None,
        ticket_id=ticket.id,
    )


def announcement(hall: Hall, number: str, window: int) -> Announcement:
    """What the hall says for a call.

    `audio_url` is one saying of the call after the chime; a client says it `repeat` times (the
    hall's `voice.repeat`), by playing it that often or by fetching `audio_url?repeat=N`, the whole
    announcement in one file (see queue_server.api.routes_voice).
    """
    return Announcement(
        text_zh=f"请{number}号到{window}号窗口办理",
        text_en=f"Number {number}, please go to window {window}.",
        repeat=hall.voice.repeat,
        audio_url=announcement_path(hall.id, number, window),
    )


# --- opening, pausing and closing the window ----------------------------------------------


def open_window(tx: Tx, number: int, staff: Staff, post: Post) -> LiveWindow:
    """Open a window on the A or B post; the other post may take over a paused window."""
    rt: HallRuntime = tx.rt
    config_window, live = _window(rt, number)
    assigned = config_window.a_post if post is Post.A else config_window.b_post
    if assigned is not None and assigned != staff.username and not staff.supervises:
        raise Forbidden(f"post {post.value} of window {number} is assigned to another clerk (该岗位不属于您)")
    elsewhere = [w.number for w in rt.windows.values() if w.clerk == staff.username and w.number != number]
    if elsewhere:
        raise Conflict(f"you already hold window {elsewhere[0]}: close it first (您已在{elsewhere[0]}号窗口)")
    if live.clerk == staff.username and live.post is post and live.state is not WindowState.CLOSED:
        return live  # opening again (a reloaded page) changes nothing
    if live.state is WindowState.PAUSED and live.post is not post:
        live.state = check_window_action("takeover", live.state)
        event = "taken_over"
        payload = {"from": live.clerk, "from_post": live.post.value if live.post else None}
    elif live.state is WindowState.CLOSED:
        live.state = check_window_action("open", live.state)
        event, payload = "opened", {}
    else:
        holder = rt.clerk_names.get(live.clerk or "", live.clerk)
        raise Conflict(
            f"window {number} is {live.state.value} with {holder} on post {live.post.value if live.post else '?'}"
            f" (窗口已由{holder}开启)"
        )
    live.clerk, live.post, live.paused_reason, live.since = staff.username, post, None, tx.now_us
    rt.clerk_names.setdefault(staff.username, staff.display_name)
    save_window(tx, live)
    _emit_window(tx, live, event, staff, {**payload, "post": post.value})
    return live


def pause(tx: Tx, number: int, staff: Staff, reason: str | None) -> LiveWindow:
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "pause")
    text = _reason(reason, "pause the window")
    if live.current_ticket is not None:
        current = rt.tickets[live.current_ticket]
        raise Conflict(f"finish or release {current.number} before pausing (请先办结{current.number})")
    live.state, live.paused_reason, live.since = WindowState.PAUSED, text, tx.now_us
    save_window(tx, live)
    _emit_window(tx, live, "paused", staff, {"reason": text})
    return live


def resume(tx: Tx, number: int, staff: Staff) -> LiveWindow:
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "resume")
    live.state, live.paused_reason, live.since = WindowState.OPEN, None, tx.now_us
    save_window(tx, live)
    _emit_window(tx, live, "resumed", staff, {})
    return live


def close_window(tx: Tx, number: int, staff: Staff) -> LiveWindow:
    """Close a window; a called ticket goes back to the queue. A manager may close any window."""
    rt: HallRuntime = tx.rt
    _, live = _window(rt, number)
    if not staff.supervises:
        _held(rt, number, staff, "close")
    else:
        check_window_action("close", live.state)
    if live.current_ticket is not None:
        ticket = rt.tickets[live.current_ticket]
        if ticket.state is TicketState.SERVING:
            raise Conflict(f"{ticket.number} is being served: finish it before closing (请先办结{ticket.number})")
        check_transition(ticket.state, TicketState.WAITING)
        ticket.state, ticket.window = TicketState.WAITING, None
        live.current_ticket = None
        save_ticket(tx, ticket)
        _emit_ticket(tx, ticket, "returned", staff.username, live, {"reason": "window closed"})
    previous_post = live.post
    live.state, live.clerk, live.post, live.paused_reason = WindowState.CLOSED, None, None, None
    live.priority_streak, live.since = 0, tx.now_us
    save_window(tx, live)
    tx.emit(
        "window.closed",
        {"window": number, "by": staff.username},
        lambda s: WindowMessage(
            seq=s, at=tx.now, event="closed", window=window_view(rt, number), queues=queue_summaries(rt)
        ),
        actor=staff.username,
        window=number,
        post=previous_post.value if previous_post else None,
    )
    return live


# --- calling and serving ----------------------------------------------------------------------


def _call(tx: Tx, live: LiveWindow, staff: Staff, ticket: LiveTicket, payload: dict[str, Any]) -> LiveTicket:
    check_transition(ticket.state, TicketState.CALLED)
    ticket.state, ticket.window, ticket.target_window = TicketState.CALLED, live.number, None
    ticket.called_at, ticket.recalls, ticket.recalled_at = tx.now_us, 0, None
    live.current_ticket = ticket.id
    save_ticket(tx, ticket, served_by=staff.username, served_post=live.post.value if live.post else None)
    save_window(tx, live)
    _emit_call(tx, live, staff, ticket, payload)
    claim_due(tx, ticket)  # the phone reminders this call makes due (the called one's, and 快到您了)
    return ticket


def _emit_call(tx: Tx, live: LiveWindow, staff: Staff, ticket: LiveTicket, payload: dict[str, Any]) -> None:
    rt: HallRuntime = tx.rt
    config_window = rt.hall.window(live.number)
    rt.recent_calls.append(RecentCall(ticket.number, live.number, tx.now_us))
    tx.emit(
        "ticket.recalled" if ticket.recalls else "ticket.called",
        {"number": ticket.number, "recall": ticket.recalls, **payload},
        lambda s: CallMessage(
            seq=s,
            at=tx.now,
            ticket=ticket_ref(ticket),
            window=live.number,
            window_name_zh=config_window.name_zh,
            window_name_en=config_window.name_en,
            recall=ticket.recalls,
            announcement=announcement(rt.hall, ticket.number, live.number),
            queues=queue_summaries(rt),
        ),
        actor=staff.username,
        window=live.number,
        post=live.post.value if live.post else None,
        ticket_id=ticket.id,
    )


def _no_current(rt: HallRuntime, live: LiveWindow) -> None:
    if live.current_ticket is not None:
        current = rt.tickets[live.current_ticket]
        raise Conflict(
            f"{current.number} is still {current.state.label_en} at this window: finish it or mark it a no-show first"
            f" (请先处理{current.number})"
        )


def call_next(tx: Tx, number: int, staff: Staff) -> LiveTicket | None:
    """Call the next ticket by the routing rules; None when nobody waits for this window."""
    rt: HallRuntime = tx.rt
    config_window, live = _held(rt, number, staff, "call_next")
    _no_current(rt, live)
    pick = rt.index.pick(number, config_window.categories, live.priority_streak, rt.hall.queue.priority_streak_max)
    if pick is None:
        return None
    live.priority_streak = pick.priority_streak
    return _call(tx, live, staff, rt.tickets[pick.ticket.id], {"rule": pick.rule})


def call_number(tx: Tx, number: int, staff: Staff, ticket_number: str, reason: str | None) -> LiveTicket:
    """Call a specific waiting number out of order; the reason is kept in the audit trail."""
    rt: HallRuntime = tx.rt
    config_window, live = _held(rt, number, staff, "call")
    text = _reason(reason, "call a number out of order")
    _no_current(rt, live)
    wanted = ticket_number.strip().upper()
    ticket = next((t for t in rt.tickets.values() if t.number == wanted), None)
    if ticket is None:
        raise NotFound(f"no ticket {wanted} today (今日没有{wanted}号)")
    if ticket.state not in CALLABLE:
        check_transition(ticket.state, TicketState.CALLED)
    eligible = ticket.target_window == number or (
        ticket.target_window is None and ticket.category in config_window.categories
    )
    if not eligible:
        raise Conflict(f"{ticket.number} is not waiting for window {number} (该号不在本窗口排队)")
    return _call(tx, live, staff, ticket, {"rule": "out_of_order", "reason": text})


def recall(tx: Tx, number: int, staff: Staff) -> LiveTicket:
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "recall")
    ticket = _current(rt, live, TicketState.CALLED)
    ticket.recalls = check_recall(ticket.recalls, rt.hall.queue.recall_limit)
    ticket.recalled_at = tx.now_us
    save_ticket(tx, ticket)
    _emit_call(tx, live, staff, ticket, {})
    return ticket


def start(tx: Tx, number: int, staff: Staff) -> LiveTicket:
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "start")
    ticket = _current(rt, live, TicketState.SERVING)
    ticket.state, ticket.started_at = TicketState.SERVING, tx.now_us
    save_ticket(tx, ticket, served_by=staff.username, served_post=live.post.value if live.post else None)
    _emit_ticket(tx, ticket, "started", staff.username, live, {})
    return ticket


def finish(tx: Tx, number: int, staff: Staff, request: FinishRequest) -> tuple[LiveTicket, FinishDetails, str]:
    """Finish the ticket being served with its case class (六件管理); return it, its details and its case's code.

    The visit becomes a case (services/cases.py) in the same transaction; a 补办 return visit linked to an
    open case moves that case on instead (case_actions.finish_linked).
    """
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "finish")
    ticket = _current(rt, live, TicketState.FINISHED)
    due: dt.date | None = None
    if request.case_class is CaseClass.PROMISED:
        days = request.promised_days
        if days is None and ticket.item_id is not None:
            days = rt.hall.item(ticket.item_id).promised_days or None
        if days is None or not 1 <= days <= 365:
            raise InvalidFinish("a promised case (承诺件) needs promised_days from 1 to 365 (请填写承诺办结工作日数)")
        assert rt.day is not None
        due = tx.calendar.add_working_days(rt.day, days)
    elif request.promised_days is not None:
        raise InvalidFinish("promised_days belongs only to a promised case (承诺件)")
    details = validate_finish(
        request.case_class,
        due_date=due,
        missing_materials=request.missing_materials,
        next_department=request.next_department,
        reason=request.reason,
        agent_name=request.agent_name,
    )
    assert ticket.called_at is not None
    ticket.state, live.current_ticket = TicketState.FINISHED, None
    # Learn the time the window was held, from the call (the walk to the window included) to the finish.
    rt.service_times.observe(ticket.category, (tx.now_us - ticket.called_at) / 1e6)
    stored = {
        "case_class": details.case_class.value,
        "due_date": details.due_date.isoformat() if details.due_date else None,
        "missing_materials": list(details.missing_materials),
        "next_department": details.next_department,
        "reason": details.reason,
        "agent_name": details.agent_name,
    }
    save_ticket(
        tx,
        ticket,
        finished_at=tx.now_us,
        case_class=details.case_class.value,
        finish_details=json.dumps(stored, ensure_ascii=False),
    )
    save_window(tx, live)
    del rt.tickets[ticket.id]
    rt.track(ticket)  # out of the token index too
    _emit_ticket(tx, ticket, "finished", staff.username, live, stored)
    linked = linked_case(tx.conn, rt.hall.id, ticket.id)
    if linked is not None:
        case = finish_linked(tx, linked, staff.username, details.case_class, details.missing_materials)
    else:
        case = open_from_finish(tx, ticket, staff.username, number, details, request.contact_phone)
    return ticket, details, str(case["code"])


def no_show(tx: Tx, number: int, staff: Staff) -> LiveTicket:
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "no_show")
    ticket = _current(rt, live, TicketState.NO_SHOW)
    mark_no_show(tx, live, ticket, staff.username, {"recalls": ticket.recalls})
    return ticket


def mark_no_show(tx: Tx, live: LiveWindow, ticket: LiveTicket, actor: str, payload: dict[str, Any]) -> None:
    """The window's called ticket becomes a no-show (过号): the clerk's, or the system's after the last recall."""
    ticket.state, live.current_ticket = TicketState.NO_SHOW, None
    save_ticket(tx, ticket)
    save_window(tx, live)
    _emit_ticket(tx, ticket, "no_show", actor, live, payload)


def transfer(
    tx: Tx, number: int, staff: Staff, to_window: int | None, to_category: str | None, reason: str | None
) -> LiveTicket:
    """Send the current ticket to another window or category; it keeps its place by arrival time."""
    rt: HallRuntime = tx.rt
    _, live = _held(rt, number, staff, "transfer")
    ticket = _current(rt, live, TicketState.TRANSFERRED)
    if (to_window is None) == (to_category is None):
        raise BadRequest("transfer to exactly one of to_window or to_category (请选择转往的窗口或业务类别)")
    if to_window is not None:
        _, target = _window(rt, to_window)
        if to_window == number:
            raise BadRequest("a ticket cannot be transferred to the window that holds it")
        if target.state is WindowState.CLOSED:
            # Nobody holds it: the ticket would wait with no one to call it and no estimate for the citizen.
            # A paused window is held (its clerk comes back), so it takes transfers.
            raise Conflict(
                f"window {to_window} is closed: transfer to its category instead"
                f" ({to_window}号窗口未开放，请转往业务类别)"
            )
    if to_category is not None:
        try:
            rt.hall.category(to_category)
        except KeyError:
            raise NotFound(f"hall {rt.hall.id} has no category {to_category!r}") from None
    from_category = ticket.category
    ticket.state, ticket.window, live.current_ticket = TicketState.TRANSFERRED, None, None
    ticket.target_window = to_window
    if to_category is not None:
        ticket.category = to_category
    save_ticket(tx, ticket)
    save_window(tx, live)
    _emit_ticket(
        tx, ticket, "transferred", staff.username, live,
        {"to_window": to_window, "to_category": to_category, "from_category": from_category,
         "reason": (reason or "").strip()[:MAX_REASON] or None},
    )  # fmt: skip
    return ticket
