"""Each closed month's totals per hall, folded once from the event log and stored: a report across halls by hall
or by parent (a city's year by county) merges twelve rows a hall rather than 365 days of cells.

A month is closed once every day of it is (days.py: its window has passed on both clocks). It is folded from
the events of its window [its first day, the next month's + GRACE) in one go — the month's own report — and
stored as its Totals (totals.py) with what late events need: its tickets' ids and ratings, and the window's
events of other months' tickets (`others`). A period's totals merge the months it holds whole, the stored days
of its other closed days and a live fold of the rest (days.py); an event of a month's ticket found among the
period's later months or days is applied: a late rating moves one count (exact), anything else refolds the
month with it. So every figure equals the one-go fold of the period, exactly, as for the days.

Rows are a cache, as the days: deleting them loses nothing; a row of another VERSION is ignored and replaced.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, Connection, Date, Integer, String, Table, Text, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from config.schema import Hall
from queue_server.reports.days import (
    TICKET_EVENTS,
    DayTickets,
    LiveFolds,
    StoredDay,
    Window,
    closed_windows,
    fold_day,
    late_events,
    live_part,
    others_json,
    read_others,
    report_days,
    save_days,
    tickets_json,
)
from queue_server.reports.days import (
    VERSION as DAYS_VERSION,
)
from queue_server.reports.events import EventRow, iter_events, read_events
from queue_server.reports.figures import US, FigureBuilder
from queue_server.reports.partial import Cell, Partial, partial_of, rate
from queue_server.reports.periods import GRACE_US, Period, local_midnight_us
from queue_server.reports.totals import Totals
from queue_server.store.backends import backend_for
from queue_server.store.tables import metadata

log = logging.getLogger(__name__)

#: The stored form's version: change it when the Totals' content or meaning changes (old rows are refilled).
VERSION = 1

report_months = Table(
    "report_months",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("month", Date, primary_key=True),  # its first day
    Column("version", Integer, nullable=False),
    Column("last_seq", BigInteger, nullable=False),  # the newest seq among the window's events (0: none)
    Column("first_ticket", Integer, nullable=True),  # the smallest and largest id of the month's tickets
    Column("last_ticket", Integer, nullable=True),
    Column("totals", Text, nullable=False),  # the Totals (JSON)
    Column("tickets", Text, nullable=False),  # each ticket's id and rating (JSON), for late events
    Column("others", Text, nullable=False),  # the window's events of other months' tickets (JSON)
    Column("filled_at", BigInteger, nullable=False),
)


@dataclass
class StoredTotals:
    """A closed month (or day) as stored for a report by hall: its Totals, and what late events need."""

    window: Window
    last_seq: int
    first_ticket: int | None
    last_ticket: int | None
    totals: Totals
    others: list[EventRow]
    tickets_json: str | None = None  # read only when a late event needs it


def next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_window(first: dt.date, tz: ZoneInfo) -> Window:
    start, end = local_midnight_us(first, tz), local_midnight_us(next_month(first), tz)
    return Window(first, start, end, end + GRACE_US)


def whole_months(period: Period, closed: list[Window]) -> list[dt.date]:
    """The first days of the months the period holds whole whose every day is closed (in order)."""
    if not closed:
        return []
    last_closed = closed[-1].day
    first = period.start if period.start.day == 1 else next_month(period.start)
    months = []
    while next_month(first) - dt.timedelta(days=1) <= min(period.last, last_closed):
        months.append(first)
        first = next_month(first)
    return months


def fold_month(conn: Connection, hall: str, tz: ZoneInfo, window: Window) -> tuple[StoredTotals, str]:
    """The month's Totals (with its tickets' JSON) from the events of its window, in one go."""
    builder = FigureBuilder(window.start, window.end)
    known = builder.tickets
    others: list[EventRow] = []

    def watched() -> Iterator[EventRow]:
        """The window's events as they are read (a month of a big hall is never held whole)."""
        for row in iter_events(conn, hall, window.start, window.until):
            # A ticket's issue comes before its other events: a ticket not known by now is another month's.
            if row.ticket_id is not None and row.type in TICKET_EVENTS and row.ticket_id not in known:
                others.append(row)
            yield row

    builder.feed(watched())
    others = [r for r in others if r.ticket_id not in known]
    cell_of: dict[int, Cell] = {}
    partial = partial_of(known.values(), tz, cell_of)
    month = StoredTotals(window, builder.last_seq, min(known, default=None), max(known, default=None),
                        Totals.of(partial), others)  # fmt: skip
    return month, tickets_json(builder, partial, cell_of)


