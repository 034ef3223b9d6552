"""The discrete-event engine: one hall day, driving the domain's real routing, window and ticket rules.

Windows call with `routing.pick_next`, a returning no-show is placed with `routing.requeue_key`, every
window move is checked with `windows.check_window_action` and every ticket move with
`tickets.check_transition`, and each estimator is asked at each ticket's issue, with the queue and
windows as the server would see them. The domain functions are looked up on their modules at each call
(never copied or bound at import), so the simulator measures the domain as it stands.

A day: windows open at each session's start and call as soon as they are free (the clerk presses
"next" at once); at the session's end the kiosk stops issuing, and each window serves what it can still
pick and then closes (overtime is measured, nobody is sent home). A clerk's pause is taken when the
window is next free; a paused window is not available to the estimator.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from queue_server.domain import routing, tickets, windows
from queue_server.domain.estimate import WindowLoad
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority, TicketState
from queue_server.domain.windows import WindowState
from queue_server.simulation.arrivals import Arrival, stream
from queue_server.simulation.estimators import Estimator, QueueView
from queue_server.simulation.scenario import Scenario

__all__ = ["DayResult", "Oracle", "TicketRecord", "WindowStats", "run_day"]

_OPEN, _CLOSE, _ARRIVE, _REQUEUE, _FINISH, _NO_SHOW, _PAUSE, _RESUME = range(8)

#: Called at each issue with the day, the new ticket's live record and its queue entry, before it is queued.
Oracle = Callable[["_Day", "_Live", QueuedTicket], None]


@dataclass(slots=True)
class TicketRecord:
    """What happened to one ticket; times in seconds since midnight."""

    id: int
    day: int
    category: str
    item_id: str | None
    priority: Priority
    issued_s: float
    service_s: float
    called_s: float | None = None  # the first call: the end of the wait the estimate predicted
    started_s: float | None = None
    finished_s: float | None = None
    window: int | None = None
    no_show: bool = False
    requeued_s: float | None = None
    recalled_s: float | None = None  # called again after re-queueing
    ahead: int = 0
    estimates: dict[str, float | None] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # 90% intervals, for estimators giving one
    spread_s2: float | None = None  # the variance of the forward runs behind estimates["optimum"], when sampled

    @property
    def wait_s(self) -> float | None:
        return None if self.called_s is None else self.called_s - self.issued_s


@dataclass(slots=True)
class WindowStats:
    """One window's day: staffed (open or paused) time, busy time (from a call to its finish or no-show)."""

    number: int
    categories: tuple[str, ...]
    staffed_s: float = 0.0
    busy_s: float = 0.0
    paused_s: float = 0.0
    served: int = 0
    no_shows: int = 0
    pauses: int = 0

    @property
    def utilization(self) -> float:
        return self.busy_s / self.staffed_s if self.staffed_s else 0.0


@dataclass
class DayResult:
    day: int
    tickets: list[TicketRecord]
    windows: list[WindowStats]
    queue_samples: list[tuple[float, dict[str, int]]]  # (time, waiting per category) every sample_s
    queue_area: dict[str, float]  # ∫ waiting dt, per category
    queue_max: dict[str, int]
    open_s: float  # the sessions' total length
    closed_s: float  # when the last window closed
    lost_requeues: int  # no-shows who came back after the kiosk had stopped issuing
    turned_away: int  # arrivals outside the sessions
    unserved: int  # tickets still waiting when every window had closed


def _urgency(t: QueuedTicket) -> tuple[int, int, int]:
    """The order routing calls a category's untargeted tickets in: priority ones first, then by queue key and id."""
    return (0 if t.priority is not Priority.ORDINARY else 1, t.queue_key, t.id)


@dataclass(slots=True)
class _Live:
    record: TicketRecord
    arrival: Arrival
    state: TicketState = TicketState.WAITING
    requeued: bool = False


