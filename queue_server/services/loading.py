"""Loading a hall's runtime from the database, and rolling the service day over."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, func, insert, select, update

from config.schema import Hall
from queue_server.domain.estimate import ServiceTimes
from queue_server.domain.numbering import service_day
from queue_server.domain.opening import RecentArrivals
from queue_server.domain.tickets import EXPIRE_AT_DAY_CLOSE, Priority, TicketState
from queue_server.domain.windows import Post, WindowState
from queue_server.protocol import DayMessage
from queue_server.runtime import HallRuntime, LiveTicket, LiveWindow, RecentCall
from queue_server.services import id_card
from queue_server.services.default_ratings import apply_default_ratings
from queue_server.services.reminders import drop_phones
from queue_server.services.rows import save_window
from queue_server.services.views import queue_summaries
from queue_server.store.tables import events, hall_state, tickets, users, windows
from queue_server.store.writer import Tx

LIVE_STATES = [s.value for s in TicketState if s not in (TicketState.FINISHED, TicketState.EXPIRED)]
#: Past services replayed per category at start-up: about the memory of ServiceTimes' moving average.
SERVICE_TIME_HISTORY = 200


def live_ticket(row: Row[Any]) -> LiveTicket:
    """A ticket row as the runtime holds it."""
    return LiveTicket(
        id=row.id,
        day=row.day,
        number=row.number,
        category=row.category,
        item_id=row.item_id,
        priority=Priority(row.priority),
        state=TicketState(row.state),
        queue_key=row.queue_key,
        target_window=row.target_window,
        window=row.window,
        track_token=row.track_token,
        issued_at=row.issued_at,
        called_at=row.called_at,
        started_at=row.started_at,
        recalls=row.recalls,
        recalled_at=row.recalled_at,
        id_hash=row.id_hash,
    )


def replay_service_times(conn: Connection, hall_id: str, category: str, times: ServiceTimes) -> None:
    """Fold the category's last SERVICE_TIME_HISTORY finished services into `times`, oldest first.

    A service lasts from the call to the finish, as `window_actions.finish` measures it: the window is held
    from the call.
    """
    history = (
        select(tickets.c.called_at, tickets.c.finished_at)
        .where(
            tickets.c.hall == hall_id,
            tickets.c.category == category,
            tickets.c.called_at.is_not(None),
            tickets.c.finished_at.is_not(None),
        )
        .order_by(tickets.c.finished_at.desc(), tickets.c.id.desc())
        .limit(SERVICE_TIME_HISTORY)
    )
    for r in reversed(conn.execute(history).all()):
        times.observe(category, (r.finished_at - r.called_at) / 1e6)


def load_runtime(conn: Connection, hall: Hall, now: dt.datetime) -> HallRuntime:
    """Read one hall's live state; create its rows on first use."""
    row = conn.execute(select(hall_state).where(hall_state.c.hall == hall.id)).first()
    if row is None:
        conn.execute(insert(hall_state).values(hall=hall.id, service_day=None))
    day = row.service_day if row is not None else None
    last_seq = conn.execute(select(func.max(events.c.seq)).where(events.c.hall == hall.id)).scalar() or 0

    stored = {r.number: r for r in conn.execute(select(windows).where(windows.c.hall == hall.id))}
    live_windows: dict[int, LiveWindow] = {}
    for config_window in hall.windows:
        r = stored.get(config_window.number)
        if r is None:
            conn.execute(
                insert(windows).values(
                    hall=hall.id, number=config_window.number, state=WindowState.CLOSED.value, priority_streak=0
                )
            )
            live_windows[config_window.number] = LiveWindow(config_window.number)
        else:
            live_windows[config_window.number] = LiveWindow(
                number=r.number,
                state=WindowState(r.state),
                clerk=r.clerk,
                post=Post(r.post) if r.post else None,
                current_ticket=r.current_ticket,
                paused_reason=r.paused_reason,
                priority_streak=r.priority_streak,
                since=r.since,
            )

    counters: dict[str, int] = {}
    requests: dict[tuple[str, str], tuple[str, int]] = {}
    arrivals: list[tuple[int, str, int, bool]] = []  # today's tickets: the arrival rates the estimate expects
    live: dict[int, LiveTicket] = {}
    recent: list[RecentCall] = []
    if day is not None:
        # A category's last number of the day is in its tickets' numbers (the category itself may have
        # changed by a transfer; the prefix letter has not).
        by_prefix = {c.prefix: c.code for c in hall.categories}
        query = select(tickets).where(tickets.c.hall == hall.id, tickets.c.day == day)
        issued = select(
            tickets.c.id, tickets.c.number, tickets.c.seq, tickets.c.category, tickets.c.issued_at, tickets.c.priority
        ).where(tickets.c.hall == hall.id, tickets.c.day == day)
        for r in conn.execute(issued):
            arrivals.append((r.id, r.category, r.issued_at, Priority(r.priority) is not Priority.ORDINARY))
            code = by_prefix.get(r.number[:1])
            if code is not None:
                counters[code] = max(counters.get(code, 0), r.seq)
        requests = kept_requests(conn, hall.id, day)
        for r in conn.execute(query.where(tickets.c.state.in_(LIVE_STATES))):
            live[r.id] = live_ticket(r)
        calls = query.where(tickets.c.called_at.is_not(None), tickets.c.window.is_not(None))
        for r in conn.execute(calls.order_by(tickets.c.called_at.desc()).limit(10)):
            recent.append(RecentCall(r.number, r.window, r.called_at))

    times = ServiceTimes({c.code: c.service_minutes * 60 for c in hall.categories})
    for category in hall.categories:
        replay_service_times(conn, hall.id, category.code, times)

    runtime = HallRuntime(
        hall=hall,
        last_seq=last_seq,
        day=day,
        counters=counters,
        requests=requests,
        tickets=live,
        windows=live_windows,
        service_times=times,
        clerk_names={r.username: r.display_name for r in conn.execute(select(users.c.username, users.c.display_name))},
    )
    runtime.recent_calls.extend(reversed(recent))
    if day is not None:
        runtime.arrivals = arrival_profile(conn, runtime, day)
    for ticket_id, code, issued_at, priority in sorted(arrivals, key=lambda a: a[2]):
        runtime.count_arrival(ticket_id, code, issued_at, priority)
    return runtime


