"""远程取号 in the reports: the remote places taken, checked in, missed (no-shows) and cancelled in a period.

From the event log alone, so the county reads the same figures from a township's shipped events: a remote place
is an appointment whose `appointment.booked` event says `kind: "remote"` (services/remote_tickets.py); its later
`appointment.checked_in` / `missed` / `cancelled` events are matched to it by `appointment_id`. Each counts by
the event's time. A place lives one service day, but its miss may be recorded after midnight (the sweep runs on
the next request): bookings are read from the day before the period too. Checked in, it is an ordinary ticket of
the other figures.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from queue_server.reports.periods import Period, local_midnight_us
from queue_server.store.tables import events

OUTCOMES = ("checked_in", "missed", "cancelled")
TYPES = ("appointment.booked", *(f"appointment.{o}" for o in OUTCOMES))


class RemoteFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    taken: int
    checked_in: int
    missed: int  # not checked in within the time to arrive and the grace: no-shows
    cancelled: int


def remote_figures(conn: Connection, hall: str, tz: ZoneInfo, period: Period) -> RemoteFigures | None:
    """The period's counts; None when no remote place was taken or ended in it (the report shows nothing)."""
    start, end = period.bounds_us(tz)
    since = local_midnight_us(period.start - dt.timedelta(days=1), tz)
    rows = conn.execute(
        select(events.c.type, events.c.at, events.c.payload)
        .where(events.c.hall == hall, events.c.type.in_(TYPES), events.c.at >= since, events.c.at < end)
        .order_by(events.c.seq)
    )
    remote: set[object] = set()
    counts = dict.fromkeys(("taken", *OUTCOMES), 0)
    for row in rows:
        payload = json.loads(row.payload)
        ident = payload.get("appointment_id")
        if row.type == "appointment.booked":
            if payload.get("kind") != "remote":
                continue
            remote.add(ident)
            if row.at >= start:
                counts["taken"] += 1
        elif ident in remote and row.at >= start:
            counts[row.type.removeprefix("appointment.")] += 1
    if not any(counts.values()):
        return None
    return RemoteFigures(**counts)
