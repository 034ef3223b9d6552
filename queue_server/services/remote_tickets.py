"""远程取号: a place in today's queue taken from the phone, kept until the citizen checks in at the kiosk.

A remote ticket is an appointment row of kind "remote" (services/appointments.py): its code and QR are shown on the
phone, its "slot" runs from the moment it was taken to the time to arrive (`arrive_within_minutes`, not past the
session's end). At the kiosk's check-in screen (the appointment code's) the citizen gets a numbered ticket that
keeps the place it was taken at (its queue key is the time it was taken), so the time on the way is not lost;
not checked in by the time to arrive plus `grace_minutes`, it is missed (a no-show).

Refused, each with its reason: the hall takes none (404), outside the sessions or in a session's last
`stop_before_close_minutes` (outside_hours), the category's daily quota taken (quota_reached), one phone holding
a remote ticket of the category already (remote_held), and a phone with `no_show_limit` missed remote tickets in
`no_show_days` days, until `ban_days` after the last (remote_banned). A phone is known by the random device id its
page keeps (localStorage), stored as its SHA-256 only: no account, no phone number (docs/remote-tickets.md says
what that can and cannot stop).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, func, insert, select

from config.schema import Hall, RemoteRules
from queue_server.domain.tickets import Priority
from queue_server.domain.workdays import WorkCalendar
from queue_server.errors import NotFound, ServiceError
from queue_server.protocol import AppointmentMessage
from queue_server.runtime import HallRuntime
from queue_server.services import appointments, issuing
from queue_server.services.appointments import SLUG, AppointmentView, hhmm_of, minutes_of
from queue_server.store.tables import appointments as table
from queue_server.store.writer import Tx, to_us

DEVICE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class OutsideHours(ServiceError):
    code = "outside_hours"
    status = 409


class QuotaReached(ServiceError):
    code = "quota_reached"
    status = 409


class RemoteHeld(ServiceError):
    code = "remote_held"
    status = 409


class RemoteBanned(ServiceError):
    code = "remote_banned"
    status = 409


class RemoteRequest(BaseModel):
    """Body of POST /api/v1/halls/{hall}/remote-tickets: an item (or a category), and the phone's device id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: Annotated[str, Field(pattern=SLUG)] | None = None
    category: Annotated[str, Field(pattern=SLUG)] | None = None
    device_id: Annotated[str, Field(pattern=DEVICE_PATTERN, description="the page's random id, kept on the phone")]


class RemoteCategory(BaseModel):
    code: str
    quota: int
    left: int
    waiting: int  # tickets waiting in the hall now (the remote ones not yet checked in are not among them)
    wait_s: int | None  # the estimate of a ticket taken now


class RemoteStatus(BaseModel):
    """What /join shows before taking: whether remote tickets are taken now, and each category's places left."""

    hall: str
    open: bool
    reason_zh: str | None  # why not now (outside the hours, not a working day)
    reason_en: str | None
    sessions: list[str]  # "08:30–11:30": the times remote tickets are taken
    arrive_within_minutes: int
    grace_minutes: int
    categories: list[RemoteCategory]


def requester_of(device_id: str) -> str:
    return hashlib.sha256(device_id.encode()).hexdigest()


def _rules(hall: Hall) -> RemoteRules:
    if not hall.remote.enabled:
        raise NotFound(f"hall {hall.id} takes no remote tickets (本中心未开通远程取号)")
    return hall.remote


def taking_hours(hall: Hall, rules: RemoteRules) -> list[tuple[int, int]]:
    """The minutes of the day remote tickets are taken: each session without its last stop_before_close minutes."""
    spans = [(minutes_of(s.start), minutes_of(s.end) - rules.stop_before_close_minutes) for s in hall.sessions]
    return [(start, end) for start, end in spans if end > start]


def _now_minutes(hall: Hall, now: dt.datetime) -> float:
    local = now.astimezone(appointments.zone_of(hall))
    return local.hour * 60 + local.minute + local.second / 60


def _closed_reason(hall: Hall, calendar: WorkCalendar, now: dt.datetime, rules: RemoteRules) -> tuple[str, str] | None:
    """Why no remote ticket is taken now (中文, English), or None."""
    hours = taking_hours(hall, rules)
    times = [f"{hhmm_of(a)}–{hhmm_of(b)}" for a, b in hours]
    spans, spans_en = "、".join(times) or "无", ", ".join(times) or "never"
    if not calendar.is_working_day(appointments.day_of(hall, now)):
        return (
            f"今天不是工作日，远程取号时间为工作日 {spans}",
            f"today is not a working day; remote tickets are taken on working days {spans_en}",
        )
    minutes = _now_minutes(hall, now)
    if not any(start <= minutes < end for start, end in hours):
        return (
            f"现在不在远程取号时间内（{spans}），请在取号时间内再来，或预约其他时间",
            f"remote tickets are taken {spans_en} only: come back then, or book an appointment",
        )
    return None


def taken_today(conn: Connection, hall: Hall, now: dt.datetime) -> dict[str, int]:
    """Today's remote places per category, cancelled ones not counted (one query for every category)."""
    rows = conn.execute(
        select(table.c.category, func.count().label("n"))
        .where(
            table.c.hall == hall.id,
            table.c.day == appointments.day_of(hall, now),
            table.c.kind == "remote",
            table.c.state != "cancelled",
        )
        .group_by(table.c.category)
    )
    return {r.category: int(r.n) for r in rows}