#: Calendar days of history the arrival profile is read from (about PROFILE_DAYS working days).
PROFILE_CALENDAR_DAYS = 28


def arrival_profile(conn: Connection, rt: HallRuntime, today: dt.date) -> RecentArrivals:
    """Today's arrival counts, empty, with the profile of the days before `today` folded in day by day, as roll_day
    folds each day in when it ends (domain.opening.ArrivalProfile)."""
    rows = conn.execute(
        select(tickets.c.day, tickets.c.category, tickets.c.issued_at, tickets.c.priority)
        .where(tickets.c.hall == rt.hall.id, tickets.c.day < today,
               tickets.c.day >= today - dt.timedelta(days=PROFILE_CALENDAR_DAYS))
        .order_by(tickets.c.day, tickets.c.issued_at, tickets.c.id)
    )  # fmt: skip
    counts, current = RecentArrivals(), None
    for r in rows:
        if current is not None and r.day != current:
            counts = counts.next_day()
        current = r.day
        priority = Priority(r.priority) is not Priority.ORDINARY
        counts.observe(r.category, rt.day_time(r.issued_at).open_so_far_s, priority)
    return counts.next_day()


#: How long an issuing request's Idempotency-Key is answered with its ticket: today and the days before, this
#: many in all. A kiosk retries within seconds or minutes (and the citizen's 重试 within the hour), but a request
#: sent before midnight may be retried after it, and a kiosk restarted days later may still hold an unanswered
#: tap: its retry gets the ticket it was given (expired by then), never a second one. A week of keys costs a
#: few thousand small entries a hall, loaded with the runtime.
IDEMPOTENCY_DAYS = 7


