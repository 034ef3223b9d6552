"""The hall's figures from its event log: one fold over the events into per-ticket facts, then figures.

Definitions (the dashboard, the exports and the tests all use these):

- A ticket belongs to a report when its `ticket.issued` event falls in the report's period; the
  events of tickets issued before the period are ignored.
- issued: tickets issued. called: tickets called at least once. served: tickets finished (办结登记)
  with one of the six case classes. no_shows: tickets marked 过号 and never served (a no-show that
  was re-queued at the kiosk and then served counts as served, not as a no-show; the day's close
  expires the no-shows, and they still count). transferred: tickets transferred at least once.
- wait: from issue to the first call. service time: from the last start (开始办理) to the finish;
  a ticket transferred while being served is timed from its start at the window that finished it.
- on the spot (现场办理) = served − by agent (代理件); by agent = 代理件.
- accepted (受理): visits served whose case was accepted, i.e. finished as 即办件, 承诺件, 联办件 or 代理件
  (a 补办件, materials missing, and a 退回件 were not accepted); acceptance rate (受理率) = accepted /
  served, None when nothing was served. This is a share of visits, not the 办结率: the 办结率 counts
  cases (completed / cases, reports/cases.py), which every report, wall, county and city page shows.
- satisfaction rate (满意率) = ratings of 基本满意 or better / ratings (好差评, the `ticket.rated`
  events; a ticket rated twice counts once, with its last rating). None when nothing was rated:
  no figure is invented. ratings: the count of each of the five levels (the same last ratings).
  A 差评 whose review (复核) was upheld (`rating.review_upheld`) counts in neither, as if never rated; the
  system's default ratings (默认好评, `rating.defaulted`) are no `ticket.rated` events and count in neither.
- p90 wait: the nearest-rank 90th percentile of the called tickets' waits in whole seconds (each wait
  floored to the second): the smallest w such that at least 90% of the waits are ≤ w. Exact to the
  second, and it merges exactly across days and halls (the stored days keep each cell's waits as a
  histogram of whole seconds, see partial.py).
- staff: the distinct clerks who finished at least one of the tickets; windows: the distinct windows at
  which at least one was finished (across halls, a clerk or window counts once in each hall).
- Grouping: a ticket counts in the category it was last queued in (after transfers), and for the
  window and the clerk of the last action on it (call, recall, start, finish, no-show); tickets never
  called are grouped under no window and no clerk.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from queue_server.domain.tickets import EXPIRE_AT_DAY_CLOSE, CaseClass
from queue_server.reports.events import EventRow

US = 1_000_000
CASE_CLASSES: tuple[str, ...] = tuple(c.value for c in CaseClass)
ACCEPTED_CLASSES = frozenset({CaseClass.IMMEDIATE, CaseClass.PROMISED, CaseClass.JOINT, CaseClass.AGENT})
#: Rating levels that count as satisfied (as queue_server/services/ratings.py: all but the two bad ones).
SATISFIED_LEVELS = frozenset({"very_satisfied", "satisfied", "basic"})
#: The five 好差评 levels, best first (as queue_server/services/ratings.py LEVELS).
RATING_LEVELS: tuple[str, ...] = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
#: Wait-time distribution: bins of [lower, upper) minutes; the last bin has no upper bound.
WAIT_BINS_MIN: tuple[int, ...] = (0, 5, 10, 15, 20, 30, 45, 60)
_EXPIRING = frozenset(s.value for s in EXPIRE_AT_DAY_CLOSE)
_WAITING = frozenset({"waiting", "transferred"})


class TicketFacts:
    """What the event log says about one ticket, as the fold has seen it so far."""

    __slots__ = (
        "actor",
        "case_class",
        "category",
        "finished_at",
        "first_called_at",
        "id",
        "issued_at",
        "item_id",
        "missed",
        "number",
        "post",
        "rating",
        "recalls",
        "started_at",
        "state",
        "transfers",
        "window",
    )

    def __init__(self, ticket_id: int, number: str, category: str, item_id: str | None, at: int) -> None:
        self.id = ticket_id
        self.number = number
        self.category = category
        self.item_id = item_id
        self.issued_at = at
        self.state = "waiting"
        self.first_called_at: int | None = None
        self.started_at: int | None = None
        self.finished_at: int | None = None
        self.case_class: str | None = None
        self.transfers = 0
        self.recalls = 0
        self.missed = False  # marked 过号 at least once
        self.rating: str | None = None  # the citizen's rating level (好差评), once rated
        self.window: int | None = None
        self.actor: str | None = None
        self.post: str | None = None

    @property
    def wait_us(self) -> int | None:
        return None if self.first_called_at is None else self.first_called_at - self.issued_at

    @property
    def service_us(self) -> int | None:
        if self.finished_at is None or self.started_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def waiting(self) -> bool:
        return self.state in _WAITING


class FigureBuilder:
    """Folds events (in log order) into the facts of the tickets issued in [start_us, end_us)."""

    def __init__(self, start_us: int | None = None, end_us: int | None = None) -> None:
        self.start_us = start_us
        self.end_us = end_us
        self.tickets: dict[int, TicketFacts] = {}
        self.last_seq = 0
        self._open: set[int] = set()  # tickets not finished or expired yet
        self._handlers: dict[str, Callable[[TicketFacts, EventRow], None]] = {
            "ticket.called": self._called,
            "ticket.recalled": self._recalled,
            "ticket.started": self._started,
            "ticket.finished": self._finished,
            "ticket.no_show": self._no_show,
            "ticket.transferred": self._transferred,
            "ticket.requeued": self._back_in_queue,
            "ticket.returned": self._back_in_queue,
            "ticket.rated": self._rated,
            "rating.review_upheld": self._unrated,
        }

    def feed(self, events: Iterable[EventRow]) -> FigureBuilder:
        tickets, handlers = self.tickets, self._handlers
        start, end = self.start_us, self.end_us
        last = self.last_seq
        for event in events:
            last = event.seq if event.seq > last else last
            kind = event.type
            if kind == "ticket.issued":
                if event.ticket_id is None or (start is not None and event.at < start):
                    continue
                if end is not None and event.at >= end:
                    continue
                p = event.payload
                tickets[event.ticket_id] = TicketFacts(
                    event.ticket_id, p.get("number", ""), p["category"], p.get("item_id"), event.at
                )
                self._open.add(event.ticket_id)
            elif kind == "day.closed":
                for ticket_id in list(self._open):
                    open_ticket = tickets[ticket_id]
                    if open_ticket.state in _EXPIRING:
                        open_ticket.state = "expired"
                        self._open.discard(ticket_id)
            else:
                handler = handlers.get(kind)
                known = tickets.get(event.ticket_id) if event.ticket_id is not None else None
                if handler is not None and known is not None:
                    handler(known, event)
        self.last_seq = last
        return self

    # -- one handler per ticket event -----------------------------------------------------------

    @staticmethod
    def _attribute(facts: TicketFacts, event: EventRow) -> None:
        facts.window, facts.actor, facts.post = event.window, event.actor, event.post

    def _called(self, facts: TicketFacts, event: EventRow) -> None:
        facts.state = "called"
        if facts.first_called_at is None:
            facts.first_called_at = event.at
        self._attribute(facts, event)

    def _recalled(self, facts: TicketFacts, event: EventRow) -> None:
        facts.recalls += 1
        self._attribute(facts, event)

    def _started(self, facts: TicketFacts, event: EventRow) -> None:
        facts.state, facts.started_at = "serving", event.at
        self._attribute(facts, event)

    def _finished(self, facts: TicketFacts, event: EventRow) -> None:
        facts.state, facts.finished_at = "finished", event.at
        self._open.discard(facts.id)
        facts.case_class = str(event.payload.get("case_class"))
        self._attribute(facts, event)

    def _no_show(self, facts: TicketFacts, event: EventRow) -> None:
        facts.state, facts.missed = "no_show", True
        if not event.payload.get("automatic"):  # the system's no-show stays the calling clerk's (and window's)
            self._attribute(facts, event)

    @staticmethod
    def _transferred(facts: TicketFacts, event: EventRow) -> None:
        facts.state, facts.started_at = "transferred", None
        facts.transfers += 1
        to_category = event.payload.get("to_category")
        if to_category:
            facts.category = str(to_category)

    @staticmethod
    def _rated(facts: TicketFacts, event: EventRow) -> None:
        facts.rating = str(event.payload.get("level"))

    @staticmethod
    def _unrated(facts: TicketFacts, _event: EventRow) -> None:
        facts.rating = None  # an upheld review (申诉复核) takes the rating out of every figure

    @staticmethod
    def _back_in_queue(facts: TicketFacts, _event: EventRow) -> None:
        facts.state = "waiting"


# --- figures -------------------------------------------------------------------------------------


class Figures(BaseModel):
    """The figures of a set of tickets (a whole period, or one category, window or clerk)."""

    model_config = ConfigDict(frozen=True)

    issued: int
    called: int
    served: int
    no_shows: int
    transferred: int
    avg_wait_s: float | None
    max_wait_s: float | None
    avg_service_s: float | None
    min_service_s: float | None
    max_service_s: float | None
    on_the_spot: int
    by_agent: int
    accepted: int  # visits served as 即办件, 承诺件, 联办件 or 代理件
    acceptance_rate: float | None  # 受理率 = accepted / served (a share of visits; 办结率 is the cases')
    rated: int
    satisfied: int
    satisfaction_rate: float | None  # None when nothing was rated
    case_classes: dict[str, int]
    p90_wait_s: float | None  # nearest-rank, whole seconds; None when nothing was called
    ratings: dict[str, int]  # 好差评: the count of each level of RATING_LEVELS
    staff: int  # distinct clerks who finished a ticket
    windows: int  # distinct windows at which a ticket was finished


def p90_of(histogram: Mapping[int, int]) -> int | None:
    """The nearest-rank 90th percentile of a histogram {whole seconds: count} (None when empty)."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = (9 * total + 9) // 10  # ceil(0.9 · total), in integers
    seen = 0
    for second in sorted(histogram):
        seen += histogram[second]
        if seen >= rank:
            return second
    raise AssertionError("unreachable: the ranks add up to the total")