@dataclass(slots=True)
class _Window:
    number: int
    categories: tuple[str, ...]
    stats: WindowStats
    state: WindowState = WindowState.CLOSED
    since: float = 0.0
    current: _Live | None = None
    busy_since: float = 0.0
    streak: int = 0
    pending_pause: float | None = None


class _Day:
    def __init__(
        self,
        scenario: Scenario,
        estimators: Sequence[Estimator],
        day: int,
        seed: int,
        pauses: Mapping[int, Sequence[tuple[float, float]]],
        sample_s: float,
        oracle: Oracle | None = None,
    ) -> None:
        self.s = scenario
        self.estimators = estimators
        self.oracle = oracle
        self.day = day
        self.dispatch_rng = stream(seed, day, "dispatch")
        self.windows = [_Window(n, cats, WindowStats(n, cats)) for n, cats in scenario.windows]
        self.codes = [c.code for c in scenario.categories]
        self.queue: dict[int, QueuedTicket] = {}
        self.live: dict[int, _Live] = {}
        self.records: list[TicketRecord] = []
        self.qlen = dict.fromkeys(self.codes, 0)
        self.issued = dict.fromkeys(self.codes, 0)  # today's tickets per category, as the server's counters
        self.area = dict.fromkeys(self.codes, 0.0)
        self.qmax = dict.fromkeys(self.codes, 0)
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.sample_s = sample_s
        self.next_sample = scenario.sessions[0][0] if scenario.sessions else 0.0
        self.now = self.next_sample
        self.in_session = False
        self.lost = self.turned_away = 0
        self.events: list[tuple[float, int, int, object]] = []
        self.seq = 0
        for start, end in scenario.sessions:
            self.push(start, _OPEN, None)
            self.push(end, _CLOSE, None)
        for w in self.windows:
            for at, length in pauses.get(w.number, ()):
                self.push(at, _PAUSE, (w, length))

    def push(self, at: float, kind: int, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, payload))

    # --- time --------------------------------------------------------------------------------------------------

    def advance(self, to: float) -> None:
        if self.sample_s > 0:
            while self.next_sample <= to:
                self.samples.append((self.next_sample, dict(self.qlen)))
                self.next_sample += self.sample_s
        dt = to - self.now
        if dt > 0:
            for code, n in self.qlen.items():
                if n:
                    self.area[code] += n * dt
        self.now = to

    # --- windows -----------------------------------------------------------------------------------------------

    def move(self, w: _Window, action: str) -> None:
        new = windows.check_window_action(action, w.state)
        if new is not w.state:
            elapsed = self.now - w.since
            if w.state is not WindowState.CLOSED:
                w.stats.staffed_s += elapsed
            if w.state is WindowState.PAUSED:
                w.stats.paused_s += elapsed
            w.state, w.since = new, self.now

    def call_next(self, w: _Window) -> None:
        windows.check_window_action("call_next", w.state)
        pick = routing.pick_next(w.number, w.categories, self.queue.values(), w.streak, self.s.priority_streak_max)
        if pick is None:
            if not self.in_session:
                self.move(w, "close")
            return
        w.streak = pick.priority_streak
        live = self.live[pick.ticket.id]
        del self.queue[pick.ticket.id]
        self.qlen[live.record.category] -= 1
        tickets.check_transition(live.state, TicketState.CALLED)
        live.state = TicketState.CALLED
        w.current, w.busy_since = live, self.now
        record, arrival = live.record, live.arrival
        if live.requeued:
            record.recalled_s = self.now
        else:
            record.called_s, record.window = self.now, w.number
        if arrival.no_show and not live.requeued:
            self.push(self.now + self.s.no_show_hold_s, _NO_SHOW, w)
        else:
            record.window = w.number
            record.started_s = self.now + arrival.walk_s
            self.push(record.started_s + arrival.service_s, _FINISH, w)

    def dispatch(self) -> None:
        """Every free open window calls (in random order: whichever clerk presses first)."""
        free = [w for w in self.windows if w.state is WindowState.OPEN and w.current is None]
        if len(free) > 1:
            self.dispatch_rng.shuffle(free)
        for w in free:
            if not self.queue:
                break
            self.call_next(w)

    def start_pause(self, w: _Window, length: float) -> None:
        self.move(w, "pause")
        w.stats.pauses += 1
        self.push(self.now + length, _RESUME, w)

    def free(self, w: _Window) -> None:
        w.stats.busy_s += self.now - w.busy_since
        w.current = None
        if w.pending_pause is not None:
            length, w.pending_pause = w.pending_pause, None
            self.start_pause(w, length)
        else:
            self.call_next(w)

    # --- tickets -----------------------------------------------------------------------------------------------

    def issue(self, arrival: Arrival) -> None:
        if not self.in_session:
            self.turned_away += 1
            return
        record = TicketRecord(
            len(self.records) + 1,
            self.day,
            arrival.category,
            arrival.item_id,
            arrival.priority,
            self.now,
            arrival.service_s,
        )
        self.records.append(record)
        ticket = QueuedTicket(record.id, arrival.category, arrival.priority, round(self.now * 1e6))
        live = _Live(record, arrival)
        if self.estimators:
            self.estimate(record, ticket)
        if self.oracle is not None:
            self.oracle(self, live, ticket)
        self.issued[arrival.category] += 1
        self.enqueue(live, ticket)

    def estimate(self, record: TicketRecord, ticket: QueuedTicket) -> None:
        mine = _urgency(ticket)
        ahead = sum(
            1
            for t in self.queue.values()
            if t.category == ticket.category and t.target_window is None and _urgency(t) < mine
        )
        loads = [
            WindowLoad(
                w.number,
                w.categories,
                w.state is WindowState.OPEN,
                w.current is not None,
                w.current.record.category if w.current is not None else None,
                self.now - w.busy_since if w.current is not None else None,
            )
            for w in self.windows
        ]
        paused = frozenset(w.number for w in self.windows if w.state is WindowState.PAUSED)
        view = QueueView(ticket, [*self.queue.values(), ticket], loads, ahead, paused, self.now, dict(self.issued))
        record.ahead = ahead
        for e in self.estimators:
            ranged = getattr(e, "estimate_range", None)
            if ranged is None:
                record.estimates[e.name] = e.estimate(view)
                continue
            value, interval = ranged(view)
            record.estimates[e.name] = value
            if interval is not None:
                record.ranges[e.name] = interval

    def enqueue(self, live: _Live, ticket: QueuedTicket) -> None:
        self.queue[ticket.id] = ticket
        self.live[ticket.id] = live
        code = ticket.category
        self.qlen[code] += 1
        self.qmax[code] = max(self.qmax[code], self.qlen[code])
        self.dispatch()

    def requeue(self, live: _Live) -> None:
        if not self.in_session:
            self.lost += 1
            return
        tickets.check_transition(live.state, TicketState.WAITING)
        live.state, live.requeued = TicketState.WAITING, True
        record = live.record
        keys = [
            t.queue_key
            for t in self.queue.values()
            if t.category == record.category and t.priority is Priority.ORDINARY and t.target_window is None
        ]
        key = routing.requeue_key(round(self.now * 1e6), keys, self.s.requeue_behind)
        record.requeued_s = self.now
        self.enqueue(live, QueuedTicket(record.id, record.category, record.priority, key))

    def finish(self, w: _Window) -> None:
        live = w.current
        assert live is not None
        for state in (TicketState.SERVING, TicketState.FINISHED):
            tickets.check_transition(live.state, state)
            live.state = state
        record = live.record
        record.finished_s = self.now
        assert record.started_s is not None
        called = record.recalled_s if record.recalled_s is not None else record.called_s
        assert called is not None
        for e in self.estimators:
            e.observe(record.category, self.now - record.started_s, self.now - called)
        w.stats.served += 1
        del self.live[record.id]
        self.free(w)

    def no_show(self, w: _Window) -> None:
        live = w.current
        assert live is not None
        tickets.check_transition(live.state, TicketState.NO_SHOW)
        live.state = TicketState.NO_SHOW
        live.record.no_show = True
        w.stats.no_shows += 1
        if live.arrival.requeue_after_s is not None:
            self.push(self.now + live.arrival.requeue_after_s, _REQUEUE, live)
        else:
            del self.live[live.record.id]
        self.free(w)

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self, arrivals: Iterator[Arrival]) -> DayResult:
        self.loop(arrivals)
        return self.result()

    def loop(self, arrivals: Iterator[Arrival], until: TicketRecord | None = None) -> None:
        """Play the events; with `until`, stop as soon as that ticket is first called (a forward run)."""
        first = next(arrivals, None)
        if first is not None:
            self.push(first.time_s, _ARRIVE, first)
        while self.events:
            if until is not None and until.called_s is not None:
                return
            at, _, kind, payload = heapq.heappop(self.events)
            self.advance(at)
            if kind == _ARRIVE:
                assert isinstance(payload, Arrival)
                self.issue(payload)
                following = next(arrivals, None)
                if following is not None:
                    self.push(max(following.time_s, at), _ARRIVE, following)
            elif kind == _FINISH:
                assert isinstance(payload, _Window)
                self.finish(payload)
            elif kind == _NO_SHOW:
                assert isinstance(payload, _Window)
                self.no_show(payload)
            elif kind == _REQUEUE:
                assert isinstance(payload, _Live)
                self.requeue(payload)
            elif kind == _PAUSE:
                w, length = cast(tuple[_Window, float], payload)
                if w.state is WindowState.OPEN:
                    if w.current is None:
                        self.start_pause(w, length)
                    elif w.pending_pause is None:
                        w.pending_pause = length
            elif kind == _RESUME:
                assert isinstance(payload, _Window)
                self.move(payload, "resume")
                self.call_next(payload)
            elif kind == _OPEN:
                self.in_session = True
                for w in self.windows:
                    if w.state is WindowState.CLOSED:
                        self.move(w, "open")
                self.dispatch()
            elif kind == _CLOSE:
                self.in_session = False
                for w in self.windows:
                    if w.state is WindowState.OPEN and w.current is None:
                        self.move(w, "close")

    def result(self) -> DayResult:
        for w in self.windows:  # only windows left open with nothing they can serve
            if w.state is not WindowState.CLOSED:
                self.move(w, "close")
        return DayResult(
            day=self.day,
            tickets=self.records,
            windows=[w.stats for w in self.windows],
            queue_samples=self.samples,
            queue_area=self.area,
            queue_max=self.qmax,
            open_s=self.s.open_s,
            closed_s=self.now,
            lost_requeues=self.lost,
            turned_away=self.turned_away,
            unserved=len(self.queue),
        )


def run_day(
    scenario: Scenario,
    arrivals: Iterable[Arrival],
    estimators: Sequence[Estimator] = (),
    *,
    day: int = 0,
    seed: int = 0,
    pauses: Mapping[int, Sequence[tuple[float, float]]] | None = None,
    sample_s: float = 60.0,
    oracle: Oracle | None = None,
) -> DayResult:
    """Simulate one day of `scenario` with these `arrivals` (in time order) and clerks' `pauses` per window.

    The estimators keep what they learned (their service-time means) from one day to the next, as the
    server's do. `sample_s` is the spacing of the queue-length samples (0: none). An `oracle` is called at each
    issue with the day as it stands and the new ticket, before it is queued (`forward.Optimum`).
    """
    return _Day(scenario, estimators, day, seed, pauses or {}, sample_s, oracle).run(iter(arrivals))