def save_months(conn: Connection, hall: str, months: list[tuple[StoredTotals, str]]) -> None:
    """Store the months in a short transaction of their own, insert-or-ignore (as days.save_days)."""
    if not months:
        return
    rows = [
        {"hall": hall, "month": m.window.day, "version": VERSION, "last_seq": m.last_seq,
         "first_ticket": m.first_ticket, "last_ticket": m.last_ticket, "totals": m.totals.to_json(),
         "tickets": text, "others": others_json(m.others), "filled_at": int(time.time() * US)}
        for m, text in months
    ]  # fmt: skip
    try:
        if conn.in_transaction():
            conn.rollback()  # end the read first (see days.save_days)
        with conn.begin():
            conn.execute(delete(report_months).where(
                report_months.c.hall == hall, report_months.c.month.in_([m.window.day for m, _ in months]),
                report_months.c.version != VERSION))  # fmt: skip
            backend_for(conn).insert_or_ignore(conn, report_months, rows)
    except SQLAlchemyError:
        log.warning("could not store the report months of hall %s; they will be folded again", hall, exc_info=True)


def load_months(conn: Connection, hall: str, tz: ZoneInfo, months: list[dt.date]) -> dict[dt.date, StoredTotals]:
    """The stored months among these (of the current VERSION)."""
    return load_months_of(conn, {hall: (tz, months)}).get(hall, {})


def load_months_of(
    conn: Connection, wanted: dict[str, tuple[ZoneInfo, list[dt.date]]]
) -> dict[str, dict[dt.date, StoredTotals]]:
    """The stored months among these of each hall, in one query, with their tickets' JSON (a month's few KB:
    nearly every month has a rating given after it, and a query per hall would cost more)."""
    asked = {hall: (tz, set(months)) for hall, (tz, months) in wanted.items() if months}
    if not asked:
        return {}
    first = min(min(months) for _tz, months in asked.values())
    last = max(max(months) for _tz, months in asked.values())
    c = report_months.c
    query = select(c.hall, c.month, c.last_seq, c.first_ticket, c.last_ticket, c.totals, c.others, c.tickets).where(
        c.hall.in_(sorted(asked)), c.month >= first, c.month <= last, c.version == VERSION
    )
    found: dict[str, dict[dt.date, StoredTotals]] = {hall: {} for hall in asked}
    for row in conn.execute(query):
        tz, months = asked[row.hall]
        if row.month in months:
            totals, others = Totals.from_json(row.totals), read_others(row.others)
            found[row.hall][row.month] = StoredTotals(month_window(row.month, tz), int(row.last_seq),
                                                     row.first_ticket, row.last_ticket, totals, others,
                                                     row.tickets)  # fmt: skip
    return found


def stored_months(
    conn: Connection, hall: str, tz: ZoneInfo, firsts: list[dt.date], loaded: dict[dt.date, StoredTotals] | None = None
) -> tuple[list[StoredTotals], list[tuple[StoredTotals, str]]]:
    """These closed months as stored (`loaded`: as read already), folding those not stored yet (returned too,
    for save_months)."""
    stored = load_months(conn, hall, tz, firsts) if loaded is None else dict(loaded)
    filled = [fold_month(conn, hall, tz, month_window(first, tz)) for first in firsts if first not in stored]
    for month, text in filled:
        month.tickets_json = text
        stored[month.window.day] = month
    return [stored[first] for first in firsts], filled


