"""The in-memory mirror of one hall's live state, owned by the store's writer thread.

The database is the source of truth; this mirror holds the day's live tickets and the windows so
that routing and wait estimates need no query. It is loaded from the database, changed only in the
same transaction that writes the rows (or caught up from the event log, under the hall's lock, when
another process wrote), and dropped (to be reloaded) when a transaction fails.

The read side of each server process holds a replica of it (`queue_server.hall_view`), updated on the
event loop from the tickets this mirror reports as changed after each commit.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from config.schema import Hall
from queue_server.domain.estimate import (
    Estimate,
    Forecast,
    Inflow,
    QueueCounts,
    ServiceTimes,
    WindowLoad,
    queue_counts,
)
from queue_server.domain.opening import DayTime, RecentArrivals, day_time, session_seconds
from queue_server.domain.queue_index import QueueIndex
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import CALLABLE, Priority, TicketState
from queue_server.domain.windows import Post, WindowState

RECENT_CALLS = 10


@dataclass(slots=True)
class LiveTicket:
    """A ticket of the current service day that is not finished or expired."""

    id: int
    day: dt.date
    number: str
    category: str
    item_id: str | None
    priority: Priority
    state: TicketState
    queue_key: int
    target_window: int | None
    window: int | None
    track_token: str
    issued_at: int
    called_at: int | None
    started_at: int | None
    recalls: int
    recalled_at: int | None = None  # the last recall: the automatic no-show counts from it
    id_hash: str | None = None  # a ticket by ID card: the kiosk's keyed hash of the ID number (never the number)

    @property
    def last_called_at(self) -> int | None:
        """The last call or recall (µs)."""
        return self.recalled_at if self.recalled_at is not None else self.called_at

    def queued(self) -> QueuedTicket:
        return QueuedTicket(self.id, self.category, self.priority, self.queue_key, self.target_window)


@dataclass(slots=True)
class LiveWindow:
    number: int
    state: WindowState = WindowState.CLOSED
    clerk: str | None = None
    post: Post | None = None
    current_ticket: int | None = None
    paused_reason: str | None = None
    priority_streak: int = 0
    since: int | None = None


@dataclass(slots=True)
class RecentCall:
    number: str
    window: int
    at: int


@dataclass(frozen=True)
class Outlook:
    """What a wait estimate needs besides the queue (`HallRuntime.outlook`)."""

    loads: list[WindowLoad]
    opens_in_s: float
    inflow: Inflow | None


@dataclass
class HallRuntime:
    """One hall's live state."""

    hall: Hall
    last_seq: int
    day: dt.date | None
    counters: dict[str, int]
    tickets: dict[int, LiveTicket]
    windows: dict[int, LiveWindow]
    service_times: ServiceTimes
    # The issuing requests of the last loading.IDEMPOTENCY_DAYS service days, today's included:
    # (device, Idempotency-Key) -> (hash of the body, ticket id).
    requests: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    clerk_names: dict[str, str] = field(default_factory=dict)
    recent_calls: deque[RecentCall] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))
    #: The tickets routing may call, with their ranks and counts, kept in step by track(): calls and estimates read it.
    index: QueueIndex = field(default_factory=QueueIndex)
    #: The live tickets by tracking token (the phone's status read), kept in step by track().
    by_token: dict[str, int] = field(default_factory=dict)
    #: Tickets added, changed or dropped since the read side was last told (see Store's view deltas).
    changed: set[int] = field(default_factory=set)
    #: The read side must be rebuilt from this runtime as a whole (it was just loaded).
    full: bool = True
    #: A read-side replica: changed only by whole deltas, so one forecast serves every read until the next one.
    replica: bool = False
    #: Today's arrivals per category, which the estimate expects more of, and the tickets already counted in them.
    arrivals: RecentArrivals = field(default_factory=RecentArrivals)
    arrival_ids: set[int] = field(default_factory=set)
    #: The time of the latest transaction (or, on the read side, of the writer's latest delta), in µs: what an
    #: estimate reads the hour, the services in progress and the opening hours at when it is not given a clock.
    now_us: int | None = None
    _forecast: Forecast | None = None

    def __post_init__(self) -> None:
        self.index = QueueIndex(t.queued() for t in self.tickets.values() if t.state in CALLABLE)
        self.by_token = {t.track_token: t.id for t in self.tickets.values()}

    def track(self, ticket: LiveTicket) -> None:
        """Bring the routing queue, its counts and the token index in step with a ticket added, changed or dropped."""
        self.changed.add(ticket.id)
        self._forecast = None
        if ticket.id in self.tickets:
            self.by_token[ticket.track_token] = ticket.id
            if ticket.state in CALLABLE:
                self.index.put(ticket.queued())
                return
        else:
            self.by_token.pop(ticket.track_token, None)
        self.index.discard(ticket.id)

    def queued(self) -> list[QueuedTicket]:
        return list(self.index)

    def counts(self) -> QueueCounts:
        return self.index.counts()

    def by_track_token(self, token: str) -> LiveTicket | None:
        ticket_id = self.by_token.get(token)
        return self.tickets.get(ticket_id) if ticket_id is not None else None

    def estimate(self, ticket: LiveTicket, now_us: int | None = None) -> Estimate | None:
        """One queued ticket's estimate from its rank and the counts: O(log n), never the whole queue."""
        queued = self.index.get(ticket.id)
        if queued is None:
            return None
        forecast = self._forecast if now_us is None else None
        if forecast is None:
            outlook = self.outlook(now_us)
            forecast = Forecast(
                self.counts().untargeted,
                outlook.loads,
                self.service_times.snapshot(),
                opens_in_s=outlook.opens_in_s,
                inflow=outlook.inflow,
            )
            if self.replica and now_us is None:  # the writer's own runtime changes in place: it never keeps one
                self._forecast = forecast
        return forecast.estimate(queued, self.index.rank(ticket.id))

    def day_time(self, at_us: int) -> DayTime:
        """Where `at_us` falls in the hall's opening hours."""
        local = dt.datetime.fromtimestamp(at_us / 1e6, ZoneInfo(self.hall.timezone))
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return day_time(session_seconds([(s.start, s.end) for s in self.hall.sessions]), seconds)

    def count_arrival(self, ticket_id: int, category: str, issued_at: int, priority: bool = False) -> None:
        """Count a ticket of today in the arrival rates (once, however often it is seen)."""
        if ticket_id not in self.arrival_ids:
            self.arrival_ids.add(ticket_id)
            self.arrivals.observe(category, self.day_time(issued_at).open_so_far_s, priority)

    def new_day(self) -> None:
        """Today's arrivals join the profile of the days before (RecentArrivals.next_day); the new day counts anew."""
        self.arrivals, self.arrival_ids = self.arrivals.next_day(), set()

    def outlook(self, now_us: int | None = None) -> Outlook:
        """What an estimate needs besides the queue: the windows, the time to the next opening, arrivals to come."""
        at = now_us if now_us is not None else self.now_us
        if at is None:
            return Outlook(self.window_loads(), 0.0, None)
        time = self.day_time(at)
        counts = self.counts()
        inflow = self.arrivals.inflow(counts.untargeted, counts.priority, time)
        return Outlook(self.window_loads(at), time.opens_in_s, inflow)

    def forget_forecast(self) -> None:
        self._forecast = None

    def verify(self) -> None:
        """Check the routing queue and its counts against the tickets (the tests run it after every transaction)."""
        if self.by_token != {t.track_token: t.id for t in self.tickets.values()}:
            raise AssertionError("token index out of step")
        expected = {t.id: t.queued() for t in self.tickets.values() if t.state in CALLABLE}
        mine = {t.id: t for t in self.index}
        if expected != mine:
            raise AssertionError(f"routing queue out of step: {mine} != {expected}")
        counted = queue_counts(list(expected.values()))
        held = self.index.counts()
        if QueueCounts(dict(counted.untargeted), dict(counted.priority)) != QueueCounts(
            dict(held.untargeted), dict(held.priority)
        ):
            raise AssertionError(f"queue counts out of step: {held} != {counted}")

    def window_loads(self, now_us: int | None = None) -> list[WindowLoad]:
        """The windows as the estimate sees them: a paused window is available and busy (it will be back), and
        with `now_us`, a window's current ticket says how long its service has run."""
        loads = []
        for config_window in self.hall.windows:
            live = self.windows[config_window.number]
            current = self.tickets.get(live.current_ticket) if live.current_ticket is not None else None
            paused = live.state is WindowState.PAUSED
            held = None
            if current is not None and current.called_at is not None and now_us is not None:
                held = max(0.0, (now_us - current.called_at) / 1e6)
            loads.append(
                WindowLoad(
                    number=config_window.number,
                    categories=tuple(config_window.categories),
                    available=live.state is WindowState.OPEN or paused,
                    busy=live.current_ticket is not None or paused,
                    serving=current.category if current is not None and not paused else None,
                    held_s=held if not paused else None,
                )
            )
        return loads

    def windows_serving(self, category: str) -> list[int]:
        return [w.number for w in self.hall.windows if category in w.categories]
