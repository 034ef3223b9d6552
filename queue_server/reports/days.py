"""Each closed service day's figures, folded once from the event log and stored; a period's report merges them.

A report of a period [S, E) counts the tickets issued in it, folded from the events at S ≤ at < E + GRACE
(report.py). Split by the day of issue: the tickets of day d folded from the events of d's window
[d, d + 1 day + GRACE) are d's own report, its `Partial`; once that window has passed (with a margin, on
both the wall clock and the log's newest event) no event can join it, so the Partial is stored, keyed by
(hall, day). A period's report is then the merge of its closed days' Partials and a live fold of the days
not closed yet (today).

What the split would miss are the events of a day's tickets that come after the day's window, within
the period's: ratings given days later, a ticket still being served when the day closed. Each stored day
also keeps such "other" events of its window (events of tickets not issued that day), and the tickets'
ids with their cell and rating, so that a period finds every late event of its days' tickets among its
own days and today's events, and applies it: a late rating moves one count between cells (exact), any
other late event has the day refolded from its events. So every figure equals the one-go fold, exactly.

Rows are a cache: deleting them loses nothing; a row of another VERSION is ignored and replaced. Two
readers filling the same day insert the same content and the second insert is ignored.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, Connection, Date, Integer, String, Table, Text, delete, select
from sqlalchemy.exc import SQLAlchemyError

from config.schema import Hall
from queue_server.reports.events import EventRow, read_events
from queue_server.reports.figures import US, FigureBuilder
from queue_server.reports.partial import Cell, LivePartial, Partial, partial_of, rate
from queue_server.reports.periods import GRACE_US, Period, local_midnight_us
from queue_server.reports.totals import Totals
from queue_server.store.backends import backend_for
from queue_server.store.tables import events, metadata

log = logging.getLogger(__name__)

#: The stored form's version: change it when a Partial's content or meaning changes (old rows are refilled).
#: 2: cells keyed by (category, window, clerk, item), with rating levels and a histogram of waits.
VERSION = 2
#: A day's window is closed this long after it ends, on both clocks (a commit in flight, clocks apart).
MARGIN_US = 15 * 60 * US
#: The events a fold applies to a known ticket (the others never change a ticket's figures).
TICKET_EVENTS = frozenset({
    "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished", "ticket.no_show",
    "ticket.transferred", "ticket.requeued", "ticket.returned", "ticket.rated", "rating.review_upheld",
})  # fmt: skip

report_days = Table(
    "report_days",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("last_seq", BigInteger, nullable=False),  # the newest seq among the window's events (0: none)
    Column("first_ticket", Integer, nullable=True),  # the smallest and largest id of the day's tickets
    Column("last_ticket", Integer, nullable=True),
    Column("figures", Text, nullable=False),  # the Partial (JSON)
    Column("tickets", Text, nullable=False),  # each ticket's id, cell and rating (JSON), for late events
    Column("others", Text, nullable=False),  # the window's events of other days' tickets (JSON)
    Column("filled_at", BigInteger, nullable=False),
    # The Partial's Totals (JSON; totals.py), for reports by hall (months.py); NULL in rows stored before 0011.
    Column("totals", Text, nullable=True),
)


@dataclass(frozen=True)
class Window:
    """One day's window: its tickets are issued in [start, end), its events are at in [start, until)."""

    day: dt.date
    start: int
    end: int
    until: int

    @classmethod
    def of(cls, day: dt.date, tz: ZoneInfo) -> Window:
        return _window_of(day, tz)


@functools.lru_cache(maxsize=4096)  # a city's year asks for the same 365 windows for each of its halls
def _window_of(day: dt.date, tz: ZoneInfo) -> Window:
    start, end = local_midnight_us(day, tz), local_midnight_us(day + dt.timedelta(days=1), tz)
    return Window(day, start, end, end + GRACE_US)


@dataclass
class StoredDay:
    """A closed day as stored: its Partial, and what late events need."""

    window: Window
    last_seq: int
    first_ticket: int | None
    last_ticket: int | None
    partial: Partial
    others: list[EventRow]
    tickets_json: str | None = None  # read only when a late event needs it


# --- the stored form of a day's tickets and other events ---------------------------------------------