def kept_requests(conn: Connection, hall_id: str, today: dt.date) -> dict[tuple[str, str], tuple[str, int]]:
    """The issuing requests of the days kept (IDEMPOTENCY_DAYS, ending today), by (device, key).

    A key used on several days (a kiosk that reuses keys) answers with its newest ticket.
    """
    first = today - dt.timedelta(days=IDEMPOTENCY_DAYS - 1)
    rows = conn.execute(
        select(tickets.c.id, tickets.c.device, tickets.c.idem_key, tickets.c.body_hash)
        .where(tickets.c.hall == hall_id, tickets.c.day >= first, tickets.c.day <= today,
               tickets.c.idem_key.is_not(None))
        .order_by(tickets.c.day, tickets.c.id)
    )  # fmt: skip
    return {(r.device, r.idem_key): (r.body_hash, r.id) for r in rows}


def roll_day(tx: Tx) -> None:
    """Before any change: if the hall's service day has ended, close it first."""
    rt: HallRuntime = tx.rt
    today = service_day(tx.now, ZoneInfo(rt.hall.timezone))
    if rt.day == today:
        return
    if rt.day is not None and not _closed_by_hand(tx):
        close_day(tx)
    tx.touch()
    rt.day = today
    rt.counters, rt.requests = {}, kept_requests(tx.conn, rt.hall.id, today)
    rt.new_day()
    tx.conn.execute(update(hall_state).where(hall_state.c.hall == rt.hall.id).values(service_day=today))


def _closed_by_hand(tx: Tx) -> bool:
    """The manager closed the day (POST .../day/close) and nothing has happened since: it is not closed again."""
    rt: HallRuntime = tx.rt
    last = tx.conn.execute(
        select(events.c.type, events.c.payload).where(events.c.hall == rt.hall.id, events.c.seq == rt.last_seq)
    ).first()
    return (
        last is not None
        and last.type == "day.closed"
        and rt.day is not None
        and json.loads(last.payload).get("day") == rt.day.isoformat()
    )


def close_day(tx: Tx, actor: str | None = None) -> int:
    """Expire every ticket still waiting or called, close every window; return how many expired."""
    rt: HallRuntime = tx.rt
    tx.touch()
    expired_ids = [t.id for t in rt.tickets.values() if t.state in EXPIRE_AT_DAY_CLOSE]
    if expired_ids:
        tx.conn.execute(
            update(tickets)
            .where(tickets.c.id.in_(expired_ids))
            .values(state=TicketState.EXPIRED.value, window=None, target_window=None)
        )
    for ticket_id in expired_ids:
        rt.track(rt.tickets.pop(ticket_id))
    drop_phones(tx)  # the phone reminders' numbers are kept for the day only
    id_card.drop_hashes(tx)  # and the ID cards' keyed hashes
    # Tickets of earlier days that were never closed (a server that was off for days) expire too.
    stale = [s.value for s in EXPIRE_AT_DAY_CLOSE]
    tx.conn.execute(
        update(tickets)
        .where(tickets.c.hall == rt.hall.id, tickets.c.day < (rt.day or dt.date.max), tickets.c.state.in_(stale))
        .values(state=TicketState.EXPIRED.value, window=None, target_window=None)
    )
    for live_window in rt.windows.values():
        if live_window.current_ticket is not None and live_window.current_ticket in rt.tickets:
            continue  # a ticket still being served keeps its window until the clerk finishes it
        live_window.state, live_window.clerk, live_window.post = WindowState.CLOSED, None, None
        live_window.current_ticket, live_window.paused_reason, live_window.since = None, None, None
        live_window.priority_streak = 0
        save_window(tx, live_window)
    day = rt.day or service_day(tx.now, ZoneInfo(rt.hall.timezone))
    count = len(expired_ids)
    apply_default_ratings(tx)  # 默认好评, when the hall turned it on: once per visit
    tx.emit(
        "day.closed",
        {"day": day.isoformat(), "expired": count},
        lambda seq: DayMessage(seq=seq, at=tx.now, day=day, expired=count, queues=queue_summaries(rt)),
        actor=actor,
    )
    return count