def wait_second(wait_us: int) -> int:
    """A wait as the histograms keep it: whole seconds, floored."""
    return wait_us // US


def _seconds(us: float | None) -> float | None:
    return None if us is None else round(us / US, 1)


def figures_of(tickets: Iterable[TicketFacts]) -> Figures:
    """The figures of these tickets."""
    issued = called = served = no_shows = transferred = rated = satisfied = 0
    wait_sum = service_sum = 0
    max_wait: int | None = None
    max_service: int | None = None
    min_service: int | None = None
    classes: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    seconds: Counter[int] = Counter()
    clerks: set[str] = set()
    windows: set[int] = set()
    for t in tickets:
        issued += 1
        if t.transfers:
            transferred += 1
        if t.first_called_at is not None:
            called += 1
            wait = t.first_called_at - t.issued_at
            wait_sum += wait
            seconds[wait_second(wait)] += 1
            if max_wait is None or wait > max_wait:
                max_wait = wait
        if t.state == "finished":
            served += 1
            classes[t.case_class or "?"] += 1
            if t.actor is not None:
                clerks.add(t.actor)
            if t.window is not None:
                windows.add(t.window)
            if t.started_at is not None and t.finished_at is not None:
                service = t.finished_at - t.started_at
                service_sum += service
                if max_service is None or service > max_service:
                    max_service = service
                if min_service is None or service < min_service:
                    min_service = service
        elif t.missed:
            no_shows += 1
        if t.rating is not None:
            rated += 1
            levels[t.rating] += 1
            if t.rating in SATISFIED_LEVELS:
                satisfied += 1
    agent = classes[CaseClass.AGENT.value]
    accepted = sum(classes[c.value] for c in ACCEPTED_CLASSES)
    return Figures(
        issued=issued,
        called=called,
        served=served,
        no_shows=no_shows,
        transferred=transferred,
        avg_wait_s=_seconds(wait_sum / called) if called else None,
        max_wait_s=_seconds(max_wait),
        avg_service_s=_seconds(service_sum / served) if served else None,
        min_service_s=_seconds(min_service),
        max_service_s=_seconds(max_service),
        on_the_spot=served - agent,
        by_agent=agent,
        accepted=accepted,
        acceptance_rate=round(accepted / served, 4) if served else None,
        rated=rated,
        satisfied=satisfied,
        satisfaction_rate=round(satisfied / rated, 4) if rated else None,
        case_classes={c: classes[c] for c in CASE_CLASSES},
        p90_wait_s=_whole(p90_of(seconds)),
        ratings={level: levels[level] for level in RATING_LEVELS},
        staff=len(clerks),
        windows=len(windows),
    )