def _refuse_banned(tx: Tx, rules: RemoteRules, requester: str) -> None:
    today = appointments.today_of(tx)
    since = today - dt.timedelta(days=rules.no_show_days - 1)
    missed = tx.conn.execute(
        select(table.c.day).where(
            table.c.hall == tx.rt.hall.id,
            table.c.requester == requester,
            table.c.kind == "remote",
            table.c.state == "missed",
            table.c.day >= since,
        )
    ).all()
    if len(missed) < rules.no_show_limit:
        return
    until = max(r.day for r in missed) + dt.timedelta(days=rules.ban_days)
    if today >= until:
        return
    raise RemoteBanned(
        f"{len(missed)} remote tickets of this phone were not checked in within {rules.no_show_days} days: no remote"
        f" ticket before {until.isoformat()}; please take a ticket at the hall (近{rules.no_show_days}天内已有"
        f"{len(missed)}次远程取号未按时签到，{until.month}月{until.day}日前不能远程取号，请到大厅现场取号)"
    )


def _refuse_held(tx: Tx, requester: str, category: str) -> None:
    held = tx.conn.execute(
        select(table.c.code).where(
            table.c.hall == tx.rt.hall.id,
            table.c.day == appointments.today_of(tx),
            table.c.requester == requester,
            table.c.kind == "remote",
            table.c.category == category,
            table.c.state == "booked",
        )
    ).first()
    if held is not None:
        raise RemoteHeld(
            "this phone holds a remote ticket of this category already: check it in at the kiosk, or cancel it"
            " first (您已有该类业务的远程取号，请先签到或取消)"
        )


def take(tx: Tx, request: RemoteRequest) -> AppointmentView:
    """A place in today's queue from the phone, kept until the time to arrive (plus the grace)."""
    hall = tx.rt.hall
    rules = _rules(hall)
    code, item = appointments.category_of(hall, request.item_id, request.category)
    closed = _closed_reason(hall, tx.calendar, tx.now, rules)
    if closed is not None:
        raise OutsideHours(f"{closed[1]} ({closed[0]})")
    requester = requester_of(request.device_id)
    _refuse_banned(tx, rules, requester)
    _refuse_held(tx, requester, code)
    quota = rules.quota_of(code)
    if taken_today(tx.conn, hall, tx.now).get(code, 0) >= quota:
        raise QuotaReached(
            f"today's {quota} remote tickets of this category are taken: take a ticket at the hall, or book another"
            f" day (今日该类业务{quota}个远程取号名额已满，请到大厅现场取号或预约其他日期)"
        )
    now = int(_now_minutes(hall, tx.now))
    session_end = next(minutes_of(s.end) for s in hall.sessions if minutes_of(s.start) <= now < minutes_of(s.end))
    estimate = issuing.estimate_now(tx.rt, code, Priority.ORDINARY, tx.now_us)
    inserted = tx.conn.execute(
        insert(table).values(
            hall=hall.id,
            code=appointments.new_code(tx.conn),
            day=appointments.today_of(tx),
            slot_start=hhmm_of(now),
            slot_end=hhmm_of(min(now + rules.arrive_within_minutes, session_end)),
            category=code,
            item_id=item,
            state="booked",
            booked_at=tx.now_us,
            changed_at=tx.now_us,
            kind="remote",
            requester=requester,
            estimate_s=estimate.wait_s,
        )
    ).inserted_primary_key
    assert inserted is not None
    row = tx.conn.execute(select(table).where(table.c.id == inserted[0])).one()
    tx.emit(
        "appointment.booked",
        {"appointment_id": row.id, "day": row.day.isoformat(), "slot": row.slot_start, "category": code,
         "item_id": item, "kind": "remote"},
        lambda seq: AppointmentMessage(
            seq=seq, at=tx.now, event="booked", day=row.day, slot_start=row.slot_start, category=code
        ),
        actor="citizen",
    )  # fmt: skip
    return appointments.view_of(tx, row)


def status(view: HallRuntime, taken: dict[str, int], calendar: WorkCalendar, now: dt.datetime) -> RemoteStatus:
    """From the hall's read-side view and today's places taken (`taken_today`): no transaction, no writer."""
    hall = view.hall
    rules = _rules(hall)
    closed = _closed_reason(hall, calendar, now, rules)
    counts, now_us = view.counts(), to_us(now)
    categories = []
    for category in hall.categories:
        quota = rules.quota_of(category.code)
        estimate = issuing.estimate_now(view, category.code, Priority.ORDINARY, now_us)
        waiting = counts.untargeted.get(category.code, 0)
        left = max(0, quota - taken.get(category.code, 0))
        categories.append(
            RemoteCategory(code=category.code, quota=quota, left=left, waiting=waiting, wait_s=estimate.wait_s)
        )
    return RemoteStatus(
        hall=hall.id,
        open=closed is None,
        reason_zh=closed[0] if closed else None,
        reason_en=closed[1] if closed else None,
        sessions=[f"{hhmm_of(a)}–{hhmm_of(b)}" for a, b in taking_hours(hall, rules)],
        arrive_within_minutes=rules.arrive_within_minutes,
        grace_minutes=rules.grace_minutes,
        categories=categories,
    )