def tickets_json(builder: FigureBuilder, partial: Partial, cell_of: dict[int, Cell]) -> str:
    """Each ticket's id (ascending, as differences), its cell's index in the Partial and its rating."""
    index = {key: i for i, key in enumerate(partial.cells)}
    ids = sorted(builder.tickets)
    levels: dict[str, int] = {}
    deltas, cells, ratings = [], [], []
    previous = 0
    for ticket_id in ids:
        deltas.append(ticket_id - previous)
        previous = ticket_id
        cells.append(index[cell_of[ticket_id]])
        level = builder.tickets[ticket_id].rating
        ratings.append(0 if level is None else levels.setdefault(level, len(levels) + 1))
    return json.dumps({"ids": deltas, "cells": cells, "levels": list(levels), "ratings": ratings},
                      separators=(",", ":"))  # fmt: skip


class DayTickets:
    """A stored day's tickets: ids ascending, each one's cell and rating (looked up by id, never all decoded)."""

    def __init__(self, text: str, partial: Partial | None = None) -> None:
        data = json.loads(text)
        self.ids = list(accumulate(data["ids"]))
        self.cells: list[int] = data["cells"]
        self.ratings: list[int] = data["ratings"]
        self.levels: list[str | None] = [None, *data["levels"]]
        self.keys = [] if partial is None else list(partial.cells)  # None: the cells are not looked up

    def index(self, ticket_id: int | None) -> int | None:
        """The position of the day's ticket, or None when the ticket is not the day's."""
        if ticket_id is None:
            return None
        i = bisect.bisect_left(self.ids, ticket_id)
        return i if i < len(self.ids) and self.ids[i] == ticket_id else None

    def cell(self, i: int) -> Cell:
        return self.keys[self.cells[i]]

    def rating(self, i: int) -> str | None:
        return self.levels[self.ratings[i]]


def others_json(rows: Iterable[EventRow]) -> str:
    return json.dumps([[*row[:7], dict(row.payload)] for row in rows], ensure_ascii=False,
                      separators=(",", ":"))  # fmt: skip


def read_others(text: str) -> list[EventRow]:
    make = tuple.__new__
    return [make(EventRow, row) for row in json.loads(text)]


# --- filling days -------------------------------------------------------------------------------------


def fold_day(conn: Connection, hall: str, tz: ZoneInfo, window: Window) -> tuple[StoredDay, str]:
    """The day's Partial (with its tickets' JSON) from the events of its window."""
    rows = read_events(conn, hall, window.start, window.until)
    builder = FigureBuilder(window.start, window.end).feed(rows)
    known = builder.tickets
    others = [r for r in rows if r.ticket_id is not None and r.type in TICKET_EVENTS and r.ticket_id not in known]
    cell_of: dict[int, Cell] = {}
    partial = partial_of(known.values(), tz, cell_of)
    day = StoredDay(window, builder.last_seq, min(known, default=None), max(known, default=None), partial, others)
    return day, tickets_json(builder, partial, cell_of)


def save_days(conn: Connection, hall: str, days: list[tuple[StoredDay, str]]) -> None:
    """Store the days in a short transaction of their own (the read's transaction is over by then).

    Insert-or-ignore by (hall, day): a reader that filled the same day first stored the same content.
    A failure is only logged: the report was computed from the events and is right all the same.
    """
    if not days:
        return
    rows = [
        {"hall": hall, "day": d.window.day, "version": VERSION, "last_seq": d.last_seq,
         "first_ticket": d.first_ticket, "last_ticket": d.last_ticket, "figures": d.partial.to_json(),
         "totals": Totals.of(d.partial).to_json(), "tickets": text, "others": others_json(d.others),
         "filled_at": int(time.time() * US)}
        for d, text in days
    ]  # fmt: skip
    try:
        if conn.in_transaction():
            # End the read first: SQLite cannot turn a read whose snapshot another writer has passed into a
            # write, and a read transaction of the writer's engine would hold the write lock all along.
            conn.rollback()
        with conn.begin():
            conn.execute(delete(report_days).where(
                report_days.c.hall == hall, report_days.c.day.in_([d.window.day for d, _ in days]),
                report_days.c.version != VERSION))  # fmt: skip
            backend_for(conn).insert_or_ignore(conn, report_days, rows)
    except SQLAlchemyError:
        log.warning("could not store the report days of hall %s; they will be folded again", hall, exc_info=True)