def _whole(seconds: int | None) -> float | None:
    return None if seconds is None else float(seconds)


def figures_from_events(events: Iterable[EventRow], start_us: int | None = None, end_us: int | None = None) -> Figures:
    """The figures of the tickets issued in [start_us, end_us), from the hall's events in log order."""
    return figures_of(FigureBuilder(start_us, end_us).feed(events).tickets.values())


def group_by(tickets: Iterable[TicketFacts], key: Callable[[TicketFacts], Hashable]) -> dict[Hashable, Figures]:
    groups: defaultdict[Hashable, list[TicketFacts]] = defaultdict(list)
    for t in tickets:
        groups[key(t)].append(t)
    return {k: figures_of(v) for k, v in groups.items()}


# --- the charts' series ----------------------------------------------------------------------


def local_datetime(us: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / US, tz)


_QUARTER_US = 15 * 60 * US  # every time zone's offset from UTC is a whole number of quarter hours


class LocalHours:
    """The local (date, hour) of instants, computed once per quarter hour (a month has ~3,000, not 60,000)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._known: dict[int, tuple[dt.date, int]] = {}

    def __call__(self, us: int) -> tuple[dt.date, int]:
        quarter = us // _QUARTER_US
        known = self._known.get(quarter)
        if known is None:
            moment = local_datetime(quarter * _QUARTER_US, self.tz)
            known = self._known[quarter] = (moment.date(), moment.hour)
        return known


def hourly_arrivals(tickets: Iterable[TicketFacts], tz: ZoneInfo) -> list[int]:
    """Tickets issued in each hour of the day (0–23, local time), over the whole period."""
    hours = [0] * 24
    local = LocalHours(tz)
    for t in tickets:
        hours[local(t.issued_at)[1]] += 1
    return hours


def wait_distribution(tickets: Iterable[TicketFacts]) -> list[int]:
    """Called tickets per wait bin of WAIT_BINS_MIN."""
    counts = [0] * len(WAIT_BINS_MIN)
    bounds = [m * 60 * US for m in WAIT_BINS_MIN]
    for t in tickets:
        wait = t.wait_us
        if wait is None:
            continue
        index = 0
        for i, bound in enumerate(bounds):
            if wait >= bound:
                index = i
        counts[index] += 1
    return counts


def service_by_item(tickets: Iterable[TicketFacts]) -> dict[str | None, tuple[int, float]]:
    """Per service item (None: the ticket was taken by category): (served, mean service time in s)."""
    sums: defaultdict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for t in tickets:
        service = t.service_us
        if t.state == "finished" and service is not None:
            entry = sums[t.item_id]
            entry[0] += 1
            entry[1] += service
    return {item: (count, round(total / count / US, 1)) for item, (count, total) in sums.items()}


def daily_counts(tickets: Iterable[TicketFacts], tz: ZoneInfo) -> dict[dt.date, tuple[int, int, int]]:
    """Per local day of issue: (issued, served, no-shows)."""
    days: defaultdict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    local = LocalHours(tz)
    for t in tickets:
        entry = days[local(t.issued_at)[0]]
        entry[0] += 1
        if t.state == "finished":
            entry[1] += 1
        elif t.missed:
            entry[2] += 1
    return {day: (a, b, c) for day, (a, b, c) in days.items()}


def waiting_now(tickets: Iterable[TicketFacts], now_us: int) -> dict[str, tuple[int, int]]:
    """Per category: (tickets waiting now, the longest wait so far in µs), counted from issue."""
    result: dict[str, tuple[int, int]] = {}
    for t in tickets:
        if t.waiting:
            count, longest = result.get(t.category, (0, 0))
            result[t.category] = (count + 1, max(longest, now_us - t.issued_at))
    return result


def case_class_labels() -> Mapping[str, tuple[str, str]]:
    return {c.value: (c.label_zh, c.label_en) for c in CaseClass}