def load_day_totals_of(
    conn: Connection, wanted: dict[str, tuple[ZoneInfo, list[dt.date]]]
) -> dict[str, dict[dt.date, StoredTotals]]:
    """The stored days among these of each hall as Totals, in one query, with their tickets' JSON (a day stored
    before its Totals were, migration 0011, has them made from its figures)."""
    asked = {hall: (tz, set(days)) for hall, (tz, days) in wanted.items() if days}
    if not asked:
        return {}
    first = min(min(days) for _tz, days in asked.values())
    last = max(max(days) for _tz, days in asked.values())
    c = report_days.c
    old = c.totals.is_(None).label("old")
    query = select(c.hall, c.day, c.last_seq, c.first_ticket, c.last_ticket, func.coalesce(c.totals, c.figures)
                   .label("totals"), old, c.others, c.tickets).where(
        c.hall.in_(sorted(asked)), c.day >= first, c.day <= last, c.version == DAYS_VERSION)  # fmt: skip
    found: dict[str, dict[dt.date, StoredTotals]] = {hall: {} for hall in asked}
    for row in conn.execute(query):
        tz, days = asked[row.hall]
        if row.day in days:
            totals = Totals.of(Partial.from_json(row.totals)) if row.old else Totals.from_json(row.totals)
            found[row.hall][row.day] = StoredTotals(Window.of(row.day, tz), int(row.last_seq), row.first_ticket,
                                                    row.last_ticket, totals, read_others(row.others),
                                                    row.tickets)  # fmt: skip
    return found


def stored_day_totals(
    conn: Connection, hall: str, tz: ZoneInfo, closed: list[Window], loaded: dict[dt.date, StoredTotals]
) -> tuple[list[StoredTotals], list[tuple[StoredDay, str]]]:
    """These closed days as stored Totals (`loaded`), folding those not stored yet (returned, for save_days)."""
    found = dict(loaded)
    filled = [fold_day(conn, hall, tz, w) for w in closed if w.day not in found]
    for day, text in filled:
        found[day.window.day] = StoredTotals(day.window, day.last_seq, day.first_ticket, day.last_ticket,
                                             Totals.of(day.partial), day.others, text)  # fmt: skip
    return [found[w.day] for w in closed], filled


def _totals_with_late_events(
    conn: Connection, hall: str, tz: ZoneInfo, month: StoredTotals, late: list[EventRow]
) -> Totals:
    """The month's (or day's) Totals with these events outside its window (those of its own tickets: it checks
    the ids): ratings move one count each, anything else has the span folded again with them."""
    window = month.window
    unique = sorted({e.seq: e for e in late}.values(), key=lambda e: e.seq)
    if month.tickets_json is not None:
        tickets = DayTickets(month.tickets_json)
        mine = [e for e in unique if tickets.index(e.ticket_id) is not None]
        if not mine:
            return month.totals
        if all(e.type == "ticket.rated" and e.seq > month.last_seq for e in mine):
            patched = Totals().add(month.totals)
            changed: dict[int, str] = {}
            for e in mine:
                i = tickets.index(e.ticket_id)
                assert i is not None
                after = str(e.payload.get("level"))
                rate(patched.acc, changed.get(i, tickets.rating(i)), after)
                changed[i] = after
            return patched
    else:  # its row went away since it was read: the fold below needs no ids
        mine = unique
    own = read_events(conn, hall, window.start, window.until)
    merged = sorted({e.seq: e for e in [*own, *mine]}.values(), key=lambda e: e.seq)
    return Totals.of(partial_of(FigureBuilder(window.start, window.end).feed(merged).tickets.values(), tz))


