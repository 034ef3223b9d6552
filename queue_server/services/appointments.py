"""办事预约: booking a slot for a service item, cancelling it, checking in at the kiosk, missed appointments.

Slots start at each session's start and last `slot_minutes`; a slot that would run past the
session's end is not offered. Only working days of the hall's calendar have slots, from today
(slots not yet begun) up to `days_ahead` calendar days ahead. Each slot takes `capacity`
appointments per category. A booking answers a code (8 characters, no 0/O/1/I), which is the only
key to the appointment: it is shown as text and as a QR code, typed or scanned at the kiosk, and
never written to the event log or a public message.

An appointment's life: booked → cancelled (before its slot begins), booked → checked_in (at a kiosk
of the hall, from `check_in_early_minutes` before the slot until `check_in_late_minutes` after its
start; the ticket has priority "appointment"), booked → missed (nobody checked in by then; recorded
by `sweep_missed`, which runs before each cancellation, check-in and manager's list of the hall).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, func, insert, select, update

from config.schema import AppointmentRules, Hall
from queue_server.api.params import IsoDate
from queue_server.domain.numbering import service_day
from queue_server.domain.tickets import Priority
from queue_server.errors import Conflict, NotFound, ServiceError
from queue_server.protocol import AppointmentMessage, IssuedTicket, IssueRequest
from queue_server.services import issuing
from queue_server.store.tables import appointments, tickets
from queue_server.store.writer import Tx, from_us

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols, none mistaken for another
CODE_LENGTH = 8  # 40 bits
CODE_PATTERN = r"^[2-9A-HJ-NP-Za-hj-np-z]{8}$"
SLUG = r"^[a-z0-9][a-z0-9_-]{0,47}$"
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

AppointmentState = Literal["booked", "cancelled", "checked_in", "missed"]
Move = Literal["cancelled", "checked_in", "missed"]
#: The one table of an appointment's moves.
TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "booked": frozenset({"cancelled", "checked_in", "missed"}),
        "cancelled": frozenset(),
        "checked_in": frozenset(),
        "missed": frozenset(),
    }
)
STATE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "booked": ("已预约", "booked"),
        "cancelled": ("已取消", "cancelled"),
        "checked_in": ("已签到取号", "checked in"),
        "missed": ("已失约", "missed"),
    }
)
#: A remote ticket's states as its holder reads them (远程取号).
REMOTE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "booked": ("已取号，待到厅签到", "taken: check in at the hall"),
        "missed": ("未按时签到，已作废", "not checked in in time: void"),
    }
)


class NotBookable(ServiceError):
    """The day or slot asked for takes no appointment (a holiday, the past, too far ahead)."""

    code = "not_bookable"
    status = 409


class SlotFull(ServiceError):
    code = "slot_full"
    status = 409


class CheckInRefused(ServiceError):
    """A kiosk check-in that cannot be made; the subclass's code says why (for the kiosk's wording)."""

    status = 409


class AppointmentCancelled(CheckInRefused):
    code = "appointment_cancelled"


class AppointmentMissed(CheckInRefused):
    code = "appointment_missed"


class NotToday(CheckInRefused):
    code = "appointment_not_today"


class TooEarly(CheckInRefused):
    code = "too_early"


REFUSED_BY_STATE: Mapping[str, type[CheckInRefused]] = MappingProxyType(
    {"cancelled": AppointmentCancelled, "missed": AppointmentMissed}
)


class BookRequest(BaseModel):
    """Body of POST /api/v1/halls/{hall}/appointments: an item (or a category), a working day and a slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: Annotated[str, Field(pattern=SLUG)] | None = None
    category: Annotated[str, Field(pattern=SLUG)] | None = None
    day: IsoDate
    start: Annotated[str, Field(pattern=HHMM, description="the slot's start, HH:MM")]


class Slot(BaseModel):
    start: str
    end: str
    capacity: int
    booked: int
    left: int
    open: bool  # False for a slot that has begun (today)


class SlotDay(BaseModel):
    day: dt.date
    weekday_zh: str
    slots: list[Slot]
    provisional: bool = False  # the day's year has no official holiday schedule yet: it may become a holiday


class Availability(BaseModel):
    """The free slots of one category, over every bookable day."""

    hall: str
    category: str
    item_id: str | None
    slot_minutes: int
    days_ahead: int
    today: dt.date
    days: list[SlotDay]


