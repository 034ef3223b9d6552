"""The words printed for values: waits, time limits, fees, dates, windows (Chinese and English)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from printer.model import WindowRef


def wait_zh(seconds: int | None) -> str:
    if seconds is None:
        return "暂无法估计"
    if seconds < 60:
        return "不足1分钟"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"约{minutes}分钟"
    return f"约{hours}小时{minutes}分钟" if minutes else f"约{hours}小时"


def wait_en(seconds: int | None) -> str:
    if seconds is None:
        return "not available"
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"about {minutes} min"
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"


def _minutes_span(span_s: tuple[int, int]) -> tuple[int, int]:
    # Outward to whole minutes: the printed range holds at least what was measured.
    low, high = span_s
    return max(0, low // 60), max(1, -(-high // 60))


def estimate_zh(seconds: int | None, span_s: tuple[int, int] | None, rough: bool = False) -> str:
    """The estimated wait as a range ("约10–20分钟"), said to be rough when it is; the single figure without one."""
    if span_s is None or seconds is None or span_s[1] < 60:
        text = wait_zh(seconds)
    else:
        low, high = _minutes_span(span_s)
        text = f"约{low}–{high}分钟"
    return f"{text}（粗略估计）" if rough and seconds is not None else text


def estimate_en(seconds: int | None, span_s: tuple[int, int] | None, rough: bool = False) -> str:
    if span_s is None or seconds is None or span_s[1] < 60:
        text = wait_en(seconds)
    else:
        low, high = _minutes_span(span_s)
        text = f"about {low}–{high} min"
    return f"{text} (rough estimate)" if rough and seconds is not None else text


def ahead_zh(ahead: int) -> str:
    return f"前面还有{ahead}人等候" if ahead else "前面没有人等候"


def ahead_en(ahead: int) -> str:
    if not ahead:
        return "You are next"
    return f"{ahead} {'person' if ahead == 1 else 'people'} ahead of you"


def windows_zh(windows: Sequence[WindowRef]) -> list[str]:
    """One entry per window (printed one under the other, so a window's name is never split)."""
    if not windows:
        return ["请留意叫号屏"]
    return [f"{window.number}号 {window.name_zh}" for window in windows]


def windows_en(windows: Sequence[WindowRef]) -> str:
    if not windows:
        return "Watch the display board"
    return "; ".join(f"{window.number} {window.name_en}" for window in windows)


def time_limit_zh(promised_days: int) -> str:
    return f"{promised_days}个工作日内办结" if promised_days else "当场办结"


def time_limit_en(promised_days: int) -> str:
    if not promised_days:
        return "Done on the spot"
    return f"Within {promised_days} working day{'s' if promised_days != 1 else ''}"


def yuan(amount: Decimal) -> str:
    """An amount in yuan with the full-width sign (GBK A3A4, safe on every Chinese printer)."""
    return f"￥{amount:.2f}"


def date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def minute(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"
