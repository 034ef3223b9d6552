"""What is said for a call, as a list of clip names; pure functions, no I/O.

A call is said as: 请 · the ticket number · 号到 · the window number · 号窗口办理, e.g. for A001 at
window 12: 请 A 零 零 一 号到 十二 号窗口办理.

- The ticket number is read letter by letter and digit by digit (A001 → A 零 零 一), as halls do so
  that 001 is never heard as "one". The digit 1 is read 一 (yī), the common reading in service halls;
  a hall that prefers 幺 (yāo), as on the telephone, records its own `digit_1.wav`.
- The window number is read as a Chinese number (12 → 十二, 20 → 二十, 105 → 一百零五,
  110 → 一百一十, 200 → 二百), from the separate `num_*` clips, so a hall can use 幺 for ticket
  digits and still say 十一号窗口.
"""

from __future__ import annotations

import re

# The letter prefix and the sequence as queue_server.domain.numbering.format_number writes it:
# A001 ... A999, then A1000 ... A9999.
NUMBER_PATTERN = re.compile(r"^[A-Z](?:[0-9]{3}|[1-9][0-9]{3})$")
MAX_WINDOW = 999


def valid_number(number: str) -> bool:
    """Is `number` a ticket number as the hall prints them (A001, A1000), not A000 or a001?"""
    return bool(NUMBER_PATTERN.match(number)) and int(number[1:]) > 0


def number_clips(number: str) -> list[str]:
    """The clips of a ticket number, read letter by letter and digit by digit: A001 → A 零 零 一."""
    if not valid_number(number):
        raise ValueError(f"not a ticket number: {number!r} (expected a capital letter and 3 or 4 digits, e.g. A001)")
    return [f"letter_{number[0].lower()}", *(f"digit_{digit}" for digit in number[1:])]


def window_clips(window: int) -> list[str]:
    """The clips of a window number read as a Chinese number: 3 → 三, 12 → 十二, 105 → 一百零五."""
    if not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"a window number is from 1 to {MAX_WINDOW}, got {window}")
    hundreds, tens, ones = window // 100, window // 10 % 10, window % 10
    clips: list[str] = []
    if hundreds:
        clips += [f"num_{hundreds}", "num_100"]
    if tens:
        if hundreds or tens > 1:  # 十二, not 一十二; but 一百一十 keeps its 一
            clips.append(f"num_{tens}")
        clips.append("num_10")
    elif hundreds and ones:
        clips.append("num_0")  # 一百零五
    if ones:
        clips.append(f"num_{ones}")
    return clips


def phrase_clips(number: str, window: int) -> list[str]:
    """One saying of the call, without the chime: 请 A 零 零 一 号到 三 号窗口办理."""
    return ["qing", *number_clips(number), "hao_dao", *window_clips(window), "hao_chuangkou_banli"]


def announcement_path(hall: str, number: str, window: int) -> str:
    """The server path of a call's spoken audio (served by queue_server.api.routes_voice)."""
    return f"/api/v1/halls/{hall}/announcements/{number}/{window}.wav"
