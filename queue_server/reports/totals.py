"""A hall's figures of a set of tickets without their groups: what a report across halls by hall or by parent needs.

Every cell of a Partial merged into one Acc, the clerks and the windows that finished at least one of the
tickets, and the tickets per day. Its Figures are the Partial's totals exactly (the same arithmetic as
partial.figures_of_cells): a clerk or window counts if any of its cells has a ticket served, which a union of
the sets keeps across days and months. A late rating moves one count in the Acc (partial.rate), exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from queue_server.reports.figures import Figures
from queue_server.reports.partial import SERVED, WAITS, Acc, Partial, _flat, _unflat, add_acc, figures_of_acc, new_acc


class Totals:
    """The merged counts of a hall's tickets, its serving clerks and windows, and its tickets per day."""

    __slots__ = ("acc", "clerks", "daily", "windows")

    def __init__(self) -> None:
        self.acc: Acc = new_acc()
        self.clerks: set[str] = set()
        self.windows: set[int] = set()
        self.daily: dict[dt.date, list[int]] = {}  # local day of issue → [issued, served, no-shows]

    @classmethod
    def of(cls, partial: Partial) -> Totals:
        totals = cls()
        acc, clerks, windows = totals.acc, totals.clerks, totals.windows
        for (_category, window, clerk, _item), cell in partial.cells.items():
            add_acc(acc, cell)
            if cell[SERVED]:
                if clerk is not None:
                    clerks.add(clerk)
                if window is not None:
                    windows.add(window)
        totals.daily = {day: list(counts) for day, counts in partial.daily.items()}
        return totals

    def add(self, other: Totals) -> Totals:
        add_acc(self.acc, other.acc)
        self.clerks |= other.clerks
        self.windows |= other.windows
        for day, counts in other.daily.items():
            entry = self.daily.setdefault(day, [0, 0, 0])
            for i in range(3):
                entry[i] += counts[i]
        return self

    def figures(self) -> Figures:
        return figures_of_acc(self.acc, staff=len(self.clerks), windows=len(self.windows))

    def to_json(self) -> str:
        acc = self.acc
        return json.dumps({"acc": [*acc[:WAITS], _flat(acc[WAITS])], "clerks": sorted(self.clerks),
                           "windows": sorted(self.windows),
                           "daily": [[day.isoformat(), *counts] for day, counts in self.daily.items()]},
                          ensure_ascii=False, separators=(",", ":"))  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Totals:
        data = json.loads(text)
        totals = cls()
        totals.acc = [*data["acc"][:-1], _unflat(data["acc"][-1])]
        totals.clerks = set(data["clerks"])
        totals.windows = set(data["windows"])
        totals.daily = {dt.date.fromisoformat(row[0]): row[1:] for row in data["daily"]}
        return totals


def figures_of_totals(totals: Iterable[Totals]) -> Figures:
    """The Figures of several halls' Totals: counts added, each hall's clerks and windows counted in it."""
    acc = new_acc()
    staff = windows = 0
    for one in totals:
        add_acc(acc, one.acc)
        staff += len(one.clerks)
        windows += len(one.windows)
    return figures_of_acc(acc, staff=staff, windows=windows)