class AppointmentView(BaseModel):
    """An appointment as its holder sees it (it holds nothing personal: there is nothing personal in it)."""

    code: str
    hall: str
    day: dt.date
    start: str
    end: str
    category: str
    category_name_zh: str
    category_name_en: str
    item_id: str | None
    item_name_zh: str | None
    item_name_en: str | None
    state: AppointmentState
    state_label_zh: str
    state_label_en: str
    check_in_from: dt.datetime
    check_in_until: dt.datetime
    ticket_number: str | None
    qr_path: str
    kind: Literal["slot", "remote"] = "slot"  # remote: 远程取号, a place in today's queue (services/remote_tickets.py)
    ahead: int | None = None  # remote, not yet checked in: the tickets waiting before its place now
    expected_at: dt.datetime | None = None  # remote: when its turn was expected when it was taken
    track_path: str | None = None  # checked in: the ticket's tracking page


class AppointmentRecord(BaseModel):
    """An appointment as the hall's managers see it (without its code, which is the holder's key)."""

    id: int
    day: dt.date
    start: str
    end: str
    category: str
    item_id: str | None
    state: AppointmentState
    booked_at: dt.datetime
    changed_at: dt.datetime
    ticket_number: str | None


class AppointmentDay(BaseModel):
    day: dt.date
    counts: dict[str, int]
    appointments: list[AppointmentRecord]


class CheckIn(BaseModel):
    ticket: IssuedTicket
    replayed: bool


# -- slots -------------------------------------------------------------------------------------------


def minutes_of(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def hhmm_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slots_of(hall: Hall) -> list[tuple[str, str]]:
    """Every slot of a working day as (start, end), in order."""
    length = hall.appointments.slot_minutes
    slots = []
    for session in hall.sessions:
        start, end = minutes_of(session.start), minutes_of(session.end)
        while start + length <= end:
            slots.append((hhmm_of(start), hhmm_of(start + length)))
            start += length
    return slots


def zone_of(hall: Hall) -> ZoneInfo:
    return ZoneInfo(hall.timezone)


def _at(hall: Hall, day: dt.date, hhmm: str, minutes: int = 0) -> dt.datetime:
    """The aware instant of HH:MM (plus `minutes`) on day, in the hall's time zone."""
    local = dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=zone_of(hall))
    return local + dt.timedelta(minutes=minutes)


def day_of(hall: Hall, now: dt.datetime) -> dt.date:
    """The hall's service day at `now`."""
    return service_day(now, zone_of(hall))


def today_of(tx: Tx) -> dt.date:
    return day_of(tx.rt.hall, tx.now)


def _rules(hall: Hall) -> AppointmentRules:
    if not hall.appointments.enabled:
        raise NotFound(f"hall {hall.id} takes no appointments (本中心未开通办事预约)")
    return hall.appointments


def category_of(hall: Hall, item_id: str | None, category: str | None) -> tuple[str, str | None]:
    if item_id is not None:
        try:
            item = hall.item(item_id)
        except KeyError:
            raise NotFound(f"no service item {item_id!r} in hall {hall.id} (没有该事项)") from None
        if category is not None and category != item.category:
            raise NotBookable(f"item {item.id} belongs to category {item.category}, not {category}")
        if not item.appointment:
            raise NotBookable(f"{item.name_zh} takes no appointment: take a ticket at the hall (该事项不接受预约)")
        return item.category, item.id
    if category is None:
        raise NotBookable("give item_id or category (请选择事项或业务类别)")
    try:
        return hall.category(category).code, None
    except KeyError:
        raise NotFound(f"no category {category!r} in hall {hall.id} (没有该业务类别)") from None


def bookable_days(tx: Tx) -> list[dt.date]:
    """Working days from today to `days_ahead` days ahead."""
    today = today_of(tx)
    ahead = tx.rt.hall.appointments.days_ahead
    days = (today + dt.timedelta(days=n) for n in range(ahead + 1))
    return [day for day in days if tx.calendar.is_working_day(day)]


def _booked(conn: Connection, hall: str, category: str, days: list[dt.date]) -> dict[tuple[dt.date, str], int]:
    if not days:
        return {}
    rows = conn.execute(
        select(appointments.c.day, appointments.c.slot_start, func.count().label("n"))
        .where(
            appointments.c.hall == hall,
            appointments.c.category == category,
            appointments.c.day >= days[0],
            appointments.c.day <= days[-1],
            appointments.c.state != "cancelled",
        )
        .group_by(appointments.c.day, appointments.c.slot_start)
    )
    return {(r.day, r.slot_start): r.n for r in rows}