def period_totals(
    conn: Connection,
    hall: Hall,
    period: Period,
    *,
    now_us: int | None = None,
    fill: bool = True,
    live: LiveFolds | None = None,
) -> tuple[Totals, int]:
    """The period's Totals and the newest seq they folded: its whole closed months, its other closed days,
    and a live fold of the rest. Equal to the totals of `days.period_partial` (the one-go fold), exactly."""
    ((_hall, totals, last_seq),) = halls_totals(conn, [hall], period, now_us=now_us, fill=fill, live=live)
    return totals, last_seq


@dataclass
class _Plan:
    """What a hall's period is made of: its closed days (a prefix), its whole closed months, its other days."""

    hall: Hall
    tz: ZoneInfo
    windows: list[Window]
    closed: list[Window]
    firsts: list[dt.date]
    days: list[Window]


def _plan(conn: Connection, hall: Hall, period: Period, now_us: int | None) -> _Plan:
    tz = ZoneInfo(hall.timezone)
    windows = [Window.of(day, tz) for day in period.days()]
    closed = closed_windows(conn, hall.id, windows, now_us)
    firsts = whole_months(period, closed)
    after = next_month(firsts[-1]) if firsts else None
    days = [w for w in closed if after is None or not firsts[0] <= w.day < after]
    return _Plan(hall, tz, windows, closed, firsts, days)


def halls_totals(
    conn: Connection,
    halls: Sequence[Hall],
    period: Period,
    *,
    now_us: int | None = None,
    fill: bool = True,
    live: LiveFolds | None = None,
) -> list[tuple[Hall, Totals, int]]:
    """Each hall's `period_totals`, the stored months and days of all of them read in one query each."""
    plans = [_plan(conn, hall, period, now_us) for hall in halls]
    months = load_months_of(conn, {p.hall.id: (p.tz, p.firsts) for p in plans})
    days = load_day_totals_of(conn, {p.hall.id: (p.tz, [w.day for w in p.days]) for p in plans})
    return [(p.hall, *_totals(conn, p, months.get(p.hall.id, {}), days.get(p.hall.id, {}), fill, live)) for p in plans]


def _totals(
    conn: Connection,
    plan: _Plan,
    loaded_months: dict[dt.date, StoredTotals],
    loaded_days: dict[dt.date, StoredTotals],
    fill: bool,
    live: LiveFolds | None,
) -> tuple[Totals, int]:
    hall, tz = plan.hall.id, plan.tz
    months, filled_months = stored_months(conn, hall, tz, plan.firsts, loaded_months)
    days, filled_days = stored_day_totals(conn, hall, tz, plan.days, loaded_days)
    live_partial, late, live_seq = live_part(conn, hall, tz, plan.windows[len(plan.closed) :], live)
    total = Totals.of(live_partial)
    spans = [*months, *days]
    for span in spans:
        late.extend(span.others)
    for span, mine in late_events(spans, late):
        total.add(_totals_with_late_events(conn, hall, tz, span, mine) if mine else span.totals)
    last_seq = max([live_seq, *(span.last_seq for span in spans)])
    if fill:
        save_days(conn, hall, filled_days)
        save_months(conn, hall, filled_months)
    return total, last_seq


def store_closed_months(conn: Connection, hall: Hall, day: dt.date, *, back: int = 13, now_us: int | None = None
                        ) -> int:  # fmt: skip
    """Fold and store the hall's closed months among the `back` months up to `day`'s not stored yet; how many.

    For the report keeper (after store_closed_days: a month is folded from its events, in one go)."""
    tz = ZoneInfo(hall.timezone)
    first = day.replace(day=1)
    for _ in range(back - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    period = Period(Period.of("day", day).kind, first, next_month(day.replace(day=1)))
    closed = closed_windows(conn, hall.id, [Window.of(d, tz) for d in period.days()], now_us)
    firsts = whole_months(period, closed)
    stored = load_months(conn, hall.id, tz, firsts)
    filled = [fold_month(conn, hall.id, tz, month_window(f, tz)) for f in firsts if f not in stored]
    save_months(conn, hall.id, filled)
    return len(filled)
