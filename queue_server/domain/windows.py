"""A service window's own small state machine: closed, open, paused, and the one table of what each action needs."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from queue_server.domain.errors import WindowStateError

__all__ = ["TICKET_ACTIONS", "WINDOW_ACTIONS", "Post", "WindowState", "check_window_action"]


class WindowState(StrEnum):
    """Whether a window is staffed and calling."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"

    @property
    def label_zh(self) -> str:
        return _WINDOW_STATE_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _WINDOW_STATE_TEXT[self][1]


_WINDOW_STATE_TEXT: Mapping[WindowState, tuple[str, str]] = MappingProxyType(
    {
        WindowState.CLOSED: ("未开放", "closed"),
        WindowState.OPEN: ("服务中", "open"),
        WindowState.PAUSED: ("暂停服务", "paused"),
    }
)


class Post(StrEnum):
    """The clerk's post at a window: A-post (A岗) or the backup B-post (B岗)."""

    A = "A"
    B = "B"

    @property
    def label_zh(self) -> str:
        return f"{self.value}岗"

    @property
    def label_en(self) -> str:
        return f"{self.value}-post"


_W = WindowState

#: Actions on the window's tickets: they all need an open window and leave its state as it is.
TICKET_ACTIONS: frozenset[str] = frozenset({"call_next", "call", "recall", "start", "finish", "no_show", "transfer"})

#: The one table: action -> (the window states it accepts, the state it leads to; None = unchanged).
WINDOW_ACTIONS: Mapping[str, tuple[frozenset[WindowState], WindowState | None]] = MappingProxyType(
    {
        "open": (frozenset({_W.CLOSED}), _W.OPEN),
        # The other post takes over a paused window (e.g. the A-post is away): it reopens under the new clerk.
        "takeover": (frozenset({_W.PAUSED}), _W.OPEN),
        "pause": (frozenset({_W.OPEN}), _W.PAUSED),
        "resume": (frozenset({_W.PAUSED}), _W.OPEN),
        "close": (frozenset({_W.OPEN, _W.PAUSED}), _W.CLOSED),
        **{action: (frozenset({_W.OPEN}), None) for action in sorted(TICKET_ACTIONS)},
    }
)

# How each action reads in a sentence: (English gerund, Chinese verb phrase).
_ACTION_TEXT: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "open": ("opening", "开窗"),
        "takeover": ("taking over", "接管"),
        "pause": ("pausing", "暂停"),
        "resume": ("resuming", "恢复服务"),
        "close": ("closing", "关窗"),
        "call_next": ("calling the next ticket", "叫号"),
        "call": ("calling a ticket", "叫号"),
        "recall": ("recalling", "重呼"),
        "start": ("starting a service", "开始办理"),
        "finish": ("finishing", "办结"),
        "no_show": ("marking a no-show", "过号"),
        "transfer": ("transferring", "转移"),
    }
)


def _refusal(action: str, state: WindowState) -> str:
    """Say why `action` is refused in `state` and what to do instead, in English then Chinese."""
    doing_en, doing_zh = _ACTION_TEXT[action]
    if action in TICKET_ACTIONS:
        if state is _W.PAUSED:
            hint = f"window is paused: resume it before {doing_en} (窗口暂停中，请先恢复服务再{doing_zh})"
        else:
            hint = f"window is closed: open it before {doing_en} (窗口未开放，请先开窗再{doing_zh})"
    elif action == "open":
        hint = (
            "window is already open (窗口已开放)"
            if state is _W.OPEN
            else "window is paused: resume it or take it over instead (窗口暂停中，请恢复服务或接管)"
        )
    elif action == "takeover":
        hint = (
            "window is open: only a paused window can be taken over (窗口服务中，只能接管暂停的窗口)"
            if state is _W.OPEN
            else "window is closed: open it instead (窗口未开放，请直接开窗)"
        )
    elif action == "pause":
        hint = (
            "window is already paused (窗口已暂停)"
            if state is _W.PAUSED
            else "window is closed: there is nothing to pause (窗口未开放，无需暂停)"
        )
    elif action == "resume":
        hint = (
            "window is not paused: there is nothing to resume (窗口未暂停，无需恢复)"
            if state is _W.OPEN
            else "window is closed: open it instead (窗口未开放，请直接开窗)"
        )
    else:  # close
        hint = "window is already closed (窗口已关闭)"
    return f"cannot {action} (state {state.value}): {hint}"


def check_window_action(action: str, state: WindowState) -> WindowState:
    """The window's state after `action`, or WindowStateError naming the action and state; ValueError if unknown."""
    try:
        accepted, leads_to = WINDOW_ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown window action {action!r}: expected one of {', '.join(WINDOW_ACTIONS)}") from None
    if state not in accepted:
        raise WindowStateError(_refusal(action, state), action=action, state=state)
    return state if leads_to is None else leads_to