def availability(tx: Tx, item_id: str | None, category: str | None) -> Availability:
    """The slots of every bookable day for an item or a category, with what is left of each."""
    hall = tx.rt.hall
    rules = _rules(hall)
    code, item = category_of(hall, item_id, category)
    capacity = rules.capacity_of(code)
    days = bookable_days(tx)
    booked = _booked(tx.conn, hall.id, code, days)
    result = []
    for day in days:
        slots = []
        for start, end in slots_of(hall):
            n = booked.get((day, start), 0)
            begun = tx.now >= _at(hall, day, start)
            slots.append(
                Slot(start=start, end=end, capacity=capacity, booked=n, left=max(0, capacity - n), open=not begun)
            )
        if any(s.open for s in slots):
            provisional = not tx.calendar.covers(day)
            result.append(SlotDay(day=day, weekday_zh=WEEKDAYS_ZH[day.weekday()], slots=slots, provisional=provisional))
    return Availability(
        hall=hall.id,
        category=code,
        item_id=item,
        slot_minutes=rules.slot_minutes,
        days_ahead=rules.days_ahead,
        today=today_of(tx),
        days=result,
    )


# -- one appointment ------------------------------------------------------------------------------


def normal_code(code: str) -> str:
    return code.upper()


def _row(tx: Tx, code: str) -> Any:
    row = tx.conn.execute(
        select(appointments).where(appointments.c.code == normal_code(code), appointments.c.hall == tx.rt.hall.id)
    ).first()
    if row is None:
        raise NotFound("no appointment with this code in this hall (未找到该预约，请核对预约码)")
    return row


def view_of(tx: Tx, row: Any) -> AppointmentView:
    hall = tx.rt.hall
    # The catalogue may have changed since the booking: show the codes of what is gone, never fail.
    category_zh = category_en = row.category
    with contextlib.suppress(KeyError):
        category = hall.category(row.category)
        category_zh, category_en = category.name_zh, category.name_en
    item_zh = item_en = row.item_id
    with contextlib.suppress(KeyError):
        item = hall.item(row.item_id) if row.item_id else None
        item_zh, item_en = (item.name_zh, item.name_en) if item else (None, None)
    number = track = None
    if row.ticket_id is not None:
        ticket = tx.conn.execute(
            select(tickets.c.number, tickets.c.track_token, tickets.c.day).where(tickets.c.id == row.ticket_id)
        ).first()
        if ticket is not None:
            number = ticket.number
            track = f"/t/{ticket.track_token}" if ticket.day == today_of(tx) else None
    state_zh, state_en = STATE_LABELS[row.state]
    remote = row.kind == "remote"
    ahead = expected = None
    if remote:
        state_zh, state_en = REMOTE_LABELS.get(row.state, (state_zh, state_en))
        if row.state == "booked":
            ahead = place_ahead(tx, row)
        if row.estimate_s is not None:
            expected = from_us(row.booked_at + row.estimate_s * 1_000_000)
    check_from, check_until = check_in_span(hall, row)
    return AppointmentView(
        code=row.code,
        hall=hall.id,
        day=row.day,
        start=row.slot_start,
        end=row.slot_end,
        category=row.category,
        category_name_zh=category_zh,
        category_name_en=category_en,
        item_id=row.item_id,
        item_name_zh=item_zh,
        item_name_en=item_en,
        state=row.state,
        state_label_zh=state_zh,
        state_label_en=state_en,
        check_in_from=check_from,
        check_in_until=check_until,
        ticket_number=number,
        qr_path=f"/api/v1/halls/{hall.id}/appointments/{row.code}/qr.svg",
        kind="remote" if remote else "slot",
        ahead=ahead,
        expected_at=expected,
        track_path=track,
    )


def place_ahead(tx: Tx, row: Any) -> int:
    """The tickets waiting before a remote ticket's place (its category's, called before it once checked in)."""
    ahead = 0
    for ticket in tx.rt.index.waiting(row.category):
        if ticket.priority is Priority.ORDINARY and ticket.queue_key >= row.booked_at:
            break
        ahead += 1
    return ahead


