"""A day's arrivals (Poisson, with an hourly profile, within the opening sessions) and the clerks' pauses.

Everything random about a citizen is drawn when they arrive — item, priority, service duration, walk to
the window, whether they miss their call and come back — so the same day can be replayed under another
staffing and compared citizen by citizen (common random numbers).
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist

from queue_server.domain.tickets import Priority
from queue_server.simulation.scenario import Scenario, ScenarioError

__all__ = [
    "Arrival",
    "arrivals_after",
    "day_arrivals",
    "pause_plan",
    "point_seed",
    "read_arrivals_csv",
    "redraw",
    "residual_draw",
    "steady_arrivals",
    "stream",
]


@dataclass(frozen=True, slots=True)
class Arrival:
    """One citizen taking a ticket, with everything that will happen to them drawn in advance."""

    time_s: float  # seconds since midnight
    category: str
    item_id: str | None
    priority: Priority
    service_s: float  # the true duration of their service
    walk_s: float  # from being called to the start of service
    no_show: bool  # misses the first call
    requeue_after_s: float | None  # comes back to the kiosk this long after being marked a no-show (None: never)


def stream(seed: int, *labels: object) -> random.Random:
    """An independent random stream named by the seed and labels (stable across runs and Python versions)."""
    return random.Random("/".join(map(str, (seed, *labels))))


def point_seed(seed: int, *labels: object) -> int:
    """The seed of one scenario point (e.g. c and ρ, or a hall and its load): independent streams per point."""
    digest = hashlib.sha256("/".join(map(str, (seed, *labels))).encode()).digest()
    return int.from_bytes(digest[:6], "big")


def service_draw(rng: random.Random, mean_s: float, law: str, cv: float) -> float:
    """One service duration with the given mean: exponential, or lognormal with coefficient of variation cv."""
    if law == "exponential":
        return rng.expovariate(1.0 / mean_s)
    sigma2 = math.log1p(cv * cv)
    return rng.lognormvariate(math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2))


def _segments(scenario: Scenario) -> list[tuple[float, float, float]]:
    """(start, end, relative intensity) pieces of the open time, cut at each full hour."""
    pieces = []
    for start, end in scenario.sessions:
        t = start
        while t < end:
            hour = int(t // 3600)
            stop = min(end, (hour + 1) * 3600.0)
            weight = scenario.profile.get(hour, 1.0)
            if weight > 0:
                pieces.append((t, stop, weight))
            t = stop
    return pieces


def _citizen(
    scenario: Scenario,
    rng: random.Random,
    time_s: float,
    code: str,
    service_s: float | None = None,
    priority: Priority | None = None,
    item_id: str | None = None,
) -> Arrival:
    category = scenario.category(code)
    if item_id is None and category.items:
        item_id = category.items[rng.randrange(len(category.items))]
    if priority is None:
        u = rng.random()
        if u < scenario.green_share:
            priority = Priority.GREEN
        elif u < scenario.green_share + scenario.appointment_share:
            priority = Priority.APPOINTMENT
        else:
            priority = Priority.ORDINARY
    mean = scenario.item_mean_s.get(item_id, category.mean_s) if item_id else category.mean_s
    drawn = service_draw(rng, mean, scenario.service, scenario.service_cv)
    walk = rng.expovariate(1.0 / scenario.walk_mean_s) if scenario.walk_mean_s > 0 else 0.0
    no_show = scenario.no_show_p > 0 and rng.random() < scenario.no_show_p
    requeue = None
    if no_show and rng.random() < scenario.requeue_p:
        requeue = rng.uniform(*scenario.requeue_delay_s)
    return Arrival(time_s, code, item_id, priority, drawn if service_s is None else service_s, walk, no_show, requeue)


def residual_draw(rng: random.Random, mean_s: float, law: str, cv: float, elapsed_s: float) -> float:
    """The rest of a service that has already lasted `elapsed_s`: a draw of the law given it lasts longer."""
    if elapsed_s <= 0:
        return service_draw(rng, mean_s, law, cv)
    if law == "exponential":
        return rng.expovariate(1.0 / mean_s)  # memoryless
    sigma2 = math.log1p(cv * cv)
    law_of_log = NormalDist(math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2))
    done = law_of_log.cdf(math.log(elapsed_s))
    u = done + (1.0 - done) * rng.random()
    if u >= 1.0 - 1e-12:  # far in the tail: the conditional law is close to its start
        return 1.0
    return max(1.0, math.exp(law_of_log.inv_cdf(u)) - elapsed_s)


def redraw(scenario: Scenario, rng: random.Random, arrival: Arrival) -> Arrival:
    """The same citizen (time, category, item, priority: what the hall knows) with fresh draws of the rest."""
    fresh = _citizen(scenario, rng, arrival.time_s, arrival.category, None, arrival.priority, arrival.item_id)
    return replace(arrival, service_s=fresh.service_s, walk_s=fresh.walk_s, no_show=fresh.no_show,
                   requeue_after_s=fresh.requeue_after_s)  # fmt: skip


def arrivals_after(scenario: Scenario, rng: random.Random, start_s: float) -> Iterator[Arrival]:
    """Fresh arrivals from `start_s` to the end of the day, generated lazily in time order (forward runs).

    Every category follows the same hourly profile, so the day's arrivals are one Poisson process of the total
    rate, each arrival's category drawn in proportion to its demand.
    """
    pieces = _segments(scenario)
    weighted = sum((end - start) * w for start, end, w in pieces)
    codes = [c.code for c in scenario.categories if c.per_day > 0]
    demand = [c.per_day for c in scenario.categories if c.per_day > 0]
    total = sum(demand)
    if weighted <= 0 or total <= 0:
        return
    for start, end, weight in pieces:
        if end <= start_s:
            continue
        rate = total * weight / weighted
        t = max(start, start_s) + rng.expovariate(rate)
        while t < end:
            code = rng.choices(codes, demand)[0]
            yield _citizen(scenario, rng, t, code)
            t += rng.expovariate(rate)


def day_arrivals(scenario: Scenario, seed: int, day: int) -> list[Arrival]:
    """A day's arrivals in time order: per category a Poisson process whose rate follows the hourly profile."""
    pieces = _segments(scenario)
    weighted = sum((end - start) * w for start, end, w in pieces)
    arrivals: list[Arrival] = []
    if weighted <= 0:
        return arrivals
    for category in scenario.categories:
        if category.per_day <= 0:
            continue
        times = stream(seed, day, "arrivals", category.code)
        traits = stream(seed, day, "citizens", category.code)
        for start, end, weight in pieces:
            rate = category.per_day * weight / weighted  # per second; memoryless, so each piece restarts exactly
            t = start + times.expovariate(rate)
            while t < end:
                arrivals.append(_citizen(scenario, traits, t, category.code))
                t += times.expovariate(rate)
    arrivals.sort(key=lambda a: a.time_s)
    return arrivals