#: Events after which a runtime is reloaded whole rather than caught up ticket by ticket (rare: once a day).
RELOAD_AFTER = frozenset({"day.closed"})
_CALLS = frozenset({"ticket.called", "ticket.recalled"})
_OPENS = frozenset({"window.opened", "window.taken_over"})


def catch_up(conn: Connection, rt: HallRuntime) -> list[tuple[int, str]] | None:
    """Bring a runtime up to the hall's event log, which another process has written since; None: reload it.

    Returns the events read, as (seq, public message) in order: the store publishes them without reading again.

    Runs under the hall's lock (or without it for a read-only sync: the log is gap-free up to any seq that
    is visible). What the other process changed is in its events: the tickets they name are read again,
    the windows (a few rows) are read again, calls are added to the recent calls and finished services to
    the service times, as the process that wrote them did in memory.
    """
    if service_day_of(conn, rt.hall.id) != rt.day:
        return None
    rows = conn.execute(
        select(events.c.seq, events.c.type, events.c.at, events.c.actor, events.c.window, events.c.ticket_id,
               events.c.payload, events.c.public)
        .where(events.c.hall == rt.hall.id, events.c.seq > rt.last_seq)
        .order_by(events.c.seq)
    ).all()  # fmt: skip
    if not rows:
        return []
    if any(r.type in RELOAD_AFTER for r in rows):
        return None
    ids = {r.ticket_id for r in rows if r.ticket_id is not None}
    fresh = {r.id: r for r in conn.execute(select(tickets).where(tickets.c.id.in_(ids)))} if ids else {}
    by_prefix = {c.prefix: c.code for c in rt.hall.categories}
    for ticket_id in ids:
        row = fresh.get(ticket_id)
        old = rt.tickets.pop(ticket_id, None)
        if old is not None:
            rt.track(old)
        if row is None or row.day != rt.day:
            continue
        rt.count_arrival(row.id, row.category, row.issued_at, Priority(row.priority) is not Priority.ORDINARY)  # once
        code = by_prefix.get(row.number[:1])
        if code is not None:
            rt.counters[code] = max(rt.counters.get(code, 0), row.seq)
        if row.idem_key is not None:
            rt.requests[(row.device, row.idem_key)] = (row.body_hash, row.id)
        if row.state in LIVE_STATES:
            ticket = rt.tickets[row.id] = live_ticket(row)
            rt.track(ticket)
    for r in conn.execute(select(windows).where(windows.c.hall == rt.hall.id)):
        live = rt.windows.get(r.number)
        if live is not None:
            live.state, live.clerk = WindowState(r.state), r.clerk
            live.post = Post(r.post) if r.post else None
            live.current_ticket, live.paused_reason = r.current_ticket, r.paused_reason
            live.priority_streak, live.since = r.priority_streak, r.since
    unknown = {r.actor for r in rows if r.type in _OPENS and r.actor and r.actor not in rt.clerk_names}
    if unknown:
        for u in conn.execute(select(users.c.username, users.c.display_name).where(users.c.username.in_(unknown))):
            rt.clerk_names[u.username] = u.display_name
    for r in rows:
        if r.type in _CALLS and r.window is not None:
            rt.recent_calls.append(RecentCall(json.loads(r.payload)["number"], r.window, r.at))
        elif r.type == "ticket.finished" and (row := fresh.get(r.ticket_id)) is not None and row.called_at is not None:
            rt.service_times.observe(row.category, (row.finished_at - row.called_at) / 1e6)
    rt.last_seq = rows[-1].seq
    return [(r.seq, r.public) for r in rows]


def service_day_of(conn: Connection, hall_id: str) -> dt.date | None:
    """The hall's current service day as stored (None before its first day)."""
    return conn.execute(select(hall_state.c.service_day).where(hall_state.c.hall == hall_id)).scalar()
