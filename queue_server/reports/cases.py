"""The case figures (办件) of a period, folded from the hall's case.* events: 办结率, on-time rate, mean days.

Definitions (the reports, the exports, the county and the tests use these):

- cases (受理): cases opened in the period (`case.opened`; a 即办件 opens completed, a 退回件 returned).
- completed (办结): cases completed in the period (`case.completed`, and each 即办件's `case.opened`),
  whenever they were opened. completion rate (办结率) = completed / cases, both counted in the period
  as the monthly 办结率 is reported; None when no case was opened.
- on time: completed on or before the due date (as it stood after any extension); on-time rate
  (按时办结率) = completed on time / completed. mean days (平均办结用时) = the mean working days from
  acceptance to completion (the hall's calendar, counted when the case was closed and kept in the event).
- returned / rejected: 退回 and 不予受理 in the period (a 退回件 counts when it opens).
- by agent (代理件): cases opened in the period as 代理件 (a village agent's, taken at its point, or one an agent
  brought to a window); agent share (代理件占比) = by agent / cases, None without cases.
- Grouping: by the case's item, category, and the window and clerk that accepted it (in every event), and by
  the village agent point that took it (`point` in its `case.opened`: agent points' cases only).

Only the case events are read (by type, with the log's (hall, at) index): the ticket figures' stored
days are not touched, so their VERSION is unchanged.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select, text

from queue_server.store.tables import CASE_EVENT_RANGE, events

CASE_EVENTS = ("case.opened", "case.completed", "case.returned", "case.rejected")
CaseGroup = Literal["item", "category", "window", "clerk", "point"]


class CaseFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    cases: int
    completed: int
    on_time: int
    returned: int
    rejected: int
    completion_rate: float | None  # 0..1, four decimals; None without cases
    on_time_rate: float | None  # 0..1; None when nothing was completed
    mean_days: float | None  # working days, one decimal; None when nothing was completed
    working_days: int = 0  # the sum over the completed cases (so figures of several halls merge exactly)
    by_agent: int = 0  # 代理件 opened in the period
    agent_share: float | None = None  # by_agent / cases, four decimals; None without cases


class CaseRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str | None
    figures: CaseFigures
    share: float | None = None  # by_point: the point's cases / all the hall's cases of the period (代理占比)


class CaseReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    totals: CaseFigures
    by_item: list[CaseRow]
    by_category: list[CaseRow]
    by_window: list[CaseRow]
    by_clerk: list[CaseRow]
    by_point: list[CaseRow] = []  # the village agent points (代办点) that took cases in the period


@dataclass
class _Tally:
    cases: int = 0
    completed: int = 0
    on_time: int = 0
    returned: int = 0
    rejected: int = 0
    days: int = 0
    agent: int = 0

    def add(self, kind: str, payload: dict[str, Any]) -> None:
        state = payload.get("state")
        if kind == "case.opened":
            self.cases += 1
            self.agent += payload.get("case_class") == "agent"
        if state == "completed" and kind in ("case.opened", "case.completed"):
            self.completed += 1
            self.on_time += bool(payload.get("on_time"))
            self.days += int(payload.get("working_days") or 0)
        elif state == "returned" and kind in ("case.opened", "case.returned"):
            self.returned += 1
        elif kind == "case.rejected":
            self.rejected += 1

    def figures(self) -> CaseFigures:
        done = self.completed
        return CaseFigures(
            cases=self.cases,
            completed=done,
            on_time=self.on_time,
            returned=self.returned,
            rejected=self.rejected,
            completion_rate=round(done / self.cases, 4) if self.cases else None,
            on_time_rate=round(self.on_time / done, 4) if done else None,
            mean_days=round(self.days / done, 1) if done else None,
            working_days=self.days,
            by_agent=self.agent,
            agent_share=round(self.agent / self.cases, 4) if self.cases else None,
        )

    @classmethod
    def of(cls, figures: Iterable[CaseFigures]) -> _Tally:
        tally = cls()
        for f in figures:
            tally.cases += f.cases
            tally.completed += f.completed
            tally.on_time += f.on_time
            tally.returned += f.returned
            tally.rejected += f.rejected
            tally.days += f.working_days
            tally.agent += f.by_agent
        return tally


_KEYS: dict[CaseGroup, Callable[[dict[str, Any]], Any]] = {
    "item": lambda p: p.get("item_id"),
    "category": lambda p: p.get("category"),
    "window": lambda p: p.get("accepted_window"),
    "clerk": lambda p: p.get("accepted_by"),
    "point": lambda p: p.get("point"),
}


def read_case_events(conn: Connection, hall: str, start_us: int, end_us: int) -> Iterable[tuple[str, dict[str, Any]]]:
    """The hall's case events at start ≤ at < end, as (type, payload)."""
    query = select(events.c.type, events.c.payload).where(
        events.c.hall == hall,
        events.c.at >= start_us,
        events.c.at < end_us,
        text(CASE_EVENT_RANGE),  # the partial index ix_events_cases
        events.c.type.in_(CASE_EVENTS),
    )
    for row in conn.execute(query.execution_options(yield_per=5000)):
        yield row.type, json.loads(row.payload)


def fold_cases(rows: Iterable[tuple[str, dict[str, Any]]]) -> CaseReport:
    """The period's case figures, in total and by item, category, accepting window and accepting clerk."""
    total = _Tally()
    groups: dict[CaseGroup, defaultdict[Any, _Tally]] = {g: defaultdict(_Tally) for g in _KEYS}
    for kind, payload in rows:
        total.add(kind, payload)
        for group, key in _KEYS.items():
            groups[group][key(payload)].add(kind, payload)

    def rows_of(group: CaseGroup) -> list[CaseRow]:
        tallies = groups[group]
        if group == "point":
            tallies.pop(None, None)  # the cases no agent point took
        ordered = sorted(tallies, key=lambda k: (k is None, str(k)))
        return [CaseRow(key=None if k is None else str(k), figures=tallies[k].figures()) for k in ordered]

    return CaseReport(
        totals=total.figures(),
        by_item=rows_of("item"),
        by_category=rows_of("category"),
        by_window=rows_of("window"),
        by_clerk=rows_of("clerk"),
        by_point=[r.model_copy(update={"share": _share(r.figures.cases, total.cases)}) for r in rows_of("point")],
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def merge_case_figures(figures: Iterable[CaseFigures]) -> CaseFigures:
    """The figures of several halls together (exact: from the counts, not the rates)."""
    return _Tally.of(figures).figures()


def case_report(conn: Connection, hall: str, start_us: int, end_us: int) -> CaseReport:
    return fold_cases(read_case_events(conn, hall, start_us, end_us))
