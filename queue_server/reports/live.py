"""The live picture of a hall: today's facts kept current from the event log, and the manager's wall.

Today's figures (issued, served, waits, who waits and for how long) come from the event log through
`TodayFacts`, which folds only the events it has not seen yet at each refresh, so the wall and the
clerks' consoles can ask after every event. The windows' live state (open, paused, who is on which
post, the current number) comes from the hall's runtime, as the boards show it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from config.calendar import calendar_notice
from config.schema import Hall
from queue_server.domain.workdays import WorkCalendar
from queue_server.link.status import LinkView
from queue_server.reports.cases import CaseFigures
from queue_server.reports.device_links import DeviceLink
from queue_server.reports.events import read_events
from queue_server.reports.figures import US, FigureBuilder, Figures, figures_of, waiting_now
from queue_server.reports.periods import local_midnight_us
from queue_server.runtime import HallRuntime
from queue_server.services.views import queue_summaries
from queue_server.store.writer import from_us

T = TypeVar("T")


class TodayFacts:
    """Per hall, the facts of the tickets of one service day, refreshed incrementally (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._halls: dict[str, tuple[dt.date, FigureBuilder]] = {}

    def use(self, conn: Connection, hall: Hall, day: dt.date, fn: Callable[[FigureBuilder], T]) -> T:
        """Bring the day's facts up to the newest event, then compute fn(facts) while holding them."""
        with self._lock:
            known = self._halls.get(hall.id)
            if known is None or known[0] != day:
                start = local_midnight_us(day, ZoneInfo(hall.timezone))
                builder = FigureBuilder(start, start + 24 * 3600 * US)
                self._halls[hall.id] = (day, builder)
            else:
                builder = known[1]
            assert builder.start_us is not None
            builder.feed(read_events(conn, hall.id, builder.start_us, after_seq=builder.last_seq))
            return fn(builder)


# --- the wall ------------------------------------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class WindowLive(Model):
    number: int
    name_zh: str
    name_en: str
    categories: list[str]
    state: Literal["closed", "open", "paused"]
    clerk: str | None
    clerk_name: str | None
    post: Literal["A", "B"] | None
    current_number: str | None
    current_state: Literal["called", "serving"] | None
    current_category: str | None
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    serving_s: int | None  # time in service of the current ticket
    since: dt.datetime | None  # when the window last opened, paused or resumed
    state_s: int | None  # how long it has been in its state
    paused_reason: str | None
    pause_alert: bool


class CategoryLive(Model):
    code: str
    prefix: str
    name_zh: str
    name_en: str
    colour: str
    waiting: int
    longest_wait_s: int | None
    estimated_wait_s: int | None  # None: no window serving the category is open
    wait_alert_minutes: int
    alert: bool


class Alert(Model):
    kind: Literal["wait", "pause", "calendar", "case_overdue", "case_due_soon", "complaint_overdue"]
    category: str | None = None
    window: int | None = None
    minutes: int | None = None  # a wait or a pause; None for the calendar
    threshold_minutes: int | None = None
    days_left: int | None = None  # the calendar: days until its last day (negative: it has run out)
    count: int | None = None  # cases: how many are overdue (逾期) or due soon; complaints: how many are overdue
    codes: list[str] = []  # cases: the first of them, oldest due first
    message_zh: str
    message_en: str


def calendar_alert(calendar: WorkCalendar, today: dt.date) -> Alert | None:
    """The wall's warning from 60 days before the working-day calendar runs out (config/calendar.py)."""
    notice = calendar_notice(calendar, today)
    if notice is None:
        return None
    return Alert(
        kind="calendar", days_left=notice.days_left, message_zh=notice.message_zh, message_en=notice.message_en
    )


def case_alert_list(overdue: list[str], overdue_count: int, due_soon: list[str], due_soon_count: int) -> list[Alert]:
    """The wall's case alerts (services/case_actions.case_alerts): overdue cases, and those due soon."""
    alerts = []
    if overdue_count:
        alerts.append(Alert(kind="case_overdue", count=overdue_count, codes=overdue,
                            message_zh=f"{overdue_count}件办件已逾期：{'、'.join(overdue[:5])}",
                            message_en=f"{overdue_count} case(s) overdue"))  # fmt: skip
    if due_soon_count:
        alerts.append(Alert(kind="case_due_soon", count=due_soon_count, codes=due_soon,
                            message_zh=f"{due_soon_count}件办件今日或下一个工作日到期",
                            message_en=f"{due_soon_count} case(s) due today or the next working day"))  # fmt: skip
    return alerts


def complaint_alert(overdue: int) -> Alert | None:
    """The wall's alert for complaints not answered by their due day (never their codes: the complainant's key)."""
    if not overdue:
        return None
    return Alert(kind="complaint_overdue", count=overdue, message_zh=f"{overdue}件投诉举报逾期未答复",
                 message_en=f"{overdue} complaint(s) overdue, not answered")  # fmt: skip


class Wall(Model):
    hall: str
    name_zh: str
    name_en: str
    day: dt.date | None
    now: dt.datetime
    seq: int
    windows: list[WindowLive]
    categories: list[CategoryLive]
    alerts: list[Alert]
    today: Figures
    pause_alert_minutes: int
    today_cases: CaseFigures | None = None  # 办件 of today: 办结率 = completed / cases (reports/cases.py)
    link: LinkView | None = None  # the hall's link up to its county (None: it does not ship)
    devices: list[DeviceLink] = []  # LED strips and caller keypads (reports/device_links.py)


@dataclass(frozen=True)
class LiveState:
    """What the wall takes from the runtime (read on the writer thread)."""

    day: dt.date | None
    seq: int
    windows: list[WindowLive]
    estimated_wait_s: dict[str, int | None]


def live_state(rt: HallRuntime, now_us: int) -> LiveState:
    hall = rt.hall
    pause_limit_us = hall.queue.pause_alert_minutes * 60 * US
    windows = []
    for config_window in hall.windows:
        live = rt.windows[config_window.number]
        current = rt.tickets.get(live.current_ticket) if live.current_ticket is not None else None
        current_state = current.state.value if current and current.state.value in ("called", "serving") else None
        started = current.started_at if current and current_state == "serving" else None
        windows.append(
            WindowLive(
                number=config_window.number,
                name_zh=config_window.name_zh,
                name_en=config_window.name_en,
                categories=list(config_window.categories),
                state=live.state.value,
                clerk=live.clerk,
                clerk_name=rt.clerk_names.get(live.clerk, live.clerk) if live.clerk else None,
                post=live.post.value if live.post else None,
                current_number=current.number if current else None,
                current_state=current_state,
                current_category=current.category if current else None,
                called_at=from_us(current.called_at) if current and current.called_at else None,
                started_at=from_us(started) if started else None,
                serving_s=max(0, (now_us - started) // US) if started else None,
                since=from_us(live.since) if live.since and live.state.value != "closed" else None,
                state_s=max(0, (now_us - live.since) // US) if live.since and live.state.value != "closed" else None,
                paused_reason=live.paused_reason,
                pause_alert=live.state.value == "paused" and live.since is not None
                and now_us - live.since >= pause_limit_us,
            )
        )  # fmt: skip
    estimates = {summary.category: summary.wait_s for summary in queue_summaries(rt)}
    return LiveState(rt.day, rt.last_seq, windows, estimates)


def build_wall(hall: Hall, state: LiveState, facts: FigureBuilder, now_us: int) -> Wall:
    """The manager's wall: windows, categories with their waits, alerts, and today's figures."""
    tickets = list(facts.tickets.values())
    waiting = waiting_now(tickets, now_us)
    categories, alerts = [], []
    for category in hall.categories:
        count, longest_us = waiting.get(category.code, (0, 0))
        longest = longest_us // US if count else None
        alert = longest is not None and longest >= category.wait_alert_minutes * 60
        categories.append(
            CategoryLive(
                code=category.code,
                prefix=category.prefix,
                name_zh=category.name_zh,
                name_en=category.name_en,
                colour=category.colour,
                waiting=count,
                longest_wait_s=longest,
                estimated_wait_s=state.estimated_wait_s.get(category.code),
                wait_alert_minutes=category.wait_alert_minutes,
                alert=alert,
            )
        )
        if alert and longest is not None:
            alerts.append(
                Alert(
                    kind="wait",
                    category=category.code,
                    minutes=longest // 60,
                    threshold_minutes=category.wait_alert_minutes,
                    message_zh=f"{category.name_zh}：最长已等候{longest // 60}分钟"
                    f"（超过{category.wait_alert_minutes}分钟）",
                    message_en=f"{category.name_en}: longest wait {longest // 60} min"
                    f" (over {category.wait_alert_minutes} min)",
                )
            )
    for window in state.windows:
        if window.pause_alert and window.state_s is not None:
            limit = hall.queue.pause_alert_minutes
            who = window.clerk_name or ""
            alerts.append(
                Alert(
                    kind="pause",
                    window=window.number,
                    minutes=window.state_s // 60,
                    threshold_minutes=limit,
                    message_zh=f"{window.number}号窗口（{who}）已暂停{window.state_s // 60}分钟"
                    f"：{window.paused_reason or ''}",
                    message_en=f"Window {window.number} ({who}) paused for {window.state_s // 60} min"
                    f" (over {limit} min)",
                )
            )
    return Wall(
        hall=hall.id,
        name_zh=hall.name_zh,
        name_en=hall.name_en,
        day=state.day,
        now=from_us(now_us),
        seq=max(state.seq, facts.last_seq),
        windows=state.windows,
        categories=categories,
        alerts=alerts,
        today=figures_of(tickets),
        pause_alert_minutes=hall.queue.pause_alert_minutes,
    )