def load_days(conn: Connection, hall: str, tz: ZoneInfo, days: list[dt.date]) -> dict[dt.date, StoredDay]:
    """The stored days among these (of the current VERSION), without their tickets' JSON."""
    if not days:
        return {}
    c = report_days.c
    query = select(c.day, c.last_seq, c.first_ticket, c.last_ticket, c.figures, c.others).where(
        c.hall == hall, c.day >= min(days), c.day <= max(days), c.version == VERSION
    )
    wanted = set(days)
    found = {}
    for row in conn.execute(query):
        if row.day in wanted:
            found[row.day] = StoredDay(Window.of(row.day, tz), int(row.last_seq), row.first_ticket, row.last_ticket,
                                       Partial.from_json(row.figures), read_others(row.others))  # fmt: skip
    return found


def load_tickets(conn: Connection, hall: str, days: list[StoredDay]) -> None:
    """Read the tickets' JSON of these days (one query for those not read yet)."""
    wanted = {d.window.day: d for d in days if d.tickets_json is None}
    if not wanted:
        return
    c = report_days.c
    query = select(c.day, c.tickets).where(c.hall == hall, c.day.in_(list(wanted)), c.version == VERSION)
    for row in conn.execute(query):
        wanted[row.day].tickets_json = row.tickets


# --- a period ---------------------------------------------------------------------------------------------


def newest_event_at(conn: Connection, hall: str) -> int | None:
    row = conn.execute(select(events.c.at).where(events.c.hall == hall).order_by(events.c.seq.desc()).limit(1)).first()
    return None if row is None else int(row.at)


def closed_windows(conn: Connection, hall: str, windows: list[Window], now_us: int | None) -> list[Window]:
    """The windows (in order) no event can join any more: past, with a margin, on the wall clock and in the log.

    The log's clock counts too: a hall run on a set clock (a test, a replay) closes a day only once its
    own events have moved past the day's window. A prefix of the windows, as they are in order.
    """
    newest = newest_event_at(conn, hall)
    now = int(time.time() * US) if now_us is None else now_us
    horizon = min(now, newest if newest is not None else now) - MARGIN_US
    return [w for w in windows if w.until <= horizon]


def period_partial(
    conn: Connection,
    hall: Hall,
    period: Period,
    *,
    now_us: int | None = None,
    fill: bool = True,
    live: LiveFolds | None = None,
) -> tuple[Partial, int]:
    """The period's Partial and the newest seq it folded, from the stored days plus the days not closed yet.

    Closed days not stored yet are folded and (with `fill`) stored; the live days are folded from their
    events (with `live`, only the events after the last report's). Equal to folding the period in one go.
    """
    tz = ZoneInfo(hall.timezone)
    windows = [Window.of(day, tz) for day in period.days()]
    closed = closed_windows(conn, hall.id, windows, now_us)
    days, filled = stored_days(conn, hall.id, tz, closed)
    total, late, live_seq = live_part(conn, hall.id, tz, windows[len(closed) :], live)
    for day in days:
        late.extend(day.others)
    pairs = late_events(days, late)
    load_tickets(conn, hall.id, [day for day, mine in pairs if mine])  # one query for the days that need them
    for day, mine in pairs:
        total.add(_with_late_events(conn, hall.id, tz, day, mine) if mine else day.partial)
    last_seq = max([live_seq, *(d.last_seq for d in days)])
    if fill and filled:
        save_days(conn, hall.id, filled)
    return total, last_seq


def stored_days(
    conn: Connection, hall: str, tz: ZoneInfo, closed: list[Window]
) -> tuple[list[StoredDay], list[tuple[StoredDay, str]]]:
    """These closed days as stored, folding those not stored yet (returned too, for save_days)."""
    stored = load_days(conn, hall, tz, [w.day for w in closed])
    missing = [w for w in closed if w.day not in stored]
    filled: list[tuple[StoredDay, str]] = [fold_day(conn, hall, tz, w) for w in missing]
    for day, text in filled:
        day.tickets_json = text
        stored[day.window.day] = day
    return [stored[w.day] for w in closed], filled


