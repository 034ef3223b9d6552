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
