"""Which of a hall's categories a public message concerns: what a phone following one ticket is sent.

A board follows the whole hall (`/ws/halls/{hall}/board`). A citizen's phone follows its ticket's category
(`…/board?category=X`): of the hall's stream it needs only what can move that ticket, the same rule its page
applied when every phone got everything (web/phone/track.js `relevant`):

- a call or a ticket change of category X, or at a window that serves X (a call there is one window fewer
  for X, a finish one more);
- a window of X opening, pausing, resuming, changing post or closing;
- a snapshot and the day's close: everyone.

Ratings, appointments, cases and complaints concern no ticket's follower. The message keeps its hall-wide
seq, so a follower sees gaps: it resumes with `?since=` its last seq like a board, and is sent the missed
messages of its category. With 9 categories and windows serving two each, a phone gets about a quarter of
the hall's messages, and a server writes each event to about a quarter of the phones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from config.schema import Hall

Topic = frozenset[str] | None
"""The categories a message concerns; None: every follower (a snapshot, the day's close)."""

WindowCategories = Mapping[int, frozenset[str]]

EVERYONE = ("snapshot", "day_closed")


def window_categories(hall: Hall) -> dict[int, frozenset[str]]:
    return {w.number: frozenset(w.categories) for w in hall.windows}


def topic(message: Mapping[str, object], windows: WindowCategories) -> Topic:
    kind = message.get("type")
    if kind in EVERYONE:
        return None
    if kind in ("call", "ticket"):
        ticket = message.get("ticket")
        category = ticket.get("category") if isinstance(ticket, Mapping) else None
        window = message.get("window")
        served = windows.get(window, frozenset()) if isinstance(window, int) else frozenset()
        return served | {category} if isinstance(category, str) else served
    if kind == "window":
        window = message.get("window")
        number = window.get("number") if isinstance(window, Mapping) else None
        return windows.get(number, frozenset()) if isinstance(number, int) else frozenset()
    return frozenset()


def topic_of_text(text: str, windows: WindowCategories) -> Topic:
    """`topic` of a serialized message (as published and as kept in the event log)."""
    return topic(json.loads(text), windows)


def follows(category: str | None, message_topic: Topic) -> bool:
    """Whether a follower of `category` (None: the whole hall) is sent a message of this topic."""
    return category is None or message_topic is None or category in message_topic
