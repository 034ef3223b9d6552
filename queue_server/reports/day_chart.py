"""The live wall's charts of the service day, folded from the hall's event log (a pure function of the events).

Definitions (shown on the manager's wall beside each chart):

- queue length (等候人数): tickets issued and not yet called for the first time (a transfer or a
  re-queue does not put a ticket back in this count). Per hour: its time-weighted mean over the part
  of the hour that has passed, and its maximum.
- wait (等候时间): from issue to the first call, of the tickets first called in that hour: mean and maximum.
- service level (服务达标率): of the tickets that were called, or still wait, today: the share called
  within the hall's target (`queue.service_target_minutes`, default 15). A ticket still waiting longer
  than the target already counts as missed; one waiting less is not counted yet. None before any.
- load per window and per clerk: while a window is open, each second is serving (a ticket called
  there and not yet finished, marked no-show, transferred or returned: the walk to the window
  counts), paused (暂停), or idle (open, nobody at the window). A clerk's time is that of the window
  while they hold it (opened or taken over), up to its close, the day's close or now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from queue_server.reports.events import EventRow, read_events

US = 1_000_000
_ENDS_SERVICE = frozenset({"ticket.finished", "ticket.no_show", "ticket.transferred", "ticket.returned"})


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class HourPoint(Model):
    hour: int  # the hall's local hour, 0–23
    queue_mean: float | None  # None for an hour that has not begun
    queue_max: int
    called: int  # tickets first called in the hour
    wait_mean_s: float | None
    wait_max_s: float | None


class Load(Model):
    key: str  # the window number, or the clerk's username
    serving_s: float
    idle_s: float
    paused_s: float


class ServiceLevel(Model):
    target_minutes: int
    within: int  # called within the target
    counted: int  # called, plus still waiting longer than the target
    rate: float | None


class DayChart(Model):
    hours: list[HourPoint]
    windows: list[Load]
    clerks: list[Load]
    service_level: ServiceLevel


@dataclass
class _Window:
    state: str = "closed"  # closed, open, paused
    clerk: str | None = None
    since: int = 0  # when the current segment began
    busy: int | None = None  # the ticket at the window


@dataclass
class _Totals:
    serving: float = 0.0
    idle: float = 0.0
    paused: float = 0.0


@dataclass
class _Fold:
    start_us: int
    now_us: int
    target_us: int
    windows: dict[int, _Window] = field(default_factory=lambda: defaultdict(_Window))
    by_window: dict[int, _Totals] = field(default_factory=lambda: defaultdict(_Totals))
    by_clerk: dict[str, _Totals] = field(default_factory=lambda: defaultdict(_Totals))
    issued: dict[int, int] = field(default_factory=dict)  # ticket → issued at, until its first call
    queue_steps: list[tuple[int, int]] = field(default_factory=list)  # (at, +1 / −1)
    waits: list[tuple[int, int]] = field(default_factory=list)  # (first call at, wait)

    def close_segment(self, number: int, at: int) -> None:
        w = self.windows[number]
        if w.state != "closed" and at > w.since:
            seconds = (at - w.since) / US
            kind = "paused" if w.state == "paused" else ("serving" if w.busy is not None else "idle")
            for totals in (self.by_window[number], *([self.by_clerk[w.clerk]] if w.clerk else [])):
                setattr(totals, kind, getattr(totals, kind) + seconds)
        w.since = at

    def window_event(self, event: EventRow, number: int) -> None:
        self.close_segment(number, event.at)
        w = self.windows[number]
        kind = event.type
        if kind in ("window.opened", "window.taken_over"):
            w.state, w.clerk = "open", event.actor
        elif kind == "window.paused":
            w.state = "paused"
        elif kind == "window.resumed":
            w.state = "open"
        elif kind == "window.closed":
            w.state, w.clerk, w.busy = "closed", None, None

    def feed(self, events: Iterable[EventRow]) -> None:
        for event in events:
            if event.at >= self.now_us:
                break
            kind = event.type
            if kind == "ticket.issued" and event.ticket_id is not None and event.at >= self.start_us:
                self.issued[event.ticket_id] = event.at
                self.queue_steps.append((event.at, 1))
            elif kind == "ticket.called" and event.ticket_id is not None:
                issued = self.issued.pop(event.ticket_id, None)
                if issued is not None:
                    self.queue_steps.append((event.at, -1))
                    self.waits.append((event.at, event.at - issued))
                if event.window is not None:
                    self.close_segment(event.window, event.at)
                    self.windows[event.window].busy = event.ticket_id
            elif kind in _ENDS_SERVICE and event.window is not None:
                w = self.windows[event.window]
                if w.busy == event.ticket_id:
                    self.close_segment(event.window, event.at)
                    w.busy = None
            elif kind.startswith("window.") and event.window is not None:
                self.window_event(event, event.window)
            elif kind == "day.closed":
                for number in list(self.windows):
                    self.close_segment(number, event.at)
                    self.windows[number] = _Window(since=event.at)
                self.queue_steps.extend((event.at, -1) for _ in self.issued)  # expired: no longer waiting
                self.issued.clear()
        for number in list(self.windows):
            self.close_segment(number, self.now_us)


def _hours(fold: _Fold, hour_us: int) -> list[HourPoint]:
    steps = sorted(fold.queue_steps)
    points = []
    length, i = 0, 0
    for hour in range(24):
        begin = fold.start_us + hour * hour_us
        end = min(begin + hour_us, fold.now_us)
        if begin >= fold.now_us:
            points.append(HourPoint(hour=hour, queue_mean=None, queue_max=0, called=0, wait_mean_s=None,
                                    wait_max_s=None))  # fmt: skip
            continue
        area, peak, at = 0.0, length, begin
        while i < len(steps) and steps[i][0] < end:
            step_at, delta = steps[i]
            area += length * (max(step_at, begin) - at)
            at = max(step_at, begin)
            length += delta
            peak = max(peak, length)
            i += 1
        area += length * (end - at)
        waits = [w for t, w in fold.waits if begin <= t < begin + hour_us]
        points.append(
            HourPoint(
                hour=hour,
                queue_mean=round(area / (end - begin), 2) if end > begin else float(length),
                queue_max=peak,
                called=len(waits),
                wait_mean_s=round(sum(waits) / len(waits) / US, 1) if waits else None,
                wait_max_s=round(max(waits) / US, 1) if waits else None,
            )
        )
    return points


def _loads(totals: dict[int, _Totals] | dict[str, _Totals]) -> list[Load]:
    return [
        Load(key=str(key), serving_s=round(t.serving, 1), idle_s=round(t.idle, 1), paused_s=round(t.paused, 1))
        for key, t in sorted(totals.items(), key=lambda kv: (isinstance(kv[0], str), kv[0]))
    ]


def day_chart(
    events: Iterable[EventRow], *, start_us: int, now_us: int, target_minutes: int, hour_us: int = 3600 * US
) -> DayChart:
    """The charts of the service day that began at `start_us` (local midnight), up to `now_us`."""
    fold = _Fold(start_us=start_us, now_us=now_us, target_us=target_minutes * 60 * US)
    fold.feed(events)
    within = sum(1 for _, wait in fold.waits if wait <= fold.target_us)
    late_waiting = sum(1 for issued in fold.issued.values() if now_us - issued > fold.target_us)
    counted = len(fold.waits) + late_waiting
    return DayChart(
        hours=_hours(fold, hour_us),
        windows=_loads(fold.by_window),
        clerks=_loads(fold.by_clerk),
        service_level=ServiceLevel(
            target_minutes=target_minutes,
            within=within,
            counted=counted,
            rate=round(within / counted, 4) if counted else None,
        ),
    )


def read_day_chart(conn: Connection, hall: str, start_us: int, now_us: int, target_minutes: int) -> DayChart:
    """The charts of the hall's day that began at `start_us`, from its events (module-level: it runs in the
    store's report process)."""
    rows = read_events(conn, hall, start_us, start_us + 24 * 3600 * US)
    return day_chart(rows, start_us=start_us, now_us=now_us, target_minutes=target_minutes)