def check_in_span(hall: Hall, row: Any) -> tuple[dt.datetime, dt.datetime]:
    """When the kiosk checks the appointment in: around its slot's start, or (remote) from when it was taken until
    the time to arrive plus the grace."""
    if row.kind == "remote":
        return from_us(row.booked_at).astimezone(zone_of(hall)), _at(
            hall, row.day, row.slot_end, hall.remote.grace_minutes
        )
    rules = hall.appointments
    return (
        _at(hall, row.day, row.slot_start, -rules.check_in_early_minutes),
        _at(hall, row.day, row.slot_start, rules.check_in_late_minutes),
    )


def _move(tx: Tx, row: Any, to: Move, payload: dict[str, Any], actor: str, **values: Any) -> None:
    """Change an appointment's state (by the one table) and log `appointment.<to>` with its public message."""
    if to not in TRANSITIONS[row.state]:
        raise Conflict(
            f"this appointment is {STATE_LABELS[row.state][1]}: it cannot become {STATE_LABELS[to][1]}"
            f" (该预约{STATE_LABELS[row.state][0]})"
        )
    tx.conn.execute(
        update(appointments).where(appointments.c.id == row.id).values(state=to, changed_at=tx.now_us, **values)
    )
    where = {"appointment_id": row.id, "day": row.day.isoformat(), "slot": row.slot_start, "category": row.category}
    tx.emit(
        f"appointment.{to}",
        {**where, **payload},
        lambda seq: AppointmentMessage(
            seq=seq, at=tx.now, event=to, day=row.day, slot_start=row.slot_start, category=row.category
        ),
        actor=actor,
        ticket_id=values.get("ticket_id"),
    )


def view(tx: Tx, code: str) -> AppointmentView:
    return view_of(tx, _row(tx, code))


def new_code(conn: Connection) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if conn.execute(select(appointments.c.id).where(appointments.c.code == code)).first() is None:
            return code


def book(tx: Tx, request: BookRequest) -> AppointmentView:
    """Book a slot: a working day within the days ahead, a slot that has not begun and is not full."""
    hall = tx.rt.hall
    rules = _rules(hall)
    code, item = category_of(hall, request.item_id, request.category)
    today = today_of(tx)
    day = request.day
    if day < today:
        raise NotBookable(f"{day.isoformat()} has passed (该日期已过)")
    if day > today + dt.timedelta(days=rules.days_ahead):
        last = today + dt.timedelta(days=rules.days_ahead)
        raise NotBookable(
            f"appointments are taken up to {rules.days_ahead} days ahead, until {last.isoformat()}"
            f" (最多预约{rules.days_ahead}天内)"
        )
    if not tx.calendar.is_working_day(day):
        raise NotBookable(f"{day.isoformat()} is not a working day: the hall is closed (该日为休息日或节假日)")
    ends = dict(slots_of(hall))
    if request.start not in ends:
        offered = ", ".join(ends) or "none"
        raise NotBookable(f"no slot starts at {request.start}; the slots start at {offered} (没有该时段)")
    if tx.now >= _at(hall, day, request.start):
        raise NotBookable(f"the slot {request.start} of {day.isoformat()} has begun (该时段已开始，不能预约)")
    capacity = rules.capacity_of(code)
    taken = _booked(tx.conn, hall.id, code, [day]).get((day, request.start), 0)
    if taken >= capacity:
        raise SlotFull(f"the slot {request.start}–{ends[request.start]} of {day.isoformat()} is full (该时段已约满)")
    inserted = tx.conn.execute(
        insert(appointments).values(
            hall=hall.id,
            code=new_code(tx.conn),
            day=day,
            slot_start=request.start,
            slot_end=ends[request.start],
            category=code,
            item_id=item,
            state="booked",
            booked_at=tx.now_us,
            changed_at=tx.now_us,
        )
    ).inserted_primary_key
    assert inserted is not None
    row = tx.conn.execute(select(appointments).where(appointments.c.id == inserted[0])).one()
    tx.emit(
        "appointment.booked",
        {"appointment_id": row.id, "day": day.isoformat(), "slot": row.slot_start, "category": code, "item_id": item},
        lambda seq: AppointmentMessage(
            seq=seq, at=tx.now, event="booked", day=day, slot_start=row.slot_start, category=code
        ),
        actor="citizen",
    )
    return view_of(tx, row)


