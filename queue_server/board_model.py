"""What a board knows about a hall, kept up to date by applying the server's messages in seq order.

Plain Python (no I/O, no clock, no Kivy): the display board and the kiosk hold one `BoardModel` each
and feed it every message of the board websocket (see `queue_server.feed`).

Rules:
- A snapshot replaces everything, whatever its seq: it is the server's whole state, so applying it
  again is harmless, and a snapshot with a *lower* seq than ours means the server's event log was
  reset (a new database) — keeping our higher seq would make us ignore every event that follows.
- An event (call, ticket, window, day) is applied only when its seq is greater than the last seq
  seen, so an event delivered twice (a resume that overlaps what we had) is applied once.
- A pong carries no state; it is never applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from queue_server.protocol import (
    CallMessage,
    CallView,
    DayMessage,
    Pong,
    QueueSummary,
    ServerMessage,
    Snapshot,
    TicketMessage,
    WindowMessage,
    WindowView,
)

RECENT_CALLS = 10  # the server keeps the same number (queue_server.runtime.RECENT_CALLS)

# Ticket events after which the ticket is no longer at its window.
_LEAVES_WINDOW = frozenset({"finished", "no_show", "transferred", "returned"})


@dataclass(frozen=True)
class LatestCall:
    """The call a board shows largest: the number, the window it goes to, when, and which recall it is."""

    number: str
    window: int
    window_name_zh: str
    window_name_en: str
    at: dt.datetime
    recall: int = 0


@dataclass
class BoardModel:
    """A hall's public state as the board websocket describes it."""

    recent_limit: int = RECENT_CALLS
    seq: int | None = None  # the last seq applied; None before the first snapshot
    hall: str = ""
    name_zh: str = ""
    name_en: str = ""
    notice_zh: str = ""
    notice_en: str = ""
    supervision_phone: str = ""
    day: dt.date | None = None
    windows: dict[int, WindowView] = field(default_factory=dict)  # by window number, in the hall's order
    queues: dict[str, QueueSummary] = field(default_factory=dict)  # by category code, in the hall's order
    recent_calls: list[CallView] = field(default_factory=list)  # newest first
    latest_call: LatestCall | None = None

    @property
    def ready(self) -> bool:
        """True once a snapshot has been applied (before that the model knows nothing)."""
        return self.seq is not None

    def is_new(self, message: ServerMessage) -> bool:
        """Would `apply` change the model? (Snapshots always; events only with a seq beyond ours.)"""
        if isinstance(message, Snapshot):
            return True
        if isinstance(message, Pong):
            return False
        return self.seq is not None and message.seq > self.seq

    def apply(self, message: ServerMessage) -> bool:
        """Apply one message; return False (and change nothing) for a pong or an event already seen.

        An event that arrives before any snapshot is not applied either: without the state it
        changes it would describe half a board; the feed always starts from a snapshot or a resume.
        """
        if not self.is_new(message):
            return False
        match message:
            case Snapshot():
                self._apply_snapshot(message)
            case CallMessage():
                self._apply_call(message)
            case TicketMessage():
                self._apply_ticket(message)
            case WindowMessage():
                self.windows[message.window.number] = message.window
                self._set_queues(message.queues)
            case DayMessage():
                self._apply_day(message)
        self.seq = message.seq
        return True

    # -- one method per message type ---------------------------------------------------------

    def _apply_snapshot(self, message: Snapshot) -> None:
        board = message.board
        self.hall, self.name_zh, self.name_en = board.hall, board.name_zh, board.name_en
        self.notice_zh, self.notice_en = board.notice_zh, board.notice_en
        self.supervision_phone, self.day = board.supervision_phone, board.day
        self.windows = {w.number: w for w in board.windows}
        self._set_queues(board.queues)
        self.recent_calls = list(board.recent_calls[: self.recent_limit])
        self.latest_call = None
        if self.recent_calls:
            newest = self.recent_calls[0]
            window = self.windows.get(newest.window)
            self.latest_call = LatestCall(
                number=newest.number,
                window=newest.window,
                window_name_zh=window.name_zh if window else "",
                window_name_en=window.name_en if window else "",
                at=newest.at,
            )

    def _apply_call(self, message: CallMessage) -> None:
        number = message.ticket.number
        window = self.windows.get(message.window)
        if window is not None:
            self.windows[message.window] = window.model_copy(
                update={"current_number": number, "current_state": "called"}
            )
        self.recent_calls.insert(0, CallView(number=number, window=message.window, at=message.at))
        del self.recent_calls[self.recent_limit :]
        self.latest_call = LatestCall(
            number=number,
            window=message.window,
            window_name_zh=message.window_name_zh,
            window_name_en=message.window_name_en,
            at=message.at,
            recall=message.recall,
        )
        self._set_queues(message.queues)

    def _apply_ticket(self, message: TicketMessage) -> None:
        number = message.ticket.number
        for key, window in self.windows.items():
            if window.current_number != number:
                continue
            if message.event == "started" and key == message.window:
                self.windows[key] = window.model_copy(update={"current_state": "serving"})
            elif message.event in _LEAVES_WINDOW:
                self.windows[key] = window.model_copy(update={"current_number": None, "current_state": None})
        self._set_queues(message.queues)

    def _apply_day(self, message: DayMessage) -> None:
        # The server closes every window except one still serving a ticket (its clerk finishes it).
        for key, window in self.windows.items():
            if window.current_state != "serving":
                self.windows[key] = window.model_copy(
                    update={
                        "state": "closed",
                        "post": None,
                        "clerk_name": None,
                        "current_number": None,
                        "current_state": None,
                        "paused_reason": None,
                    }
                )
        # A new day starts with an empty call list, as a restarted server's snapshot would show.
        self.recent_calls = []
        self.latest_call = None
        self._set_queues(message.queues)

    def _set_queues(self, queues: Iterable[QueueSummary]) -> None:
        self.queues = {q.category: q for q in queues}
