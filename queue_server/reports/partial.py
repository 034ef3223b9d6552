"""A report's figures of a set of tickets in a form that adds up exactly: per (category, window, clerk, item)
cell, integer counts and sums in µs with their min/max, the count of each rating level and a histogram of
the waits in whole seconds (for an exact p90 across days and halls), plus the charts' counts.

A day's Partial is computed once from its tickets and stored (see days.py); a period's report is the
merge of its days' Partials. Nothing is rounded before the merge: a mean is the merged sum over the
merged count, rounded once as figures.py rounds it, so a merged figure equals the one folded in one go.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from queue_server.reports.figures import (
    ACCEPTED_CLASSES,
    CASE_CLASSES,
    RATING_LEVELS,
    SATISFIED_LEVELS,
    US,
    WAIT_BINS_MIN,
    Figures,
    LocalHours,
    TicketFacts,
    p90_of,
    wait_second,
)

#: (category, window, clerk, item) of a ticket, as the groups see it (item None: taken by category)
Cell = tuple[str, int | None, str | None, str | None]
Acc = list[Any]  # the counts of a cell, indexed by the constants below (max/min are None when absent)

ISSUED, CALLED, SERVED, NO_SHOWS, TRANSFERRED = 0, 1, 2, 3, 4
WAIT_SUM, MAX_WAIT, SERVICE_SUM, MAX_SERVICE, MIN_SERVICE, RATED, SATISFIED = 5, 6, 7, 8, 9, 10, 11
CASES = 12  # CASE_CLASSES counts follow, in their order
LEVELS = CASES + len(CASE_CLASSES)  # then the RATING_LEVELS counts, in their order
WAITS = LEVELS + len(RATING_LEVELS)  # then the waits: {whole seconds: tickets}
ACC_SIZE = WAITS + 1
_CASE_INDEX = {c: CASES + i for i, c in enumerate(CASE_CLASSES)}
_LEVEL_INDEX = {level: LEVELS + i for i, level in enumerate(RATING_LEVELS)}
_WAIT_BOUNDS = [m * 60 * US for m in WAIT_BINS_MIN]


def new_acc() -> Acc:
    acc: Acc = [0] * ACC_SIZE
    acc[MAX_WAIT] = acc[MAX_SERVICE] = acc[MIN_SERVICE] = None
    acc[WAITS] = {}
    return acc


def add_acc(into: Acc, other: Acc) -> None:
    for i in range(WAITS):
        if i in (MAX_WAIT, MAX_SERVICE):
            if other[i] is not None and (into[i] is None or other[i] > into[i]):
                into[i] = other[i]
        elif i == MIN_SERVICE:
            if other[i] is not None and (into[i] is None or other[i] < into[i]):
                into[i] = other[i]
        else:
            into[i] += other[i]
    waits = into[WAITS]
    if not waits:
        into[WAITS] = dict(other[WAITS])  # the first merged: a copy (in C)
        return
    get = waits.get
    for second, count in other[WAITS].items():
        waits[second] = get(second, 0) + count


def copy_acc(acc: Acc) -> Acc:
    copied = list(acc)
    copied[WAITS] = dict(acc[WAITS])
    return copied


def _seconds(us: float | None) -> float | None:
    return None if us is None else round(us / US, 1)


def figures_of_cells(cells: Iterable[tuple[Hashable, Cell, Acc]]) -> Figures:
    """The Figures of cells, each with its scope (its hall: a clerk or window counts once in each scope)."""
    total = new_acc()
    clerks: set[tuple[Hashable, str]] = set()
    windows: set[tuple[Hashable, int]] = set()
    for scope, (_category, window, clerk, _item), acc in cells:
        add_acc(total, acc)
        if acc[SERVED]:
            if clerk is not None:
                clerks.add((scope, clerk))
            if window is not None:
                windows.add((scope, window))
    return figures_of_acc(total, staff=len(clerks), windows=len(windows))


def figures_of_acc(acc: Acc, *, staff: int, windows: int) -> Figures:
    """The Figures of merged cells: the same arithmetic as figures.figures_of (the distinct counts given)."""
    called, served, rated = acc[CALLED], acc[SERVED], acc[RATED]
    classes = {c: acc[_CASE_INDEX[c]] for c in CASE_CLASSES}
    agent = classes["agent"]
    accepted = sum(classes[c.value] for c in ACCEPTED_CLASSES)
    return Figures(
        issued=acc[ISSUED],
        called=called,
        served=served,
        no_shows=acc[NO_SHOWS],
        transferred=acc[TRANSFERRED],
        avg_wait_s=_seconds(acc[WAIT_SUM] / called) if called else None,
        max_wait_s=_seconds(acc[MAX_WAIT]),
        avg_service_s=_seconds(acc[SERVICE_SUM] / served) if served else None,
        min_service_s=_seconds(acc[MIN_SERVICE]),
        max_service_s=_seconds(acc[MAX_SERVICE]),
        on_the_spot=served - agent,
        by_agent=agent,
        accepted=accepted,
        acceptance_rate=round(accepted / served, 4) if served else None,
        rated=rated,
        satisfied=acc[SATISFIED],
        satisfaction_rate=round(acc[SATISFIED] / rated, 4) if rated else None,
        case_classes=classes,
        p90_wait_s=None if (p90 := p90_of(acc[WAITS])) is None else float(p90),
        ratings={level: acc[index] for level, index in _LEVEL_INDEX.items()},
        staff=staff,
        windows=windows,
    )


class Partial:
    """The mergeable figures of a set of tickets: cells, hourly arrivals, wait bins, service per item, days."""

    __slots__ = ("cells", "daily", "hourly", "items", "waits")

    def __init__(self) -> None:
        self.cells: dict[Cell, Acc] = {}
        self.hourly = [0] * 24
        self.waits = [0] * len(WAIT_BINS_MIN)
        self.items: dict[str | None, list[int]] = {}  # item → [served with a service time, their sum in µs]
        self.daily: dict[dt.date, list[int]] = {}  # local day of issue → [issued, served, no-shows]

    def add(self, other: Partial) -> Partial:
        for key, acc in other.cells.items():
            mine = self.cells.get(key)
            if mine is None:
                self.cells[key] = copy_acc(acc)
            else:
                add_acc(mine, acc)
        for i, n in enumerate(other.hourly):
            self.hourly[i] += n
        for i, n in enumerate(other.waits):
            self.waits[i] += n
        for item, (count, total) in other.items.items():
            entry = self.items.setdefault(item, [0, 0])
            entry[0] += count
            entry[1] += total
        for day, counts in other.daily.items():
            entry = self.daily.setdefault(day, [0, 0, 0])
            for i in range(3):
                entry[i] += counts[i]
        return self

    # -- what a report shows ------------------------------------------------------------------------

    def totals(self) -> Figures:
        return figures_of_cells((None, cell, acc) for cell, acc in self.cells.items())

    def group_by(self, key: Callable[[Cell], Hashable]) -> dict[Hashable, Figures]:
        groups: dict[Hashable, list[tuple[Hashable, Cell, Acc]]] = {}
        for cell, acc in self.cells.items():
            groups.setdefault(key(cell), []).append((None, cell, acc))
        return {k: figures_of_cells(cells) for k, cells in groups.items()}

    def service_by_item(self) -> dict[str | None, tuple[int, float]]:
        return {item: (count, round(total / count / US, 1)) for item, (count, total) in self.items.items() if count}

    # -- stored form --------------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {
                "cells": [[*key, *acc[:WAITS], _flat(acc[WAITS])] for key, acc in self.cells.items()],
                "hourly": self.hourly,
                "waits": self.waits,
                "items": [[item, count, total] for item, (count, total) in self.items.items()],
                "daily": [[day.isoformat(), *counts] for day, counts in self.daily.items()],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Partial:
        data = json.loads(text)
        partial = cls()
        partial.cells = {(row[0], row[1], row[2], row[3]): [*row[4:-1], _unflat(row[-1])] for row in data["cells"]}
        partial.hourly = data["hourly"]
        partial.waits = data["waits"]
        partial.items = {row[0]: [row[1], row[2]] for row in data["items"]}
        partial.daily = {dt.date.fromisoformat(row[0]): row[1:] for row in data["daily"]}
        return partial


def _flat(waits: dict[int, int]) -> list[int]:
    """A wait histogram as stored: [second, count, second, count, ...], seconds ascending."""
    return [n for second in sorted(waits) for n in (second, waits[second])]


def _unflat(flat: list[int]) -> dict[int, int]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class Mark(NamedTuple):
    """What one ticket adds to a Partial: its cell, its local day and hour of issue, and its facts."""

    cell: Cell
    date: dt.date
    hour: int
    transferred: bool
    wait: int | None  # µs from issue to the first call
    served: bool
    case: int | None  # the Acc index of its case class (served tickets)
    service: int | None  # µs from start to finish (served tickets with both)
    missed: bool
    rating: str | None


def mark_of(t: TicketFacts, local: LocalHours) -> Mark:
    date, hour = local(t.issued_at)
    called_at = t.first_called_at
    served = t.state == "finished"
    service = None
    if served and t.started_at is not None and t.finished_at is not None:
        service = t.finished_at - t.started_at
    return Mark(
        (t.category, t.window, t.actor, t.item_id),
        date,
        hour,
        bool(t.transfers),
        None if called_at is None else called_at - t.issued_at,
        served,
        _CASE_INDEX.get(t.case_class or "?") if served else None,
        service,
        not served and t.missed,
        t.rating,
    )


def _add_to_cell(acc: Acc, m: Mark) -> None:
    acc[ISSUED] += 1
    if m.transferred:
        acc[TRANSFERRED] += 1
    wait = m.wait
    if wait is not None:
        acc[CALLED] += 1
        acc[WAIT_SUM] += wait
        histogram = acc[WAITS]
        second = wait_second(wait)
        histogram[second] = histogram.get(second, 0) + 1
        if acc[MAX_WAIT] is None or wait > acc[MAX_WAIT]:
            acc[MAX_WAIT] = wait
    if m.served:
        acc[SERVED] += 1
        if m.case is not None:
            acc[m.case] += 1
        service = m.service
        if service is not None:
            acc[SERVICE_SUM] += service
            if acc[MAX_SERVICE] is None or service > acc[MAX_SERVICE]:
                acc[MAX_SERVICE] = service
            if acc[MIN_SERVICE] is None or service < acc[MIN_SERVICE]:
                acc[MIN_SERVICE] = service
    elif m.missed:
        acc[NO_SHOWS] += 1
    if m.rating is not None:
        acc[RATED] += 1
        level = _LEVEL_INDEX.get(m.rating)
        if level is not None:
            acc[level] += 1
        if m.rating in SATISFIED_LEVELS:
            acc[SATISFIED] += 1


def _add_outside_cells(partial: Partial, m: Mark, sign: int) -> None:
    """The charts' counts of a ticket (`sign` -1 takes them away again: they are plain counts and sums)."""
    partial.hourly[m.hour] += sign
    day = partial.daily.get(m.date)
    if day is None:
        day = partial.daily[m.date] = [0, 0, 0]
    day[0] += sign
    if m.wait is not None:
        index = len(_WAIT_BOUNDS) - 1
        while index > 0 and m.wait < _WAIT_BOUNDS[index]:
            index -= 1
        partial.waits[index] += sign
    if m.served:
        day[1] += sign
        if m.service is not None:
            item = m.cell[3]
            entry = partial.items.get(item)
            if entry is None:
                entry = partial.items[item] = [0, 0]
            entry[0] += sign
            entry[1] += sign * m.service
            if entry[0] == 0:
                del partial.items[item]
    elif m.missed:
        day[2] += sign
    if day[0] == 0:
        del partial.daily[m.date]


