"""Ticket numbers: the printed number, the next sequence under a daily cap, and the hall's service day."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from queue_server.domain.errors import CategoryFull

__all__ = ["format_number", "next_seq", "service_day"]


def format_number(prefix: str, seq: int) -> str:
    """The printed and announced number: "A001" ... "A999", then "A1000" (never wraps back to a used number)."""
    if seq < 1:
        raise ValueError(f"a ticket sequence starts at 1, got {seq}")
    return f"{prefix}{seq:03d}"


def next_seq(last_seq: int, cap: int, category: str) -> int:
    """The sequence after `last_seq` for `category` today, or CategoryFull once it would exceed `cap`."""
    if last_seq < 0:
        raise ValueError(f"the last sequence cannot be negative, got {last_seq}")
    if cap < 0:
        raise ValueError(f"a daily cap cannot be negative, got {cap}")
    seq = last_seq + 1
    if seq > cap:
        raise CategoryFull(category, cap)
    return seq


def service_day(now: datetime, tz: tzinfo) -> date:
    """The hall's local calendar date at the aware instant `now` (numbers restart on each service day)."""
    if now.tzinfo is None or now.utcoffset() is None:
        # A naive time would silently be read in the server's zone, which need not be the hall's.
        raise ValueError(f"now must be timezone-aware, got the naive datetime {now.isoformat()}")
    return now.astimezone(tz).date()
