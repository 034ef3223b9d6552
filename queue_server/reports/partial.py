"""A report's figures of a set of tickets in a form that adds up exactly: per (category, window, clerk) cell,
integer counts and sums in µs with their min/max, plus the charts' counts.

A day's Partial is computed once from its tickets and stored (see days.py); a period's report is the
merge of its days' Partials. Nothing is rounded before the merge: a mean is the merged sum over the
merged count, rounded once as figures.py rounds it, so a merged figure equals the one folded in one go.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.reports.figures import (
    CASE_CLASSES,
    COMPLETED_CLASSES,
    SATISFIED_LEVELS,
    US,
    WAIT_BINS_MIN,
    Figures,
    LocalHours,
    TicketFacts,
)

Cell = tuple[str, int | None, str | None]  # (category, window, clerk) of a ticket, as the groups see it
Acc = list[Any]  # the counts of a cell, indexed by the constants below (max/min are None when absent)

ISSUED, CALLED, SERVED, NO_SHOWS, TRANSFERRED = 0, 1, 2, 3, 4
WAIT_SUM, MAX_WAIT, SERVICE_SUM, MAX_SERVICE, MIN_SERVICE, RATED, SATISFIED = 5, 6, 7, 8, 9, 10, 11
CASES = 12  # CASE_CLASSES counts follow, in their order
ACC_SIZE = CASES + len(CASE_CLASSES)
_CASE_INDEX = {c: CASES + i for i, c in enumerate(CASE_CLASSES)}
_WAIT_BOUNDS = [m * 60 * US for m in WAIT_BINS_MIN]


def new_acc() -> Acc:
    acc: Acc = [0] * ACC_SIZE
    acc[MAX_WAIT] = acc[MAX_SERVICE] = acc[MIN_SERVICE] = None
    return acc


def add_acc(into: Acc, other: Acc) -> None:
    for i in range(ACC_SIZE):
        if i in (MAX_WAIT, MAX_SERVICE):
            if other[i] is not None and (into[i] is None or other[i] > into[i]):
                into[i] = other[i]
        elif i == MIN_SERVICE:
            if other[i] is not None and (into[i] is None or other[i] < into[i]):
                into[i] = other[i]
        else:
            into[i] += other[i]


def _seconds(us: float | None) -> float | None:
    return None if us is None else round(us / US, 1)


def figures_of_acc(acc: Acc) -> Figures:
    """The Figures of a cell (or of merged cells): the same arithmetic as figures.figures_of."""
    called, served, rated = acc[CALLED], acc[SERVED], acc[RATED]
    classes = {c: acc[_CASE_INDEX[c]] for c in CASE_CLASSES}
    agent = classes["agent"]
    completed = sum(classes[c.value] for c in COMPLETED_CLASSES)
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
        completed=completed,
        completion_rate=round(completed / served, 4) if served else None,
        rated=rated,
        satisfied=acc[SATISFIED],
        satisfaction_rate=round(acc[SATISFIED] / rated, 4) if rated else None,
        case_classes=classes,
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
                self.cells[key] = list(acc)
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
        total = new_acc()
        for acc in self.cells.values():
            add_acc(total, acc)
        return figures_of_acc(total)

    def group_by(self, key: Callable[[Cell], Hashable]) -> dict[Hashable, Figures]:
        merged: dict[Hashable, Acc] = {}
        for cell, acc in self.cells.items():
            k = key(cell)
            mine = merged.get(k)
            if mine is None:
                merged[k] = list(acc)
            else:
                add_acc(mine, acc)
        return {k: figures_of_acc(acc) for k, acc in merged.items()}

    def service_by_item(self) -> dict[str | None, tuple[int, float]]:
        return {item: (count, round(total / count / US, 1)) for item, (count, total) in self.items.items() if count}

    # -- stored form --------------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {
                "cells": [[*key, *acc] for key, acc in self.cells.items()],
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
        partial.cells = {(row[0], row[1], row[2]): row[3:] for row in data["cells"]}
        partial.hourly = data["hourly"]
        partial.waits = data["waits"]
        partial.items = {row[0]: [row[1], row[2]] for row in data["items"]}
        partial.daily = {dt.date.fromisoformat(row[0]): row[1:] for row in data["daily"]}
        return partial


def partial_of(tickets: Iterable[TicketFacts], tz: ZoneInfo, cell_of: dict[int, Cell] | None = None) -> Partial:
    """The Partial of these tickets (one pass); with `cell_of`, also note each ticket's cell by its id."""
    partial = Partial()
    cells, hourly, waits, items, daily = partial.cells, partial.hourly, partial.waits, partial.items, partial.daily
    local = LocalHours(tz)
    bounds = _WAIT_BOUNDS
    last_bin = len(bounds) - 1
    for t in tickets:
        key = (t.category, t.window, t.actor)
        acc = cells.get(key)
        if acc is None:
            acc = cells[key] = new_acc()
        if cell_of is not None:
            cell_of[t.id] = key
        acc[ISSUED] += 1
        if t.transfers:
            acc[TRANSFERRED] += 1
        called_at = t.first_called_at
        if called_at is not None:
            wait = called_at - t.issued_at
            acc[CALLED] += 1
            acc[WAIT_SUM] += wait
            if acc[MAX_WAIT] is None or wait > acc[MAX_WAIT]:
                acc[MAX_WAIT] = wait
            index = last_bin
            while index > 0 and wait < bounds[index]:
                index -= 1
            waits[index] += 1
        date, hour = local(t.issued_at)
        hourly[hour] += 1
        day = daily.get(date)
        if day is None:
            day = daily[date] = [0, 0, 0]
        day[0] += 1
        if t.state == "finished":
            acc[SERVED] += 1
            day[1] += 1
            case = _CASE_INDEX.get(t.case_class or "?")
            if case is not None:
                acc[case] += 1
            if t.started_at is not None and t.finished_at is not None:
                service = t.finished_at - t.started_at
                acc[SERVICE_SUM] += service
                if acc[MAX_SERVICE] is None or service > acc[MAX_SERVICE]:
                    acc[MAX_SERVICE] = service
                if acc[MIN_SERVICE] is None or service < acc[MIN_SERVICE]:
                    acc[MIN_SERVICE] = service
                entry = items.get(t.item_id)
                if entry is None:
                    entry = items[t.item_id] = [0, 0]
                entry[0] += 1
                entry[1] += service
        elif t.missed:
            acc[NO_SHOWS] += 1
            day[2] += 1
        if t.rating is not None:
            acc[RATED] += 1
            if t.rating in SATISFIED_LEVELS:
                acc[SATISFIED] += 1
    return partial


def rate(acc: Acc, before: str | None, after: str) -> None:
    """A ticket of this cell rated `after` (it was rated `before`, or not yet): only the last rating counts."""
    if before is None:
        acc[RATED] += 1
    elif before in SATISFIED_LEVELS:
        acc[SATISFIED] -= 1
    if after in SATISFIED_LEVELS:
        acc[SATISFIED] += 1
