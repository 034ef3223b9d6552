"""投诉举报 in the reports: the complaints filed in a period, and how they were answered, from the event log.

Computed from the `complaint.*` events alone, so the county reads the same figures from a township's
shipped events as the township does from its own log. Definitions:

- received: complaints whose `complaint.filed` event names a day in the period (the hall's local day).
- answered: those of them answered by now; on time: answered on or before their due day; late: after it.
- open: not answered yet (state open or handling); overdue: open and their due day has passed (today).
- on-time rate = answered on time / (answered + overdue): every complaint whose deadline has come, and
  how many met it. None when no deadline has come yet: no figure is invented.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select, text

from queue_server.reports.periods import Period, local_midnight_us
from queue_server.store.tables import COMPLAINT_EVENTS, events

TYPES = COMPLAINT_EVENTS
# Written out, not bound: a partial index is used only for a query whose WHERE holds its very terms (SQLite cannot
# match `type IN (?, ?, ?)` with parameters to the index's `type IN ('complaint.filed', …)`).
ONLY_COMPLAINTS = text("events.type IN (" + ", ".join(f"'{t}'" for t in TYPES) + ")")


class ComplaintFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    received: int
    answered: int
    answered_on_time: int
    answered_late: int
    open: int
    overdue: int
    on_time_rate: float | None  # 0..1, four decimals


class ComplaintFact(BaseModel):
    """One complaint as the event log tells it: what the county sees (no text, no code, no contact)."""

    model_config = ConfigDict(frozen=True)

    hall: str
    complaint_id: int
    category: str
    window: int | None
    day: dt.date
    due_on: dt.date
    state: str
    answered_on: dt.date | None
    late: bool | None
    overdue: bool


@dataclass
class _Fact:
    category: str
    window: int | None
    day: dt.date
    due_on: dt.date
    state: str = "open"
    answered_on: dt.date | None = None
    late: bool | None = None


def _events(conn: Connection, hall: str, since_us: int) -> Iterator[tuple[str, int | None, dict[str, object]]]:
    query = (
        select(events.c.type, events.c.window, events.c.payload)
        .where(events.c.hall == hall, events.c.at >= since_us, ONLY_COMPLAINTS)
        .order_by(events.c.seq)
    )
    for kind, window, payload in conn.execute(query):
        yield kind, window, json.loads(payload)


def fold(rows: Iterable[tuple[str, int | None, dict[str, object]]], period: Period) -> dict[int, _Fact]:
    """Each complaint filed in the period, with its state after these events (in log order)."""
    facts: dict[int, _Fact] = {}
    for kind, window, payload in rows:
        complaint = int(str(payload["complaint_id"]))
        if kind == "complaint.filed":
            day = dt.date.fromisoformat(str(payload["day"]))
            if period.start <= day < period.end:
                due = dt.date.fromisoformat(str(payload["due_on"]))
                facts[complaint] = _Fact(str(payload["category"]), window, day, due)
            continue
        fact = facts.get(complaint)
        if fact is None:
            continue
        if kind == "complaint.handling":
            fact.state = "handling"
        else:
            fact.state, fact.late = "answered", bool(payload["late"])
            fact.answered_on = dt.date.fromisoformat(str(payload["answered_on"]))
    return facts


def read_facts(conn: Connection, hall: str, tz: ZoneInfo, period: Period, today: dt.date) -> list[ComplaintFact]:
    """The complaints filed in the period in this hall, from its event log (or the county's copy of it)."""
    since = local_midnight_us(period.start - dt.timedelta(days=1), tz)  # the local day is the payload's: a margin
    facts = fold(_events(conn, hall, since), period)
    return [
        ComplaintFact(
            hall=hall, complaint_id=cid, category=f.category, window=f.window, day=f.day, due_on=f.due_on,
            state=f.state, answered_on=f.answered_on, late=f.late, overdue=f.state != "answered" and today > f.due_on,
        )
        for cid, f in sorted(facts.items())
    ]  # fmt: skip


def figures_of(facts: Iterable[ComplaintFact], today: dt.date | None = None) -> ComplaintFigures:
    """The figures of these complaints (ComplaintFacts; or the fold's own facts, judged overdue on `today`)."""
    received = answered = late = overdue = 0
    for f in facts:
        received += 1
        if f.state == "answered":
            answered += 1
            late += bool(f.late)
        elif f.overdue if today is None else today > f.due_on:
            overdue += 1
    on_time = answered - late
    due = answered + overdue
    return ComplaintFigures(
        received=received,
        answered=answered,
        answered_on_time=on_time,
        answered_late=late,
        open=received - answered,
        overdue=overdue,
        on_time_rate=round(on_time / due, 4) if due else None,
    )


def complaint_figures(conn: Connection, hall: str, tz: ZoneInfo, period: Period, today: dt.date) -> ComplaintFigures:
    """The figures of the complaints filed in the period (what the reports and the published figures show)."""
    since = local_midnight_us(period.start - dt.timedelta(days=1), tz)
    return figures_of(fold(_events(conn, hall, since), period).values(), today)  # type: ignore[arg-type]