def partial_of(tickets: Iterable[TicketFacts], tz: ZoneInfo, cell_of: dict[int, Cell] | None = None) -> Partial:
    """The Partial of these tickets (one pass); with `cell_of`, also note each ticket's cell by its id."""
    partial = Partial()
    cells = partial.cells
    local = LocalHours(tz)
    for t in tickets:
        m = mark_of(t, local)
        acc = cells.get(m.cell)
        if acc is None:
            acc = cells[m.cell] = new_acc()
        if cell_of is not None:
            cell_of[t.id] = m.cell
        _add_to_cell(acc, m)
        _add_outside_cells(partial, m, 1)
    return partial


class LivePartial:
    """The Partial of a growing set of tickets whose facts change, kept current ticket by ticket.

    Each ticket's Mark is kept with the tickets of each cell. An update takes the changed tickets' old marks
    out of the charts' counts and puts their new ones in (plain counts and sums), and recomputes the cells
    they left or joined from those cells' tickets (a maximum cannot be taken back). The Partial handed out
    is never changed afterwards: an update makes a new one that shares the cells it did not touch. Equal
    to `partial_of` of the same tickets, exactly.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.local = LocalHours(tz)
        self.marks: dict[int, Mark] = {}
        self.members: dict[Cell, set[int]] = {}
        self.partial = Partial()

    def update(self, tickets: Mapping[int, TicketFacts], ids: Iterable[int]) -> Partial:
        """The Partial after the tickets `ids` (of `tickets`) were issued or changed."""
        old = self.partial
        new = Partial()
        new.cells = dict(old.cells)
        new.hourly, new.waits = list(old.hourly), list(old.waits)
        new.items = {item: list(entry) for item, entry in old.items.items()}
        new.daily = {day: list(counts) for day, counts in old.daily.items()}
        touched: set[Cell] = set()
        for ticket_id in ids:
            mark = mark_of(tickets[ticket_id], self.local)
            before = self.marks.get(ticket_id)
            if before == mark:
                continue
            if before is not None:
                _add_outside_cells(new, before, -1)
                self.members[before.cell].discard(ticket_id)
                touched.add(before.cell)
            _add_outside_cells(new, mark, 1)
            self.members.setdefault(mark.cell, set()).add(ticket_id)
            touched.add(mark.cell)
            self.marks[ticket_id] = mark
        for cell in touched:
            members = self.members.get(cell)
            if not members:
                self.members.pop(cell, None)
                new.cells.pop(cell, None)
                continue
            acc = new_acc()
            for ticket_id in members:
                _add_to_cell(acc, self.marks[ticket_id])
            new.cells[cell] = acc
        self.partial = new
        return new


def rate(acc: Acc, before: str | None, after: str) -> None:
    """A ticket of this cell rated `after` (it was rated `before`, or not yet): only the last rating counts."""
    if before is None:
        acc[RATED] += 1
    else:
        if before in SATISFIED_LEVELS:
            acc[SATISFIED] -= 1
        if before in _LEVEL_INDEX:
            acc[_LEVEL_INDEX[before]] -= 1
    if after in SATISFIED_LEVELS:
        acc[SATISFIED] += 1
    if after in _LEVEL_INDEX:
        acc[_LEVEL_INDEX[after]] += 1
