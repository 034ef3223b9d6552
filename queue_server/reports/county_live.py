"""Every hall of a county now: the local halls from their runtime (as the manager's wall), the townships from
their shipped events (nothing of theirs runs here), each with when it was last heard from.

A township's picture is as of its last contact (the county's clock when its last batch or heartbeat came):
its windows from the day's window events, its queues and alerts from the day's ticket events folded by
TodayFacts and the wall's own code (live.py `build_wall`). Nothing is assumed after that instant: past the
stale threshold the hall is marked stale, and its figures stay those of its last contact.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from config.schema import Hall
from queue_server.domain.numbering import service_day
from queue_server.link.tables import link_peers
from queue_server.reports.figures import US
from queue_server.reports.live import Alert, LiveState, Wall, WindowLive
from queue_server.reports.periods import local_midnight_us
from queue_server.store.tables import events
from queue_server.store.writer import from_us

#: The events that change a window's state (the day's close closes every window).
WINDOW_EVENTS = ("window.opened", "window.taken_over", "window.paused", "window.resumed", "window.closed", "day.closed")


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class HallLive(Model):
    hall: str
    name_zh: str
    name_en: str
    kind: Literal["local", "township"]  # served here, or a township shipping its events here
    day: dt.date | None
    as_of: dt.datetime  # the figures are those of this instant (a township: its last contact)
    last_heard: dt.datetime | None  # local: now; township: its last contact (or its newest event); None: never
    silent_s: int | None  # seconds since last heard
    stale: bool  # not heard from for longer than the county's stale threshold (or never)
    backlog: int  # events the township said it still had to send (local: 0)
    seq: int  # the newest event of the hall folded here
    windows: int  # windows in the hall's configuration
    open_windows: int  # open or paused (staffed)
    paused_windows: int
    waiting: int
    longest_wait_s: int | None  # the longest current wait, from issue (None: nobody waits)
    issued_today: int
    served_today: int
    alerts: list[Alert]


class CountyLive(Model):
    county: str
    name_zh: str
    name_en: str
    now: dt.datetime
    stale_minutes: int
    halls: list[HallLive]
    open_windows: int
    waiting: int
    alerts: int
    stale: int  # halls marked stale


@dataclass
class _Window:
    state: Literal["closed", "open", "paused"] = "closed"
    clerk: str | None = None
    post: Literal["A", "B"] | None = None
    since: int | None = None
    reason: str | None = None


def township_window_state(conn: Connection, hall: Hall, day: dt.date, as_of_us: int) -> LiveState:
    """The township's windows on `day` from its shipped window events (no runtime here), timed at `as_of_us`."""
    start = local_midnight_us(day, ZoneInfo(hall.timezone))
    c = events.c
    rows = conn.execute(
        select(c.seq, c.type, c.at, c.actor, c.window, c.post, c.payload)
        .where(c.hall == hall.id, c.at >= start, c.type.in_(WINDOW_EVENTS))
        .order_by(c.seq)
    ).all()
    state = {w.number: _Window() for w in hall.windows}
    seq = 0
    for row in rows:
        seq = int(row.seq)
        if row.type == "day.closed":
            state = {number: _Window() for number in state}
            continue
        if row.window is None or int(row.window) not in state:
            continue
        post = row.post if row.post in ("A", "B") else None
        if row.type in ("window.opened", "window.taken_over", "window.resumed"):
            state[int(row.window)] = _Window("open", row.actor, post, int(row.at))
        elif row.type == "window.paused":
            reason = json.loads(row.payload).get("reason")
            state[int(row.window)] = _Window("paused", row.actor, post, int(row.at), str(reason) if reason else None)
        else:
            state[int(row.window)] = _Window()
    limit_us = hall.queue.pause_alert_minutes * 60 * US
    windows = []
    for window in hall.windows:
        w = state[window.number]
        windows.append(WindowLive(
            number=window.number, name_zh=window.name_zh, name_en=window.name_en, categories=list(window.categories),
            state=w.state, clerk=w.clerk, clerk_name=w.clerk, post=w.post, current_number=None, current_state=None,
            current_category=None, called_at=None, started_at=None, serving_s=None,
            since=from_us(w.since) if w.since is not None else None,
            state_s=max(0, (as_of_us - w.since) // US) if w.since is not None else None,
            paused_reason=w.reason,
            pause_alert=w.state == "paused" and w.since is not None and as_of_us - w.since >= limit_us,
        ))  # fmt: skip
    return LiveState(day, seq, windows, {})


def township_contact(conn: Connection, hall: str) -> tuple[int | None, int]:
    """When the county last heard from the township (its last contact, else its newest event) and its backlog."""
    row = conn.execute(select(link_peers.c.last_contact, link_peers.c.waiting).where(link_peers.c.hall == hall)).first()
    if row is not None:
        return int(row.last_contact), int(row.waiting)
    newest = conn.execute(select(events.c.at).where(events.c.hall == hall).order_by(events.c.seq.desc()).limit(1))
    at = newest.scalar()
    return (None if at is None else int(at)), 0


def township_day(hall: Hall, as_of_us: int) -> dt.date:
    return service_day(from_us(as_of_us), ZoneInfo(hall.timezone))


def hall_live(
    wall: Wall, kind: Literal["local", "township"], as_of_us: int, heard_us: int | None, now_us: int,
    stale_us: int, backlog: int, windows: int,
) -> HallLive:  # fmt: skip
    """A hall's line on the county's grid, from its wall (built by the wall's own code)."""
    silent = None if heard_us is None else max(0, (now_us - heard_us) // US)
    waits = [c.longest_wait_s for c in wall.categories if c.longest_wait_s is not None]
    return HallLive(
        hall=wall.hall,
        name_zh=wall.name_zh,
        name_en=wall.name_en,
        kind=kind,
        day=wall.day,
        as_of=from_us(as_of_us),
        last_heard=None if heard_us is None else from_us(heard_us),
        silent_s=silent,
        stale=silent is None or silent * US > stale_us,
        backlog=backlog,
        seq=wall.seq,
        windows=windows,
        open_windows=sum(w.state != "closed" for w in wall.windows),
        paused_windows=sum(w.state == "paused" for w in wall.windows),
        waiting=sum(c.waiting for c in wall.categories),
        longest_wait_s=max(waits, default=None),
        issued_today=wall.today.issued,
        served_today=wall.today.served,
        alerts=wall.alerts,
    )


def county_live(county: str, name_zh: str, name_en: str, now_us: int, stale_minutes: int,
                halls: list[HallLive]) -> CountyLive:  # fmt: skip
    return CountyLive(
        county=county,
        name_zh=name_zh,
        name_en=name_en,
        now=from_us(now_us),
        stale_minutes=stale_minutes,
        halls=halls,
        open_windows=sum(h.open_windows for h in halls),
        waiting=sum(h.waiting for h in halls),
        alerts=sum(len(h.alerts) for h in halls),
        stale=sum(h.stale for h in halls),
    )
