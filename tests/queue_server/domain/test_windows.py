"""Tests for the window's state machine: every (action, state) pair."""

from __future__ import annotations

import itertools

import pytest

from queue_server.domain.errors import DomainError, WindowStateError
from queue_server.domain.windows import TICKET_ACTIONS, WINDOW_ACTIONS, Post, WindowState, check_window_action

W = WindowState

# (action, state) -> next state; every pair not listed must be refused.
EXPECTED = {
    ("open", W.CLOSED): W.OPEN,
    ("takeover", W.PAUSED): W.OPEN,
    ("pause", W.OPEN): W.PAUSED,
    ("resume", W.PAUSED): W.OPEN,
    ("close", W.OPEN): W.CLOSED,
    ("close", W.PAUSED): W.CLOSED,
    **{(action, W.OPEN): W.OPEN for action in TICKET_ACTIONS},
}
ACTIONS = ["open", "takeover", "pause", "resume", "close", "call_next", "call", "recall", "start", "finish",
           "no_show", "transfer"]  # fmt: skip
ALL_PAIRS = list(itertools.product(ACTIONS, WindowState))


def test_table_has_exactly_the_specified_actions() -> None:
    assert set(WINDOW_ACTIONS) == set(ACTIONS)
    assert {"call_next", "call", "recall", "start", "finish", "no_show", "transfer"} == TICKET_ACTIONS
    for action in TICKET_ACTIONS:
        assert WINDOW_ACTIONS[action] == (frozenset({W.OPEN}), None)


def test_table_cannot_be_changed_at_runtime() -> None:
    with pytest.raises(TypeError):
        WINDOW_ACTIONS["open"] = (frozenset(W), W.OPEN)  # type: ignore[index]


@pytest.mark.parametrize(("action", "state"), [p for p in ALL_PAIRS if p in EXPECTED], ids=str)
def test_accepted_action_leads_to_its_state(action: str, state: WindowState) -> None:
    assert check_window_action(action, state) is EXPECTED[action, state]


@pytest.mark.parametrize(("action", "state"), [p for p in ALL_PAIRS if p not in EXPECTED], ids=str)
def test_refused_action_names_action_and_state(action: str, state: WindowState) -> None:
    with pytest.raises(WindowStateError) as info:
        check_window_action(action, state)
    err = info.value
    assert err.code == "window_state"
    assert err.action == action
    assert err.state is state
    assert isinstance(err, DomainError)
    message = str(err)
    assert action in message
    assert state.value in message
    assert "窗口" in message  # and a Chinese explanation for the clerk


def test_pair_count() -> None:
    assert len(ALL_PAIRS) == 36
    assert len(EXPECTED) == 13


def test_calling_on_a_paused_window_says_resume() -> None:
    with pytest.raises(WindowStateError, match=r"window is paused: resume it before calling.*窗口暂停中，请先恢复"):
        check_window_action("call_next", W.PAUSED)


def test_calling_on_a_closed_window_says_open() -> None:
    with pytest.raises(WindowStateError, match=r"window is closed: open it before.*窗口未开放"):
        check_window_action("finish", W.CLOSED)


@pytest.mark.parametrize(
    ("action", "state", "words"),
    [
        ("open", W.OPEN, "already open"),
        ("pause", W.PAUSED, "already paused"),
        ("close", W.CLOSED, "already closed"),
        ("resume", W.OPEN, "nothing to resume"),
    ],
)
def test_doing_the_same_thing_twice_is_a_clear_error(action: str, state: WindowState, words: str) -> None:
    first = {"open": W.CLOSED, "pause": W.OPEN, "close": W.OPEN, "resume": W.PAUSED}[action]
    assert check_window_action(action, first) is state
    with pytest.raises(WindowStateError, match=words):
        check_window_action(action, state)


def test_a_day_at_the_window() -> None:
    state = W.CLOSED
    for action in ["open", "call_next", "start", "finish", "pause", "takeover", "call_next", "no_show", "close"]:
        state = check_window_action(action, state)
    assert state is W.CLOSED


@pytest.mark.parametrize("action", ["", "Open", "delete", "call-next"])
def test_unknown_action_is_a_value_error(action: str) -> None:
    with pytest.raises(ValueError, match="unknown window action"):
        check_window_action(action, W.OPEN)


def test_window_state_labels() -> None:
    assert [s.value for s in WindowState] == ["closed", "open", "paused"]
    assert [s.label_zh for s in WindowState] == ["未开放", "服务中", "暂停服务"]
    assert [s.label_en for s in WindowState] == ["closed", "open", "paused"]


def test_posts() -> None:
    assert [p.value for p in Post] == ["A", "B"]
    assert [p.label_zh for p in Post] == ["A岗", "B岗"]
    assert [p.label_en for p in Post] == ["A-post", "B-post"]
    assert Post("B") is Post.B


def test_window_state_error_can_be_raised_with_a_message_only() -> None:
    # Services raise it directly too, e.g. for a clerk at a window that is not theirs.
    err = WindowStateError("you are not on duty at window 3 (您不在3号窗口值班)")
    assert err.action is None and err.state is None
    assert str(err).startswith("you are not on duty")
