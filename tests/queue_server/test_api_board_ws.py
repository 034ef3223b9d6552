"""The board websocket: snapshot, live calls, resuming with ?since=, and bad clients closed with a code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from queue_server.api import ws
from queue_server.protocol import (
    CallMessage,
    CaseMessage,
    Pong,
    Snapshot,
    TicketMessage,
    WindowMessage,
    parse_server_message,
)

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api, Board

OpenBoard = Callable[..., "Board"]


def snapshot(b: Board) -> Snapshot:
    message = b.recv()
    assert isinstance(message, Snapshot), message
    return message


def test_without_since_the_first_message_is_a_snapshot_of_the_hall(api: Api, board: OpenBoard) -> None:
    api.open("liuxia", 1)
    ticket = api.issue("jisheng")
    b = board()
    raw = b.ws.recv(timeout=5)
    assert ticket["track_token"] not in raw  # a board never sees a citizen's tracking code
    first = parse_server_message(raw)
    assert isinstance(first, Snapshot)
    assert first.seq == api.seq() == 2
    assert (first.board.hall, first.board.name_zh) == ("qingshan", "青山镇便民服务中心")
    assert first.board.day is not None and first.board.day.isoformat() == "2026-03-16"
    windows = {w.number: w for w in first.board.windows}
    assert len(windows) == 10
    assert (windows[1].state, windows[1].post, windows[2].state) == ("open", "A", "closed")
    queues = {q.category: q for q in first.board.queues}
    assert (queues["jisheng"].prefix, queues["jisheng"].waiting) == ("A", 1)
    assert queues["guotu"].wait_s is None  # no window for 国土建设 is open, and nobody waits: the board says so
    assert queues["jisheng"].rough  # nothing learned yet: rough
    low, high = queues["jisheng"].wait_low_s, queues["jisheng"].wait_high_s
    assert low is not None and high is not None and low <= (queues["jisheng"].wait_s or 0) <= high
    assert first.board.recent_calls == []
    # The HTTP snapshot says the same.
    assert parse_server_message(json.dumps(api.board())) == first


def test_a_call_reaches_every_board_with_its_announcement(api: Api, board: OpenBoard) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    boards = [board() for _ in range(3)]
    seqs = {snapshot(b).seq for b in boards}
    assert seqs == {2}

    api.ok(clerk, 1, "call-next")
    for b in boards:
        call = b.recv()
        assert isinstance(call, CallMessage), call
        assert call.seq == 3
        assert (call.ticket.number, call.ticket.category, call.window, call.recall) == ("A001", "jisheng", 1, 0)
        assert call.window_name_zh == "计生服务窗口"
        assert call.announcement.text_zh == "请A001号到1号窗口办理"
        assert call.announcement.text_en == "Number A001, please go to window 1."
        assert {q.category: q.waiting for q in call.queues}["jisheng"] == 0

    api.ok(clerk, 1, "recall")
    for b in boards:
        again = b.recv()
        assert isinstance(again, CallMessage)
        assert (again.seq, again.recall, again.announcement.text_zh) == (4, 1, "请A001号到1号窗口办理")
    recent = api.board()["board"]["recent_calls"]
    assert [(c["number"], c["window"]) for c in recent] == [("A001", 1), ("A001", 1)]


def test_a_board_resuming_with_since_gets_exactly_what_it_missed_then_live_events(api: Api, board: OpenBoard) -> None:
    clerk = api.open("liuxia", 1)
    first = board()
    assert snapshot(first).seq == 1
    api.issue("jisheng")
    issued = first.recv()
    assert isinstance(issued, TicketMessage) and (issued.seq, issued.event) == (2, "issued")
    first.close()

    api.issue("jisheng")  # 3
    api.ok(clerk, 1, "call-next")  # 4
    api.serve(clerk, 1)  # 5, 6, and 7: the 即办 visit's case

    again = board(since=2)
    missed = [again.recv() for _ in range(5)]
    assert [m.seq for m in missed] == [3, 4, 5, 6, 7]
    assert isinstance(missed[0], TicketMessage) and (missed[0].event, missed[0].ticket.number) == ("issued", "A002")
    assert isinstance(missed[1], CallMessage) and missed[1].announcement.text_zh == "请A001号到1号窗口办理"
    assert isinstance(missed[2], TicketMessage) and (missed[2].event, missed[2].ticket.number) == ("started", "A001")
    assert isinstance(missed[3], TicketMessage) and (missed[3].event, missed[3].state) == ("finished", "finished")
    assert isinstance(missed[4], CaseMessage) and (missed[4].event, missed[4].category) == ("opened", "jisheng")

    api.ok(clerk, 1, "call-next")  # 8: the next message is this one, not a repeat of the backlog
    live = again.recv()
    assert isinstance(live, CallMessage) and (live.seq, live.ticket.number) == (8, "A002")


def test_a_board_that_is_up_to_date_gets_only_live_events(api: Api, board: OpenBoard) -> None:
    api.open("liuxia", 1)
    b = board(since=api.seq())
    api.issue("jisheng")
    message = b.recv()
    assert isinstance(message, TicketMessage) and message.seq == 2


def test_a_board_too_far_behind_gets_a_snapshot(api: Api, board: OpenBoard, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "RESUME_LIMIT", 3)
    api.open("liuxia", 1)
    for _ in range(4):
        api.issue("jisheng")
    assert api.seq() == 5

    behind = board(since=1)  # 4 events missed, more than the limit of 3
    fresh = snapshot(behind)
    assert fresh.seq == 5
    assert {q.category: q.waiting for q in fresh.board.queues}["jisheng"] == 4

    within = board(since=2)  # exactly 3 missed: those are sent
    assert [within.recv().seq for _ in range(3)] == [3, 4, 5]

    api.issue("jisheng")
    assert behind.recv().seq == within.recv().seq == 6


@pytest.mark.parametrize("ahead", [1, 1000])
def test_a_since_in_the_future_gets_a_snapshot(api: Api, board: OpenBoard, ahead: int) -> None:
    api.open("liuxia", 1)
    api.issue("jisheng")
    b = board(since=api.seq() + ahead)  # e.g. a board that remembers a database since replaced
    assert snapshot(b).seq == 2
    api.issue("jisheng")
    assert b.recv().seq == 3


def test_a_ping_answers_pong_with_the_current_seq(api: Api, board: OpenBoard) -> None:
    b = board()
    assert snapshot(b).seq == 0
    b.send_json({"type": "ping"})
    pong = b.recv()
    assert isinstance(pong, Pong) and pong.seq == 0

    api.open("liuxia", 1)
    assert isinstance(b.recv(), WindowMessage)
    b.send_json({"type": "ping"})
    pong = b.recv()
    assert isinstance(pong, Pong) and pong.seq == api.seq() == 1


BAD_INPUT = [
    pytest.param("not json", 1007, "malformed JSON", id="not-json"),
    pytest.param(b"\x00\x01", 1003, "binary messages are not supported", id="binary"),
    pytest.param(json.dumps({"type": "subscribe"}), 1008, "unknown message", id="unknown-type"),
    pytest.param(json.dumps({}), 1008, "unknown message", id="no-type"),
    pytest.param(json.dumps(["ping"]), 1008, "unknown message", id="not-an-object"),
    pytest.param(json.dumps({"type": "ping", "since": 3}), 1008, "unknown message", id="extra-field"),
    pytest.param(json.dumps({"type": "ping", "pad": "x" * 2000}), 1008, "message too large",
                 id="too-large"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "code", "reason"), BAD_INPUT)
def test_bad_client_input_closes_that_client_with_a_code_and_reason_and_no_other(
    api: Api, board: OpenBoard, payload: str | bytes, code: int, reason: str
) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    good, bad = board(), board()
    snapshot(good)
    snapshot(bad)

    bad.ws.send(payload)
    closed_code, closed_reason = bad.closed_with()
    assert closed_code == code
    assert reason in closed_reason

    api.ok(clerk, 1, "call-next")
    call = good.recv()
    assert isinstance(call, CallMessage) and call.announcement.text_zh == "请A001号到1号窗口办理"
    assert snapshot(board()).seq == call.seq  # and new boards are still welcome


@pytest.mark.parametrize(
    "since",
    ["abc", "-1", "1.5", "", "9" * 19, "²", "１２"],
    ids=["word", "negative", "fraction", "empty", "huge", "superscript", "full-width"],
)
def test_a_bad_since_closes_with_4400(board: OpenBoard, since: str) -> None:
    code, reason = board(query=f"since={quote(since)}").closed_with()
    assert code == 4400
    assert "since must be a whole number" in reason


def test_an_unknown_hall_closes_with_4404(board: OpenBoard) -> None:
    code, reason = board(hall="nowhere").closed_with()
    assert code == 4404
    assert "nowhere" in reason


def test_a_phone_following_one_category_gets_only_what_can_move_its_ticket_and_resumes_so(
    api: Api, board: OpenBoard
) -> None:
    """?category=guotu (国土建设, served by window 2 alone): its tickets, its window and calls there; not the rest."""
    follower = board(query="category=guotu")
    whole = board()
    assert snapshot(follower).seq == snapshot(whole).seq == 0  # a follower's first message is the hall's snapshot
    liuxia = api.open("liuxia", 1)  # 1: window 1 serves 计生 and 综合
    api.issue("jisheng")  # 2
    api.issue("guotu")  # 3
    zhaogang = api.open("zhaogang", 2)  # 4: window 2 serves 国土建设
    api.ok(liuxia, 1, "call-next")  # 5: A001 at window 1
    api.ok(zhaogang, 2, "call-next")  # 6: B001 at window 2
    assert [whole.recv().seq for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    got = [follower.recv() for _ in range(3)]
    assert [m.seq for m in got] == [3, 4, 6]
    assert isinstance(got[0], TicketMessage) and (got[0].event, got[0].ticket.number) == ("issued", "B001")
    assert isinstance(got[1], WindowMessage) and (got[1].event, got[1].window.number) == ("opened", 2)
    assert isinstance(got[2], CallMessage) and (got[2].ticket.number, got[2].window) == ("B001", 2)
    follower.close()

    api.issue("jisheng")  # 7
    api.issue("guotu")  # 8: B002
    api.serve(liuxia, 1)  # 9 started, 10 finished, 11 the case: window 1's, not 国土建设's
    api.serve(zhaogang, 2)  # 12 started, 13 finished, 14 the case (cases are no ticket's business)
    again = board(query="category=guotu&since=6")
    missed = [again.recv() for _ in range(3)]
    assert [m.seq for m in missed] == [8, 12, 13]
    assert isinstance(missed[0], TicketMessage) and missed[0].ticket.number == "B002"
    assert isinstance(missed[2], TicketMessage) and (missed[2].event, missed[2].ticket.number) == ("finished", "B001")
    api.issue("jisheng")  # 15: not for it
    api.ok(zhaogang, 2, "call-next")  # 16: B002 called: the next message it gets, nothing of the backlog again
    live = again.recv()
    assert isinstance(live, CallMessage) and (live.seq, live.ticket.number) == (16, "B002")
    assert [whole.recv().seq for _ in range(10)] == list(range(7, 17))  # the board got every one


@pytest.mark.parametrize("category", ["nothing", "", "GUOTU", "guotu%00"], ids=["unknown", "empty", "case", "nul"])
def test_a_category_the_hall_lacks_closes_with_4400(board: OpenBoard, category: str) -> None:
    code, reason = board(query=f"category={category}").closed_with()
    assert code == 4400
    assert "no category" in reason and "in this hall" in reason