def steady_arrivals(scenario: Scenario, seed: int, replication: int) -> Iterator[Arrival]:
    """Arrivals of a constant-rate scenario, generated lazily (long validation runs need no list)."""
    (start, end), (category,) = scenario.sessions[0], scenario.categories
    rate = category.per_day / (end - start)
    times = stream(seed, replication, "arrivals", category.code)
    traits = stream(seed, replication, "citizens", category.code)
    t = start + times.expovariate(rate)
    while t < end:
        yield _citizen(scenario, traits, t, category.code)
        t += times.expovariate(rate)


def pause_plan(scenario: Scenario, seed: int, day: int, window: int) -> list[tuple[float, float]]:
    """When a window's clerk asks for a pause, and for how long: Poisson over the open time, exponential lengths."""
    if scenario.pause_per_hour <= 0:
        return []
    rng = stream(seed, day, "pauses", window)
    rate = scenario.pause_per_hour / 3600.0
    plan = []
    for start, end in scenario.sessions:
        t = start + rng.expovariate(rate)
        while t < end:
            plan.append((t, rng.expovariate(1.0 / scenario.pause_mean_s)))
            t += rng.expovariate(rate)
    return plan


def _clock(text: str) -> float:
    parts = text.strip().split(":")
    if len(parts) == 1:
        return float(parts[0])
    if len(parts) not in (2, 3):
        raise ValueError(text)
    hours, minutes, seconds = (*map(float, parts), 0.0)[:3]
    return hours * 3600 + minutes * 60 + seconds


def read_arrivals_csv(path: Path, scenario: Scenario, seed: int, day: int = 0) -> list[Arrival]:
    """A real day's arrivals from a CSV with columns `time` (HH:MM[:SS]) and `category`, and optionally
    `priority` (ordinary/green/appointment), `item_id` and `service_minutes`; what is missing is drawn."""
    rng = stream(seed, day, "csv")
    known = {c.code for c in scenario.categories}
    arrivals: list[Arrival] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields: Sequence[str] = reader.fieldnames or ()
            missing = [name for name in ("time", "category") if name not in fields]
            if missing:
                raise ScenarioError(f"{path}: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                try:
                    at = _clock(row["time"])
                    code = row["category"].strip()
                    if code not in known:
                        raise ValueError(f"no category {code!r}")
                    priority = Priority(row["priority"].strip()) if (row.get("priority") or "").strip() else None
                    minutes = (row.get("service_minutes") or "").strip()
                    service_s = float(minutes) * 60 if minutes else None
                    if service_s is not None and not service_s > 0:
                        raise ValueError("service_minutes must be positive")
                    item = (row.get("item_id") or "").strip() or None
                except (ValueError, KeyError) as error:
                    raise ScenarioError(f"{path}:{line}: {error}") from None
                arrivals.append(_citizen(scenario, rng, at, code, service_s, priority, item))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the arrivals: {error.strerror}") from None
    arrivals.sort(key=lambda a: a.time_s)
    return arrivals
