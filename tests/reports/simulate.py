"""A seeded simulation of a hall's days that writes the event log the server would, and keeps its own truth.

The simulator acts like clerks and a kiosk (issue, call, recall, start, finish with every case class,
no-show, re-queue at the kiosk, transfer to a category or a window, close a window with a called
ticket, close the day with tickets still waiting) and emits the events with the payloads the
services write. Alongside, it records what happened to each ticket in plain fields (`Truth`), so the
tests can compute the expected figures without reading the events at all.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.reports.events import EventRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
US = 1_000_000
CASES = ["immediate", "promised", "supplement", "joint", "returned", "agent"]
LEVELS = ["very_satisfied"] * 6 + ["satisfied"] * 3 + ["basic", "dissatisfied", "very_dissatisfied"]
SCORES = {"very_satisfied": 5, "satisfied": 4, "basic": 3, "dissatisfied": 2, "very_dissatisfied": 1}
CATEGORIES = ["jisheng", "guotu", "minzheng", "laobao"]
ITEMS: dict[str, list[str | None]] = {
    "jisheng": ["jisheng-birth-registration", "jisheng-childcare-subsidy", None],
    "guotu": ["guotu-a", None],
    "minzheng": ["minzheng-a", "minzheng-b"],
    "laobao": [None],
}
WINDOWS = {1: ["jisheng", "minzheng"], 2: ["guotu"], 3: ["minzheng", "laobao"], 4: ["laobao", "jisheng"]}
CLERKS = {1: ("liuxia", "chenjing"), 2: ("zhaogang", "zhoupeng"), 3: ("wangfang", "lihong"), 4: ("hujun", "yangli")}


@dataclass
class Truth:
    """What happened to one ticket, as the simulator did it."""

    id: int
    number: str
    category: str  # where it was last queued
    item_id: str | None
    issued_at: int
    first_called_at: int | None = None
    started_at: int | None = None  # the last start; cleared by a transfer
    finished_at: int | None = None
    case_class: str | None = None
    final: str = "waiting"  # finished, no_show, expired, waiting, called, serving, transferred
    window: int | None = None  # of the last clerk action (call, recall, start, finish, no-show)
    actor: str | None = None
    transfers: int = 0
    target_window: int | None = None
    marked_no_show: bool = False
    rating: str | None = None  # the citizen's 好差评 level


@dataclass
class Desk:
    number: int
    clerk: str | None = None
    post: str | None = None
    current: int | None = None
    paused: bool = False


@dataclass
class Sim:
    seed: int
    ratings: bool = True
    events: list[EventRow] = field(default_factory=list)
    truth: dict[int, Truth] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.seq = 0
        self.next_id = 1
        self.desks = {n: Desk(n) for n in WINDOWS}
        self.counters: dict[str, int] = {}

    # -- the log -----------------------------------------------------------------------------------

    def emit(
        self,
        kind: str,
        at: int,
        *,
        actor: str | None = None,
        window: int | None = None,
        post: str | None = None,
        ticket: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.seq += 1
        self.events.append(EventRow(self.seq, kind, at, actor, window, post, ticket, payload or {}))

    # -- the kiosk ---------------------------------------------------------------------------------

    def issue(self, at: int) -> None:
        category = self.rng.choice(CATEGORIES)
        item = self.rng.choice(ITEMS[category])
        self.counters[category] = self.counters.get(category, 0) + 1
        number = f"{'ABCD'[CATEGORIES.index(category)]}{self.counters[category]:03d}"
        ticket = Truth(self.next_id, number, category, item, at)
        self.truth[ticket.id] = ticket
        self.next_id += 1
        payload = {"number": number, "category": category, "item_id": item, "priority": "ordinary"}
        self.emit("ticket.issued", at, actor="device:kiosk-1", ticket=ticket.id, payload=payload)

    def requeue(self, at: int) -> None:
        missed = [t for t in self.truth.values() if t.final == "no_show"]
        if missed:
            ticket = self.rng.choice(missed)
            ticket.final = "waiting"
            self.emit(
                "ticket.requeued", at, actor="device:kiosk-1", ticket=ticket.id, payload={"number": ticket.number}
            )

    # -- a clerk -----------------------------------------------------------------------------------

    def _act(self, desk: Desk, ticket: Truth, kind: str, at: int, payload: dict[str, Any] | None = None) -> None:
        ticket.window, ticket.actor = desk.number, desk.clerk
        self.emit(
            kind, at, actor=desk.clerk, window=desk.number, post=desk.post, ticket=ticket.id,
            payload={"number": ticket.number, **(payload or {})},
        )  # fmt: skip

    def open(self, desk: Desk, at: int) -> None:
        post = self.rng.choice("AB")
        desk.clerk, desk.post, desk.paused = CLERKS[desk.number][0 if post == "A" else 1], post, False
        self.emit("window.opened", at, actor=desk.clerk, window=desk.number, post=post, payload={"post": post})

    def waiting_for(self, desk: Desk) -> list[Truth]:
        return sorted(
            (
                t
                for t in self.truth.values()
                if t.final in ("waiting", "transferred")
                and (t.target_window == desk.number or (t.target_window is None and t.category in WINDOWS[desk.number]))
            ),
            key=lambda t: (t.issued_at, t.id),
        )

    def step(self, desk: Desk, at: int) -> None:
        rng = self.rng
        if desk.clerk is None:
            if rng.random() < 0.3:
                self.open(desk, at)
            return
        if desk.paused:
            if rng.random() < 0.3:
                desk.paused = False
                self.emit("window.resumed", at, actor=desk.clerk, window=desk.number, post=desk.post)
            return
        ticket = self.truth.get(desk.current) if desk.current is not None else None
        if ticket is None:
            roll = rng.random()
            queue = self.waiting_for(desk)
            if roll < 0.05:
                desk.paused = True
                payload = {"window": desk.number, "reason": "午休"}
                self.emit("window.paused", at, actor=desk.clerk, window=desk.number, post=desk.post, payload=payload)
            elif roll < 0.08:
                self.emit("window.closed", at, actor=desk.clerk, window=desk.number, post=desk.post)
                desk.clerk = desk.post = None
            elif queue:
                chosen = queue[0]
                chosen.final, chosen.target_window = "called", None
                if chosen.first_called_at is None:
                    chosen.first_called_at = at
                desk.current = chosen.id
                self._act(desk, chosen, "ticket.called", at, {"recall": 0, "rule": "fifo"})
            return
        roll = rng.random()
        if ticket.final == "called":
            if roll < 0.1:
                self._act(desk, ticket, "ticket.recalled", at, {"recall": 1})
            elif roll < 0.2:
                ticket.final, ticket.marked_no_show, desk.current = "no_show", True, None
                self._act(desk, ticket, "ticket.no_show", at, {"recalls": 0})
            elif roll < 0.25:
                self.transfer(desk, ticket, at)
            elif roll < 0.28:
                # the clerk closes the window: the called ticket goes back to the queue
                ticket.final, desk.current = "waiting", None
                self.emit(
                    "ticket.returned", at, actor=desk.clerk, window=desk.number, post=desk.post, ticket=ticket.id,
                    payload={"number": ticket.number, "reason": "window closed"},
                )  # fmt: skip
                self.emit("window.closed", at, actor=desk.clerk, window=desk.number, post=desk.post)
                desk.clerk = desk.post = None
            else:
                ticket.final, ticket.started_at = "serving", at
                self._act(desk, ticket, "ticket.started", at)
        elif ticket.final == "serving":
            if roll < 0.05:
                self.transfer(desk, ticket, at)
            elif roll < 0.7:
                case = rng.choice(CASES)
                ticket.final, ticket.finished_at, ticket.case_class, desk.current = "finished", at, case, None
                self._act(desk, ticket, "ticket.finished", at, {"case_class": case})
                if self.ratings and rng.random() < 0.6:  # the citizen rates at the window's pad, as a citizen
                    ticket.rating = rng.choice(LEVELS)
                    self.emit(
                        "ticket.rated", at + 5_000_000, actor="citizen", window=desk.number, ticket=ticket.id,
                        payload={"rating_id": ticket.id, "number": ticket.number, "level": ticket.rating,
                                 "score": SCORES[ticket.rating], "reasons": [], "due_on": None},
                    )  # fmt: skip

    def transfer(self, desk: Desk, ticket: Truth, at: int) -> None:
        rng = self.rng
        to_window: int | None = None
        to_category: str | None = None
        from_category = ticket.category
        if rng.random() < 0.5:
            to_window = rng.choice([n for n in WINDOWS if n != desk.number])
        else:
            to_category = rng.choice([c for c in CATEGORIES if c != ticket.category])
            ticket.category = to_category
        ticket.final, ticket.started_at, ticket.target_window = "transferred", None, to_window
        ticket.transfers += 1
        desk.current = None
        # A transfer is not a "last clerk action" for grouping (the server's events carry it, the
        # figures ignore it): keep window/actor as they were.
        self.emit(
            "ticket.transferred", at, actor=desk.clerk, window=desk.number, post=desk.post, ticket=ticket.id,
            payload={"number": ticket.number, "to_window": to_window, "to_category": to_category,
                     "from_category": from_category, "reason": None},
        )  # fmt: skip

    def close_day(self, at: int, day: dt.date) -> None:
        expired = 0
        for t in self.truth.values():
            if t.final in ("waiting", "called", "transferred", "no_show"):
                t.final = "expired"
                expired += 1
        for desk in self.desks.values():
            if desk.current is not None and self.truth[desk.current].final == "serving":
                continue
            desk.clerk = desk.post = desk.current = None
            desk.paused = False
        self.emit("day.closed", at, payload={"day": day.isoformat(), "expired": expired})

    # -- days --------------------------------------------------------------------------------------

    def run_day(self, day: dt.date, *, leave_serving: bool = False) -> None:
        """08:30 to 17:00 in steps of 20–90 s; the day closes at the first step of the next morning."""
        now = dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI)
        end = now.replace(hour=17, minute=0)
        while now < end:
            at = int(now.timestamp()) * US + self.rng.randrange(US)
            if self.rng.random() < 0.35:
                self.issue(at)
            if self.rng.random() < 0.02:
                self.requeue(at)
            desk = self.desks[self.rng.choice(list(WINDOWS))]
            self.step(desk, at + 1)
            now += dt.timedelta(seconds=self.rng.randrange(20, 90))
        if not leave_serving:
            # Serving tickets are finished before the hall closes (a day may end with one open: see run).
            for desk in self.desks.values():
                ticket = self.truth.get(desk.current) if desk.current is not None else None
                if ticket is not None and ticket.final == "serving":
                    at = int(end.timestamp()) * US
                    ticket.final, ticket.finished_at, ticket.case_class, desk.current = (
                        "finished",
                        at,
                        "immediate",
                        None,
                    )
                    self._act(desk, ticket, "ticket.finished", at, {"case_class": "immediate"})

    def finish_leftovers(self, at: int) -> None:
        for desk in self.desks.values():
            ticket = self.truth.get(desk.current) if desk.current is not None else None
            if ticket is not None and ticket.final == "serving":
                ticket.final, ticket.finished_at, ticket.case_class, desk.current = "finished", at, "joint", None
                self._act(desk, ticket, "ticket.finished", at, {"case_class": "joint"})


def simulate(seed: int, days: list[dt.date], *, serve_past_midnight: bool = False, ratings: bool = True) -> Sim:
    """Simulate the days; each day is closed at 07:00 the next morning (as the first action of a day does).

    With `serve_past_midnight`, a ticket still being served at the end of a day is finished at 00:30
    the next day, before the day closes (it still belongs to the day it was issued).
    """
    sim = Sim(seed, ratings)
    for day in days:
        sim.run_day(day, leave_serving=serve_past_midnight)
        following = day + dt.timedelta(days=1)
        if serve_past_midnight:
            sim.finish_leftovers(int(dt.datetime(following.year, following.month, following.day, 0, 30,
                                                 tzinfo=SHANGHAI).timestamp()) * US)  # fmt: skip
        close = dt.datetime(following.year, following.month, following.day, 7, 0, tzinfo=SHANGHAI)
        sim.close_day(int(close.timestamp()) * US, day)
    return sim
