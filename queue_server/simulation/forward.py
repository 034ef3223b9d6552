"""The best any estimator could do: the conditional mean of a ticket's wait given what the hall knows at issue.

At a sampled ticket's issue the day is forked `runs` times. Each fork keeps what the hall knows — every
waiting ticket's category, item, priority and place in the queue, each window's categories and state, when its
current ticket was called and whether that citizen has arrived and for how long they have been served, the
sessions still to come, the service-time laws — and draws afresh what it does not: the rest of each service in
progress (given how long it has lasted), the service, walk and no-show of every waiting ticket, whether a
called citizen who has not come yet will come (Bayes on the time since the call), the arrivals still to come,
the clerks' pauses (and the rest of a pause in progress: memoryless) and the order free windows call in. Each
fork runs until the ticket is first called. The mean of the waits is the least-squares optimum for that
information (the conditional mean) up to the Monte Carlo noise of `runs` forks; the forks' variance is kept so
that the noise's share, variance / runs, can be taken off the measured mean squared error.

Kept as the day has it (the hall cannot know it, and it is rare): when a no-show already marked comes back.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from queue_server.domain.routing import QueuedTicket
from queue_server.domain.windows import WindowState
from queue_server.simulation.arrivals import arrivals_after, redraw, residual_draw
from queue_server.simulation.engine import (
    _CLOSE,
    _FINISH,
    _NO_SHOW,
    _OPEN,
    _PAUSE,
    _REQUEUE,
    _RESUME,
    WindowStats,
    _Day,
    _Live,
    _Window,
)
from queue_server.simulation.metrics import percentile

__all__ = ["OPTIMUM", "Optimum", "forward_wait"]

OPTIMUM = "optimum"


def _fork(day: _Day, rng: random.Random) -> _Day:
    """A copy of the day as the hall knows it, with fresh draws of everything it does not (module docstring)."""
    s, now = day.s, day.now
    f = object.__new__(_Day)
    f.s, f.estimators, f.oracle, f.day, f.dispatch_rng = s, (), None, day.day, rng
    f.codes, f.queue, f.records = day.codes, dict(day.queue), list(day.records)  # new ids follow the real ones
    f.live = {
        i: _Live(replace(lv.record), redraw(s, rng, lv.arrival), lv.state, lv.requeued) for i, lv in day.live.items()
    }
    f.qlen, f.area, f.qmax, f.issued = dict(day.qlen), dict.fromkeys(day.codes, 0.0), dict(day.qmax), dict(day.issued)
    f.samples, f.sample_s, f.next_sample, f.now = [], 0.0, math.inf, now
    f.in_session, f.lost, f.turned_away, f.events, f.seq = day.in_session, 0, 0, [], 0
    f.windows = []
    for w in day.windows:
        fw = _Window(w.number, w.categories, WindowStats(w.number, w.categories), w.state, w.since, None, w.busy_since)
        fw.streak = w.streak
        f.windows.append(fw)
        if w.current is not None:
            _resume_service(f, fw, f.live[w.current.record.id], rng)
        if w.state is WindowState.PAUSED:
            f.push(now + rng.expovariate(1.0 / s.pause_mean_s), _RESUME, fw)
        for at in _pauses_after(day, rng):
            f.push(at, _PAUSE, (fw, rng.expovariate(1.0 / s.pause_mean_s)))
    for at, _, kind, payload in day.events:
        if kind in (_OPEN, _CLOSE):
            f.push(at, kind, payload)
        elif kind == _REQUEUE and isinstance(payload, _Live):
            f.push(at, kind, f.live[payload.record.id])
    return f


def _resume_service(f: _Day, w: _Window, live: _Live, rng: random.Random) -> None:
    s, now, record = f.s, f.now, live.record
    w.current = live
    if record.started_s is not None and record.started_s <= now:  # being served: the rest of the service
        mean = s.item_mean_s.get(record.item_id or "", s.category(record.category).mean_s)
        f.push(now + residual_draw(rng, mean, s.service, s.service_cv, now - record.started_s), _FINISH, w)
        return
    # Called and not come yet: a no-show, or still walking (exponential walks are memoryless).
    since = now - w.busy_since
    p = 0.0 if live.requeued else s.no_show_p
    still_walking = math.exp(-since / s.walk_mean_s) if s.walk_mean_s > 0 else 0.0
    no_show = p > 0 and rng.random() < p / (p + (1 - p) * still_walking)
    if no_show:
        back = rng.uniform(*s.requeue_delay_s) if rng.random() < s.requeue_p else None
        live.arrival = replace(live.arrival, no_show=True, requeue_after_s=back)
        f.push(max(now, w.busy_since + s.no_show_hold_s), _NO_SHOW, w)
        return
    live.arrival = replace(live.arrival, no_show=False)
    walk = rng.expovariate(1.0 / s.walk_mean_s) if s.walk_mean_s > 0 else 0.0
    record.started_s = now + walk
    f.push(record.started_s + live.arrival.service_s, _FINISH, w)


def _pauses_after(day: _Day, rng: random.Random) -> list[float]:
    if day.s.pause_per_hour <= 0:
        return []
    rate, times = day.s.pause_per_hour / 3600.0, []
    for start, end in day.s.sessions:
        t = max(start, day.now) + rng.expovariate(rate)
        while t < end:
            times.append(t)
            t += rng.expovariate(rate)
    return times


def forward_wait(day: _Day, live: _Live, ticket: QueuedTicket, rng: random.Random) -> float:
    """One forward run from the day's state with `ticket` just issued: its wait until its first call."""
    f = _fork(day, rng)
    record = replace(live.record)
    f.enqueue(_Live(record, redraw(f.s, rng, live.arrival)), ticket)
    f.loop(arrivals_after(f.s, rng, f.now), until=record)
    called = record.called_s if record.called_s is not None else f.now  # never called: the day's end, a bound
    return called - record.issued_s


class Optimum:
    """The engine's oracle: for a `share` of tickets, the mean of `runs` forward runs (and their spread)."""

    name = OPTIMUM
    label = "conditional mean given what the hall knows (forward simulation)"

    def __init__(self, runs: int = 40, share: float = 0.1, seed: int = 0, from_day: int = 0) -> None:
        if runs < 2 or not 0 < share <= 1:
            raise ValueError(f"need runs >= 2 and 0 < share <= 1, got runs={runs}, share={share}")
        self.runs, self.share, self.from_day = runs, share, from_day
        self.rng = random.Random(f"optimum/{seed}")  # its own stream: the day is the same with or without it

    def __call__(self, day: _Day, live: _Live, ticket: QueuedTicket) -> None:
        if day.day < self.from_day or self.rng.random() >= self.share:
            return
        waits = [forward_wait(day, live, ticket, random.Random(self.rng.getrandbits(64))) for _ in range(self.runs)]
        mean = sum(waits) / len(waits)
        record = live.record
        record.estimates[OPTIMUM] = mean
        record.spread_s2 = sum((w - mean) ** 2 for w in waits) / (len(waits) - 1)
        record.ranges[OPTIMUM] = (percentile(waits, 5), percentile(waits, 95))
