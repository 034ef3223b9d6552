"""What a simulated hall day is made of: demand per category, service times, windows, sessions and behaviour."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.schema import Hall

__all__ = [
    "DEFAULT_PROFILE",
    "CategoryModel",
    "Scenario",
    "ScenarioError",
    "apply_scenario_file",
    "from_hall",
    "mmc",
]

ServiceLaw = Literal["exponential", "lognormal"]

#: Relative arrival intensity by hour of day in a township hall: a morning peak from 9 to 11, a quieter
#: afternoon and a lull before closing. Hours not listed count as 1.
DEFAULT_PROFILE: Mapping[int, float] = {8: 1.0, 9: 1.8, 10: 1.6, 11: 1.0, 14: 0.7, 15: 1.0, 16: 0.9, 17: 0.5}


@dataclass(frozen=True)
class CategoryModel:
    """One category's demand and its true service times (the hall's configured time is what the EWMA starts from)."""

    code: str
    per_day: float  # expected arrivals over a whole day
    mean_s: float  # true mean service duration
    configured_s: float  # the hall's `service_minutes`, the server's starting estimate
    items: tuple[str, ...] = ()  # the service items citizens ask for (drawn uniformly)


@dataclass(frozen=True)
class Scenario:
    """Everything a simulated day needs besides the random numbers. Times are seconds since midnight."""

    categories: tuple[CategoryModel, ...]
    windows: tuple[tuple[int, tuple[str, ...]], ...]  # (number, categories in order of preference)
    sessions: tuple[tuple[float, float], ...]
    profile: Mapping[int, float] = field(default_factory=dict)
    service: ServiceLaw = "exponential"
    service_cv: float = 1.0  # coefficient of variation of the lognormal law (exponential: always 1)
    item_mean_s: Mapping[str, float] = field(default_factory=dict)  # true means of particular items
    green_share: float = 0.0
    appointment_share: float = 0.0
    no_show_p: float = 0.0  # a called citizen does not come to the window
    requeue_p: float = 0.0  # a no-show comes back to the kiosk and re-queues
    requeue_delay_s: tuple[float, float] = (300.0, 1800.0)
    recall_interval_s: float = 30.0  # the clerk recalls `recall_limit` times this far apart, then marks a no-show
    recall_limit: int = 3
    walk_mean_s: float = 0.0  # from the call to the start of service (exponential); the window is held
    pause_per_hour: float = 0.0  # clerk pauses per window and open hour (Poisson)
    pause_mean_s: float = 300.0  # mean pause length (exponential)
    priority_streak_max: int = 2
    requeue_behind: int = 3

    def category(self, code: str) -> CategoryModel:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)

    @property
    def open_s(self) -> float:
        return sum(end - start for start, end in self.sessions)

    @property
    def no_show_hold_s(self) -> float:
        """How long a no-show holds the window: the first call and each recall, `recall_interval_s` apart."""
        return self.recall_interval_s * (self.recall_limit + 1)

    def with_windows(self, windows: tuple[tuple[int, tuple[str, ...]], ...]) -> Scenario:
        return replace(self, windows=windows)


class ScenarioError(ValueError):
    """A scenario file or option that cannot be used, said with the field at fault."""


def _seconds(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def default_per_day(hall: Hall, means_s: Mapping[str, float], load: float) -> dict[str, float]:
    """Arrivals a day that keep the hall's windows `load` busy on average.

    Each window's open time is shared equally among the categories it serves; a category's demand is the
    open time it gets, times `load`, over its mean service time.
    """
    open_s = sum(_seconds(s.end) - _seconds(s.start) for s in hall.sessions)
    capacity: dict[str, float] = {c.code: 0.0 for c in hall.categories}
    for window in hall.windows:
        for code in window.categories:
            capacity[code] += open_s / len(window.categories)
    return {code: load * seconds / means_s[code] for code, seconds in capacity.items()}


def from_hall(
    hall: Hall,
    *,
    load: float = 0.7,
    service: ServiceLaw = "lognormal",
    service_cv: float = 0.6,
    service_scale: float = 1.0,
    profile: Mapping[int, float] | None = None,
    green_share: float = 0.08,
    no_show_p: float = 0.04,
    requeue_p: float = 0.5,
    walk_mean_s: float = 20.0,
    pause_per_hour: float = 0.4,
    pause_mean_s: float = 300.0,
) -> Scenario:
    """A realistic day in `hall`: its sessions, windows and categories, the default hourly profile, pauses.

    True mean service times are the configured `service_minutes` times `service_scale` (1 = the hall's
    figures are right); demand keeps the windows `load` busy on average over the day.
    """
    means = {c.code: c.service_minutes * 60.0 * service_scale for c in hall.categories}
    per_day = default_per_day(hall, means, load)
    items: dict[str, list[str]] = {c.code: [] for c in hall.categories}
    for item in hall.items:
        items.setdefault(item.category, []).append(item.id)
    return Scenario(
        categories=tuple(
            CategoryModel(c.code, per_day[c.code], means[c.code], c.service_minutes * 60.0, tuple(items[c.code]))
            for c in hall.categories
        ),
        windows=tuple((w.number, tuple(w.categories)) for w in hall.windows),
        sessions=tuple((_seconds(s.start), _seconds(s.end)) for s in hall.sessions),
        profile=dict(DEFAULT_PROFILE if profile is None else profile),
        service=service,
        service_cv=1.0 if service == "exponential" else service_cv,
        green_share=green_share,
        no_show_p=no_show_p,
        requeue_p=requeue_p,
        recall_limit=hall.queue.recall_limit,
        walk_mean_s=walk_mean_s,
        pause_per_hour=pause_per_hour,
        pause_mean_s=pause_mean_s,
        priority_streak_max=hall.queue.priority_streak_max,
        requeue_behind=hall.queue.no_show_requeue_behind,
    )


def mmc(servers: int, rho: float, mean_s: float = 300.0, horizon_s: float = 86_400.0) -> Scenario:
    """The textbook M/M/c queue: one category, `servers` identical windows, Poisson arrivals at utilization rho."""
    if servers < 1 or not 0 < rho < 1:
        raise ValueError(f"need servers >= 1 and 0 < rho < 1, got servers={servers}, rho={rho}")
    per_day = rho * servers * horizon_s / mean_s
    return Scenario(
        categories=(CategoryModel("q", per_day, mean_s, mean_s),),
        windows=tuple((n, ("q",)) for n in range(1, servers + 1)),
        sessions=((0.0, horizon_s),),
        service="exponential",
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioFile(_Strict):
    """A scenario file (TOML): every key is optional and overrides the realistic default built from the hall."""

    per_day: dict[str, float] = Field(default_factory=dict, description="expected arrivals a day, by category")
    service_minutes: dict[str, float] = Field(default_factory=dict, description="true mean service time, by category")
    item_minutes: dict[str, float] = Field(default_factory=dict, description="true mean service time, by item")
    profile: dict[int, float] | None = Field(None, description="relative arrival intensity by hour of day")
    service: ServiceLaw | None = None
    service_cv: float | None = Field(None, gt=0, le=5)
    green_share: float | None = Field(None, ge=0, le=1)
    appointment_share: float | None = Field(None, ge=0, le=1)
    no_show_p: float | None = Field(None, ge=0, le=1)
    requeue_p: float | None = Field(None, ge=0, le=1)
    walk_seconds: float | None = Field(None, ge=0, le=600)
    pauses_per_hour: float | None = Field(None, ge=0, le=10)
    pause_minutes: float | None = Field(None, gt=0, le=240)


def apply_scenario_file(scenario: Scenario, path: Path) -> Scenario:
    """Override `scenario` with the keys of the TOML file at `path`; ScenarioError names each bad field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = ScenarioFile.model_validate(data)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ScenarioError(f"{path}: {problems}") from None
    known = {c.code for c in scenario.categories}
    for key in ("per_day", "service_minutes"):
        for code, value in getattr(parsed, key).items():
            if code not in known:
                raise ScenarioError(f"{path}: {key}.{code}: no such category (known: {', '.join(sorted(known))})")
            if value < 0 or (key == "service_minutes" and value <= 0):
                raise ScenarioError(f"{path}: {key}.{code}: must be positive, got {value}")
    items = {item for c in scenario.categories for item in c.items}
    for item_id, minutes in parsed.item_minutes.items():
        if item_id not in items:
            raise ScenarioError(f"{path}: item_minutes.{item_id}: no such service item in the hall")
        if minutes <= 0:
            raise ScenarioError(f"{path}: item_minutes.{item_id}: must be positive, got {minutes}")
    categories = tuple(
        replace(
            c,
            per_day=parsed.per_day.get(c.code, c.per_day),
            mean_s=parsed.service_minutes[c.code] * 60.0 if c.code in parsed.service_minutes else c.mean_s,
        )
        for c in scenario.categories
    )
    changes: dict[str, object] = {"categories": categories}
    if parsed.item_minutes:
        changes["item_mean_s"] = {**scenario.item_mean_s, **{k: v * 60.0 for k, v in parsed.item_minutes.items()}}
    if parsed.profile is not None:
        changes["profile"] = dict(parsed.profile)
    simple = {
        "service": "service",
        "service_cv": "service_cv",
        "green_share": "green_share",
        "appointment_share": "appointment_share",
        "no_show_p": "no_show_p",
        "requeue_p": "requeue_p",
        "walk_seconds": "walk_mean_s",
        "pauses_per_hour": "pause_per_hour",
    }
    for key, attr in simple.items():
        value = getattr(parsed, key)
        if value is not None:
            changes[attr] = value
    if parsed.pause_minutes is not None:
        changes["pause_mean_s"] = parsed.pause_minutes * 60.0
    if changes.get("service") == "exponential":
        changes["service_cv"] = 1.0
    return replace(scenario, **changes)  # type: ignore[arg-type]