def live_part(
    conn: Connection, hall: str, tz: ZoneInfo, windows: list[Window], live: LiveFolds | None
) -> tuple[Partial, list[EventRow], int]:
    """The fold of the days not closed yet (these windows, in order; none: nothing), its late events and seq."""
    total = Partial()
    if not windows:
        return total, [], 0
    start, end, until = windows[0].start, windows[-1].end, windows[-1].until
    if live is None:
        live_fold = LiveFold(start, end, until, tz)
        live_fold.catch_up(conn, hall)
        live_partial, live_late, live_seq = live_fold.snapshot()
    else:
        live_partial, live_late, live_seq = live.fold(conn, hall, start, end, until, tz)
    return total.add(live_partial), list(live_late), live_seq


class Span(Protocol):
    """A stored day (or month): its window, and the ids of its tickets."""

    window: Window
    first_ticket: int | None
    last_ticket: int | None


S = TypeVar("S", bound=Span)


def late_events(spans: list[S], late: list[EventRow]) -> list[tuple[S, list[EventRow]]]:
    """Each span with the events outside its window that may be its tickets' (the span checks the ids)."""
    return [
        (span, [e for e in mine if not span.window.start <= e.at < span.window.until])
        for span, mine in zip(spans, _by_day(spans, late), strict=True)
    ]


def _by_day(days: Sequence[Span], late: list[EventRow]) -> list[list[EventRow]]:
    """The events each day's ticket-id range holds (a superset of its tickets' events: the day checks ids)."""
    ranged = sorted(
        (d.first_ticket, d.last_ticket, i)
        for i, d in enumerate(days)
        if d.first_ticket is not None and d.last_ticket is not None
    )
    firsts = [first for first, _last, _i in ranged]
    reach, highest = [], -1  # reach[j]: the largest last id among ranged[:j + 1] (ranges may overlap)
    for _first, last, _i in ranged:
        highest = max(highest, last)
        reach.append(highest)
    result: list[list[EventRow]] = [[] for _ in days]
    for event in late:
        ticket_id = event.ticket_id
        if ticket_id is None:
            continue
        j = bisect.bisect_right(firsts, ticket_id) - 1
        while j >= 0 and reach[j] >= ticket_id:
            if ranged[j][1] >= ticket_id:
                result[ranged[j][2]].append(event)
            j -= 1
    return result


def _with_late_events(conn: Connection, hall: str, tz: ZoneInfo, day: StoredDay, late: list[EventRow]) -> Partial:
    """The day's Partial with these events outside its window (those of its own tickets: it checks the ids)."""
    window = day.window
    unique = sorted({e.seq: e for e in late}.values(), key=lambda e: e.seq)
    if day.tickets_json is not None:
        tickets = DayTickets(day.tickets_json, day.partial)
        mine = [e for e in unique if tickets.index(e.ticket_id) is not None]
        if not mine:
            return day.partial
        if all(e.type == "ticket.rated" and e.seq > day.last_seq for e in mine):
            # Only ratings, after the day's own events: each moves its ticket between rated counts (exact).
            patched = Partial().add(day.partial)
            changed: dict[int, str] = {}
            for e in mine:
                i = tickets.index(e.ticket_id)
                assert i is not None
                after = str(e.payload.get("level"))
                rate(patched.cells[tickets.cell(i)], changed.get(i, tickets.rating(i)), after)
                changed[i] = after
            return patched
    else:  # its row went away since it was read (another version refilled it): the fold below needs no ids
        mine = unique
    # Anything else (a ticket finished after the day closed): fold the day again with its late events.
    own = read_events(conn, hall, window.start, window.until)
    merged = sorted({e.seq: e for e in [*own, *mine]}.values(), key=lambda e: e.seq)
    return partial_of(FigureBuilder(window.start, window.end).feed(merged).tickets.values(), tz)