def cancel(tx: Tx, code: str) -> AppointmentView:
    """Cancel a booked appointment before its slot begins; its place is free again."""
    row = _row(tx, code)
    if row.state == "booked" and row.kind != "remote" and tx.now >= _at(tx.rt.hall, row.day, row.slot_start):
        raise Conflict("the slot has begun: the appointment can no longer be cancelled (预约时段已开始，不能取消)")
    _move(tx, row, "cancelled", {}, "citizen")
    return view_of(tx, _row(tx, code))


def check_in(tx: Tx, code: str, device: str) -> CheckIn:
    """At a kiosk: a ticket of priority "appointment" for a booked appointment in its check-in time.

    Checking in again (a kiosk that retries) answers the same ticket. Run `sweep_missed` in a
    transaction of its own first: a refusal here rolls back everything this transaction did.
    """
    hall = tx.rt.hall
    row = _row(tx, code)
    remote = row.kind == "remote"
    if not remote:
        _rules(hall)
    if row.state == "checked_in":
        return CheckIn(ticket=issuing.replay(tx, row.ticket_id), replayed=True)
    state = row.state
    opens, closes = check_in_span(hall, row)
    if state == "booked" and tx.now > closes:
        state = "missed"  # the sweep records it; this answer must not wait for the sweep
    if state != "booked":
        zh, en = (REMOTE_LABELS if remote else STATE_LABELS).get(state, STATE_LABELS[state])
        raise REFUSED_BY_STATE[state](f"this appointment is {en}: take an ordinary ticket (该预约{zh}，请取普通号)")
    if row.day != today_of(tx):
        raise NotToday(
            f"this appointment is for {row.day.isoformat()} {row.slot_start}, not today"
            f" (预约日期为{row.day.month}月{row.day.day}日 {row.slot_start})"
        )
    if tx.now < opens:
        local = opens.astimezone(zone_of(hall)).strftime("%H:%M")
        raise TooEarly(
            f"too early: check in from {local} for the slot {row.slot_start}–{row.slot_end} (请于{local}后签到)"
        )
    request = IssueRequest(item_id=row.item_id, category=None if row.item_id else row.category)
    key = f"appointment:{row.code}"
    if remote:  # an ordinary ticket in the place it was taken at (its time on the way is not lost)
        issued = issuing.issue_ticket(tx, request, device, key, priority=Priority.ORDINARY, queue_key=row.booked_at)
    else:
        issued = issuing.issue_ticket(tx, request, device, key, priority=Priority.APPOINTMENT)
    _move(
        tx,
        row,
        "checked_in",
        {"number": issued.ticket.number},
        f"device:{device}",
        ticket_id=issued.ticket.id,
        device=device,
    )
    return CheckIn(ticket=issued.ticket, replayed=False)


def sweep_missed(tx: Tx) -> int:
    """Mark missed every booked appointment whose check-in time is over; return how many."""
    hall = tx.rt.hall
    today = today_of(tx)
    rows = tx.conn.execute(
        select(appointments).where(
            appointments.c.hall == hall.id, appointments.c.state == "booked", appointments.c.day <= today
        )
    ).all()
    missed = [r for r in rows if tx.now > check_in_span(hall, r)[1]]
    for row in missed:
        _move(tx, row, "missed", {}, "system")
    return len(missed)


def day_list(tx: Tx, day: dt.date) -> AppointmentDay:
    """A day's appointments for the hall's managers, after recording the missed ones."""
    sweep_missed(tx)
    rows = tx.conn.execute(
        select(appointments, tickets.c.number)
        .join(tickets, tickets.c.id == appointments.c.ticket_id, isouter=True)
        .where(appointments.c.hall == tx.rt.hall.id, appointments.c.day == day)
        .order_by(appointments.c.slot_start, appointments.c.id)
    ).all()
    records = [
        AppointmentRecord(
            id=r.id,
            day=r.day,
            start=r.slot_start,
            end=r.slot_end,
            category=r.category,
            item_id=r.item_id,
            state=r.state,
            booked_at=from_us(r.booked_at),
            changed_at=from_us(r.changed_at),
            ticket_number=r.number,
        )
        for r in rows
    ]
    counts = {state: sum(1 for r in records if r.state == state) for state in STATE_LABELS}
    return AppointmentDay(day=day, counts=counts, appointments=records)