class LiveFold:
    """The fold of a hall's live days (today, and yesterday until its window closes), fed as events come."""

    def __init__(self, start: int, end: int, until: int, tz: ZoneInfo) -> None:
        self.builder = FigureBuilder(start, end)
        self.until = until
        self.tz = tz
        self.late: list[EventRow] = []  # the window's events of tickets issued before it (late for a stored day)
        self.last_event: tuple[int, str] | None = None  # the last folded event's time and type: is its log still there?
        self.live = LivePartial(tz)
        self.partial = self.live.partial

    def catch_up(self, conn: Connection, hall: str) -> None:
        builder = self.builder
        assert builder.start_us is not None
        rows = read_events(conn, hall, builder.start_us, self.until, after_seq=builder.last_seq)
        if not rows and self.last_event is not None:
            return
        builder.feed(rows)
        known = builder.tickets
        self.late.extend(r for r in rows if r.ticket_id is not None and r.type in TICKET_EVENTS
                         and r.ticket_id not in known)  # fmt: skip
        if rows:
            newest = max(rows, key=lambda r: r.seq)
            self.last_event = (newest.at, newest.type)
        if any(r.type == "day.closed" for r in rows):  # every open ticket of the day expires
            changed: Iterable[int] = list(known)
        else:
            changed = {r.ticket_id for r in rows if r.ticket_id is not None and r.ticket_id in known}
        self.partial = self.live.update(known, changed)

    def snapshot(self) -> tuple[Partial, list[EventRow], int]:
        """What a report takes: the live tickets' Partial (never changed, only replaced), the late events, the seq."""
        return self.partial, list(self.late), self.builder.last_seq

    def same_log(self, conn: Connection, hall: str) -> bool:
        """Whether the event last folded is still in the log as it was (not a restored or another database)."""
        if self.builder.last_seq == 0:
            return True
        c = events.c
        row = conn.execute(select(c.at, c.type).where(c.hall == hall, c.seq == self.builder.last_seq)).first()
        return row is not None and (int(row.at), row.type) == self.last_event


class LiveFolds:
    """The live folds of the halls this process reports on: a report of the month in progress reads only
    the events since the previous report's (as the wall's TodayFacts does). Thread-safe, bounded."""

    def __init__(self, size: int = 64) -> None:
        self._lock = threading.Lock()
        self._folds: OrderedDict[tuple[str, str, int, int, int], LiveFold] = OrderedDict()
        self.size = size

    def fold(
        self, conn: Connection, hall: str, start: int, end: int, until: int, tz: ZoneInfo
    ) -> tuple[Partial, list[EventRow], int]:
        """The live fold of the hall over these bounds, brought up to the newest event: its snapshot."""
        key = (conn.engine.url.render_as_string(hide_password=True), hall, start, end, until)
        with self._lock:
            fold = self._folds.pop(key, None)
            if fold is None or not fold.same_log(conn, hall):
                fold = LiveFold(start, end, until, tz)
            fold.catch_up(conn, hall)
            self._folds[key] = fold
            while len(self._folds) > self.size:
                self._folds.popitem(last=False)
            return fold.snapshot()

    def clear(self) -> None:
        with self._lock:
            self._folds.clear()


#: This process's live folds (report.py uses them; a report of a past period never does). Room for every hall of
#: a city (285 in the reference deployment): its rollup of the year in progress keeps each hall's fold of today.
LIVE = LiveFolds(1024)


def store_closed_days(conn: Connection, hall: Hall, day: dt.date, *, back: int = 35, now_us: int | None = None) -> int:
    """Fold and store the hall's closed days among the `back` days up to `day` not stored yet; return how many.

    For a hook after the day's close (on a reader connection, off the writer), so that no report folds cold.
    """
    period = Period(Period.of("day", day).kind, day - dt.timedelta(days=back - 1), day + dt.timedelta(days=1))
    tz = ZoneInfo(hall.timezone)
    closed = closed_windows(conn, hall.id, [Window.of(d, tz) for d in period.days()], now_us)
    stored = load_days(conn, hall.id, tz, [w.day for w in closed])
    filled = [fold_day(conn, hall.id, tz, w) for w in closed if w.day not in stored]
    save_days(conn, hall.id, filled)
    return len(filled)


def clear_days(conn: Connection, hall: str | None = None) -> None:
    """Forget the stored days (of one hall or all): they are folded again from the events when next needed."""
    query = delete(report_days)
    if hall is not None:
        query = query.where(report_days.c.hall == hall)
    conn.execute(query)
