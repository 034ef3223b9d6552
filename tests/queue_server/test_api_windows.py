"""A clerk's window actions over HTTP: open, call, recall, start, finish, no-show, transfer, pause, close."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clock import FakeClock

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api


def numbers_called(api: Api, token: str, window: int, count: int) -> list[str]:
    """Call `count` tickets one after another at `window`, serving each; return their numbers in call order."""
    called = []
    for _ in range(count):
        result = api.ok(token, window, "call-next")
        called.append(result["ticket"]["number"])
        api.serve(token, window)
    return called


def events_of(api: Api, kind: str) -> list[dict[str, Any]]:
    return [e for e in api.events() if e["type"] == kind]


# --- opening ------------------------------------------------------------------------------------


def test_clerks_open_their_windows_on_the_a_or_b_post(api: Api) -> None:
    liuxia = api.staff("liuxia")
    opened = api.ok(liuxia, 1, "open", {"post": "A"})
    window = opened["window"]
    assert (window["number"], window["name_zh"], window["state"], window["post"]) == (1, "计生服务窗口", "open", "A")
    assert window["clerk_name"] == "liuxia"
    assert window["current_number"] is None and opened["ticket"] is None

    again = api.ok(liuxia, 1, "open", {"post": "A"})  # a reloaded page opens again: nothing changes
    assert again["window"] == window

    api.open("zhoupeng", 2, post="B")  # zhoupeng is window 2's B-post clerk
    board = {w["number"]: w for w in api.board()["board"]["windows"]}
    assert (board[1]["state"], board[1]["post"]) == ("open", "A")
    assert (board[2]["state"], board[2]["post"], board[2]["clerk_name"]) == ("open", "B", "zhoupeng")
    assert [e["type"] for e in api.events()] == ["window.opened", "window.opened"]


@pytest.mark.parametrize(
    "body", [None, {}, {"post": "C"}, {"post": "A", "window": 2}], ids=["no-body", "no-post", "post-c", "extra-field"]
)
def test_open_needs_a_post(api: Api, body: dict[str, Any] | None) -> None:
    api.error(api.act(api.staff("liuxia"), 1, "open", body), 422, "invalid_request")


def test_a_clerk_holds_one_window_at_a_time(api: Api) -> None:
    chenjing = api.open("chenjing", 10)
    message = api.error(api.act(chenjing, 1, "open", {"post": "B"}), 409, "conflict")
    assert "already hold window 10" in message and "您已在10号窗口" in message


def test_an_unknown_window_is_404(api: Api) -> None:
    message = api.error(api.act(api.manager, 11, "open", {"post": "A"}), 404, "not_found")
    assert "没有11号窗口" in message


# --- calling ------------------------------------------------------------------------------------


def test_call_next_answers_the_ticket_or_204_when_nobody_waits(api: Api) -> None:
    clerk = api.open("liuxia", 1)
    nobody = api.act(clerk, 1, "call-next")
    assert nobody.status_code == 204 and nobody.content == b""

    api.issue("jisheng")
    called = api.ok(clerk, 1, "call-next")
    ticket = called["ticket"]
    assert (ticket["number"], ticket["state"], ticket["window"], ticket["recalls"]) == ("A001", "called", 1, 0)
    assert (called["window"]["current_number"], called["window"]["current_state"]) == ("A001", "called")
    assert ticket["called_at"] is not None


def test_a_specific_number_is_called_with_a_reason(api: Api) -> None:
    clerk = api.open("liuxia", 1)
    for _ in range(3):
        api.issue("jisheng")
    api.issue("guotu")
    seq = api.seq()

    api.error(api.act(clerk, 1, "call", {"number": "A003"}), 422, "invalid_request")
    assert "reason is required" in api.error(api.act(clerk, 1, "call", {"number": "A003", "reason": "  "}), 400)
    assert "今日没有A099号" in api.error(api.act(clerk, 1, "call", {"number": "A099", "reason": "老人"}), 404)
    assert "不在本窗口排队" in api.error(api.act(clerk, 1, "call", {"number": "B001", "reason": "老人"}), 409)
    assert api.seq() == seq

    called = api.ok(clerk, 1, "call", {"number": "A003", "reason": "行动不便的老人"})
    assert called["ticket"]["number"] == "A003"
    event = events_of(api, "ticket.called")[-1]
    assert event["payload"]["rule"] == "out_of_order"
    assert event["payload"]["reason"] == "行动不便的老人"
    api.serve(clerk, 1)
    assert numbers_called(api, clerk, 1, 2) == ["A001", "A002"]


def test_recall_up_to_the_limit_then_409(api: Api) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    api.ok(clerk, 1, "call-next")
    for recall in (1, 2, 3):
        assert api.ok(clerk, 1, "recall")["ticket"]["recalls"] == recall
    seq = api.seq()
    message = api.error(api.act(clerk, 1, "recall"), 409, "recall_limit")
    assert "the limit is 3" in message and "请按过号处理" in message
    assert api.seq() == seq
    assert [e["payload"]["recall"] for e in events_of(api, "ticket.recalled")] == [1, 2, 3]
    assert api.ok(clerk, 1, "no-show")["ticket"]["state"] == "no_show"


# --- finishing ----------------------------------------------------------------------------------

FINISHES = [
    pytest.param(None, {"case_class": "immediate"}, None, id="immediate"),
    pytest.param(None, {"case_class": "promised", "promised_days": 5}, "2026-03-23", id="promised-5-days"),
    # The item's own time limit (20 working days) across the Qingming holiday, 4–6 April.
    pytest.param("jisheng-childcare-subsidy", {"case_class": "promised"}, "2026-04-14", id="promised-item-days"),
    pytest.param(None, {"case_class": "supplement", "missing_materials": ["户口簿原件", "一寸照片2张"]}, None,
                 id="supplement"),
    pytest.param(None, {"case_class": "joint", "next_department": "县卫生健康局"}, None, id="joint"),
    pytest.param(None, {"case_class": "returned", "reason": "不符合申请条件"}, None, id="returned"),
    pytest.param(None, {"case_class": "agent", "agent_name": "村代办员王五"}, None, id="agent"),
]  # fmt: skip


@pytest.mark.parametrize(("item", "body", "due"), FINISHES)
def test_finish_with_each_case_class(api: Api, item: str | None, body: dict[str, Any], due: str | None) -> None:
    clerk = api.open("liuxia", 1)
    ticket = api.issue("jisheng", item_id=item) if item else api.issue("jisheng")
    api.ok(clerk, 1, "call-next")
    started = api.ok(clerk, 1, "start")
    assert started["ticket"]["state"] == "serving" and started["ticket"]["started_at"] is not None

    finished = api.ok(clerk, 1, "finish", body)
    assert finished["ticket"]["state"] == "finished"
    assert finished["due_date"] == due
    assert finished["window"]["current_number"] is None
    assert api.status(ticket["track_token"]).json()["state"] == "finished"
    record = events_of(api, "ticket.finished")[-1]
    assert (record["actor"], record["window"], record["post"]) == ("liuxia", 1, "A")
    payload = record["payload"]
    assert payload["case_class"] == body["case_class"]
    assert payload["due_date"] == due
    for field in ("missing_materials", "next_department", "reason", "agent_name"):
        if field in body:
            assert payload[field] == body[field]


BAD_FINISHES = [
    pytest.param({"case_class": "supplement"}, "invalid_finish", "缺少的材料", id="supplement-without-materials"),
    pytest.param({"case_class": "supplement", "missing_materials": ["  "]}, "invalid_finish", "缺少的材料",
                 id="supplement-with-blank-material"),
    pytest.param({"case_class": "joint"}, "invalid_finish", "联办部门", id="joint-without-department"),
    pytest.param({"case_class": "returned", "reason": ""}, "invalid_finish", "退回原因", id="returned-without-reason"),
    pytest.param({"case_class": "agent"}, "invalid_finish", "代办人姓名", id="agent-without-name"),
    pytest.param({"case_class": "immediate", "reason": "x"}, "invalid_finish", "不应填写", id="immediate-with-reason"),
    pytest.param({"case_class": "promised"}, "invalid_finish", "promised_days", id="promised-without-days"),
    pytest.param({"case_class": "promised", "promised_days": 0}, "invalid_request", "promised_days",
                 id="promised-zero-days"),
    pytest.param({"case_class": "immediate", "promised_days": 3}, "invalid_finish", "promised_days",
                 id="immediate-with-days"),
    pytest.param({"case_class": "done"}, "invalid_request", "case_class", id="unknown-case-class"),
    pytest.param({"case_class": "agent", "agent_name": "王五\n李四"}, "invalid_finish", "换行",
                 id="control-characters"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "says"), BAD_FINISHES)
def test_a_finish_that_does_not_fit_its_case_class_is_422_and_changes_nothing(
    api: Api, body: dict[str, Any], code: str, says: str
) -> None:
    clerk = api.open("liuxia", 1)
    ticket = api.issue("jisheng")
    api.ok(clerk, 1, "call-next")
    api.ok(clerk, 1, "start")
    seq = api.seq()

    assert says in api.error(api.act(clerk, 1, "finish", body), 422, code)

    assert api.seq() == seq
    assert api.status(ticket["track_token"]).json()["state"] == "serving"
    assert api.ok(clerk, 1, "finish", {"case_class": "immediate"})["ticket"]["state"] == "finished"


# --- no-show and re-queue -----------------------------------------------------------------------


def test_a_no_show_requeued_at_the_kiosk_goes_behind_three_waiting_tickets(api: Api, clock: FakeClock) -> None:
    clerk = api.open("liuxia", 1)
    tickets = []
    for _ in range(5):
        tickets.append(api.issue("jisheng"))
        clock.advance(minutes=1)
    api.ok(clerk, 1, "call-next")
    missed = api.ok(clerk, 1, "no-show")
    assert (missed["ticket"]["number"], missed["ticket"]["state"]) == ("A001", "no_show")
    assert missed["window"]["current_number"] is None
    status = api.status(tickets[0]["track_token"]).json()
    assert (status["state"], status["state_label_zh"]) == ("no_show", "过号")

    requeued = api.requeue(tickets[0]["track_token"])
    assert requeued.status_code == 200, requeued.text
    assert (requeued.json()["number"], requeued.json()["state"], requeued.json()["ahead"]) == ("A001", "waiting", 3)
    assert requeued.json()["track_token"] == tickets[0]["track_token"]
    event = events_of(api, "ticket.requeued")[-1]
    assert event["actor"] == "device:kiosk-1"

    seq = api.seq()
    message = api.error(api.requeue(tickets[0]["track_token"]), 409, "illegal_transition")
    assert "already waiting" in message
    assert api.seq() == seq

    assert numbers_called(api, clerk, 1, 5) == ["A002", "A003", "A004", "A001", "A005"]


def test_only_a_no_show_of_today_can_be_requeued(api: Api) -> None:
    api.error(api.requeue("Z" * 32), 404, "not_found")
    api.error(api.requeue("bad token!"), 422, "invalid_request")


# --- transfer -------------------------------------------------------------------------------------


def test_a_ticket_transferred_to_a_window_is_called_there_first(api: Api, clock: FakeClock) -> None:
    liuxia, hujun = api.open("liuxia", 1), api.open("hujun", 5)
    api.issue("laobao")
    clock.advance(minutes=1)
    ticket = api.issue("jisheng")
    api.ok(liuxia, 1, "call-next")
    api.ok(liuxia, 1, "start")

    sent = api.ok(liuxia, 1, "transfer", {"to_window": 5, "reason": "需核验社保缴费"})
    assert (sent["ticket"]["number"], sent["ticket"]["state"], sent["ticket"]["window"]) == (
        "A001",
        "transferred",
        None,
    )
    assert sent["window"]["current_number"] is None
    status = api.status(ticket["track_token"]).json()
    assert (status["state"], status["state_label_zh"], status["ahead"]) == ("transferred", "已转移", 0)

    # Window 5 serves 劳保医保; E001 waited longer, yet the ticket sent to window 5 comes first.
    first = api.ok(hujun, 5, "call-next")
    assert (first["ticket"]["number"], first["ticket"]["category"]) == ("A001", "jisheng")
    assert events_of(api, "ticket.called")[-1]["payload"]["rule"] == "transferred"
    api.serve(hujun, 5)
    assert numbers_called(api, hujun, 5, 1) == ["E001"]
    assert api.act(liuxia, 1, "call-next").status_code == 204  # it never went back to window 1


def test_a_ticket_transferred_to_a_category_keeps_its_place_by_arrival(api: Api, clock: FakeClock) -> None:
    liuxia, hujun = api.open("liuxia", 1), api.open("hujun", 5)
    api.issue("jisheng")
    clock.advance(minutes=1)
    api.issue("laobao")
    api.ok(liuxia, 1, "call-next")

    sent = api.ok(liuxia, 1, "transfer", {"to_category": "laobao"})
    assert (sent["ticket"]["number"], sent["ticket"]["category"]) == ("A001", "laobao")
    record = events_of(api, "ticket.transferred")[-1]["payload"]
    assert (record["from_category"], record["to_category"], record["to_window"]) == ("jisheng", "laobao", None)
    assert numbers_called(api, hujun, 5, 2) == ["A001", "E001"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({}, 400, "exactly one"),
        ({"to_window": 5, "to_category": "laobao"}, 400, "exactly one"),
        ({"to_window": 1}, 400, "the window that holds it"),
        ({"to_window": 42}, 404, "没有42号窗口"),
        ({"to_window": 5}, 409, "5号窗口未开放，请转往业务类别"),
        ({"to_category": "nosuch"}, 404, "no category"),
        ({"to_window": 5, "note": "x"}, 422, "note"),
    ],
    ids=["neither", "both", "same-window", "unknown-window", "closed-window", "unknown-category", "extra-field"],
)
def test_a_bad_transfer_changes_nothing(api: Api, body: dict[str, Any], status: int, says: str) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    api.ok(clerk, 1, "call-next")
    seq = api.seq()
    assert says in api.error(api.act(clerk, 1, "transfer", body), status)
    assert api.seq() == seq
    assert api.ok(clerk, 1, "start")["ticket"]["number"] == "A001"


# --- pause, resume, take-over, close --------------------------------------------------------------


def test_pause_needs_a_reason_and_no_ticket_at_the_window(api: Api) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    api.ok(clerk, 1, "call-next")
    seq = api.seq()
    message = api.error(api.act(clerk, 1, "pause", {"reason": "午休"}), 409, "conflict")
    assert "A001" in message and "请先办结A001" in message
    assert api.seq() == seq
    api.serve(clerk, 1)
    seq = api.seq()
    api.error(api.act(clerk, 1, "pause"), 422, "invalid_request")
    api.error(api.act(clerk, 1, "pause", {"reason": ""}), 422, "invalid_request")
    assert "请填写原因" in api.error(api.act(clerk, 1, "pause", {"reason": "   "}), 400, "bad_request")
    assert api.seq() == seq

    paused = api.ok(clerk, 1, "pause", {"reason": "午休"})
    assert (paused["window"]["state"], paused["window"]["paused_reason"]) == ("paused", "午休")
    board = {w["number"]: w for w in api.board()["board"]["windows"]}
    assert (board[1]["state"], board[1]["paused_reason"]) == ("paused", "午休")

    api.issue("jisheng")
    message = api.error(api.act(clerk, 1, "call-next"), 409, "window_state")
    assert "state paused" in message and "请先恢复服务" in message

    resumed = api.ok(clerk, 1, "resume")
    assert (resumed["window"]["state"], resumed["window"]["paused_reason"]) == ("open", None)
    assert api.ok(clerk, 1, "call-next")["ticket"]["number"] == "A002"


def test_the_b_post_takes_over_a_paused_window_and_the_record_says_who_served(api: Api) -> None:
    liuxia = api.open("liuxia", 1)
    api.issue("jisheng")
    api.issue("jisheng")
    api.ok(liuxia, 1, "call-next")
    api.serve(liuxia, 1)
    api.ok(liuxia, 1, "pause", {"reason": "外出开会"})

    chenjing = api.staff("chenjing")
    taken = api.ok(chenjing, 1, "open", {"post": "B"})
    assert (taken["window"]["state"], taken["window"]["post"], taken["window"]["clerk_name"]) == (
        "open",
        "B",
        "chenjing",
    )
    assert taken["window"]["paused_reason"] is None
    assert "only the clerk who opened it" in api.error(api.act(liuxia, 1, "call-next"), 403, "forbidden")
    api.ok(chenjing, 1, "call-next")
    api.serve(chenjing, 1)

    record = [(e["type"], e["actor"], e["post"]) for e in api.events() if e["window"] == 1]
    assert record == [
        ("window.opened", "liuxia", "A"),
        ("ticket.called", "liuxia", "A"),
        ("ticket.started", "liuxia", "A"),
        ("ticket.finished", "liuxia", "A"),
        ("case.opened", "liuxia", "A"),  # the visit's case (即办件, opened closed)
        ("window.paused", "liuxia", "A"),
        ("window.taken_over", "chenjing", "B"),
        ("ticket.called", "chenjing", "B"),
        ("ticket.started", "chenjing", "B"),
        ("ticket.finished", "chenjing", "B"),
        ("case.opened", "chenjing", "B"),
    ]
    takeover = events_of(api, "window.taken_over")[0]["payload"]
    assert (takeover["from"], takeover["from_post"], takeover["post"]) == ("liuxia", "A", "B")


def test_an_open_window_cannot_be_taken_over(api: Api) -> None:
    api.open("liuxia", 1)
    message = api.error(api.act(api.staff("chenjing"), 1, "open", {"post": "B"}), 409, "conflict")
    assert "window 1 is open" in message and "窗口已由liuxia开启" in message


def test_closing_returns_a_called_ticket_to_the_queue(api: Api) -> None:
    liuxia = api.open("liuxia", 1)
    ticket = api.issue("jisheng")
    api.ok(liuxia, 1, "call-next")

    closed = api.ok(liuxia, 1, "close")
    assert (closed["window"]["state"], closed["window"]["clerk_name"], closed["window"]["post"]) == (
        "closed", None, None,
    )  # fmt: skip
    status = api.status(ticket["track_token"]).json()
    assert (status["state"], status["window"], status["ahead"]) == ("waiting", None, 0)
    assert [e["type"] for e in api.events()][-2:] == ["ticket.returned", "window.closed"]
    # Window 10 serves 计生服务 too, and calls it.
    chenjing = api.open("chenjing", 10)
    assert api.ok(chenjing, 10, "call-next")["ticket"]["number"] == "A001"


def test_a_window_serving_a_ticket_cannot_close(api: Api) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    api.ok(clerk, 1, "call-next")
    api.ok(clerk, 1, "start")
    message = api.error(api.act(clerk, 1, "close"), 409, "conflict")
    assert "A001 is being served" in message and "请先办结A001" in message
    api.ok(clerk, 1, "finish", {"case_class": "immediate"})
    assert api.ok(clerk, 1, "close")["window"]["state"] == "closed"


def test_a_manager_may_close_any_window(api: Api) -> None:
    api.open("liuxia", 1)
    closed = api.ok(api.manager, 1, "close")
    assert closed["window"]["state"] == "closed"
    assert events_of(api, "window.closed")[0]["actor"] == "director"
    assert "already closed" in api.error(api.act(api.manager, 1, "close"), 409, "window_state")


# --- every wrong-state action is a 409 that names the states --------------------------------------


def _paused(api: Api, clerk: str) -> None:
    api.ok(clerk, 1, "pause", {"reason": "午休"})


def _idle(api: Api, clerk: str) -> None:
    pass


def _called(api: Api, clerk: str) -> None:
    api.ok(clerk, 1, "call-next")


def _serving(api: Api, clerk: str) -> None:
    api.ok(clerk, 1, "call-next")
    api.ok(clerk, 1, "start")


WRONG_STATE = [
    # window paused: every ticket action, and pausing again
    (_paused, "call-next", None, "window_state", ["cannot call_next (state paused)", "窗口暂停中"]),
    (_paused, "call", {"number": "A001", "reason": "r"}, "window_state", ["cannot call (state paused)"]),
    (_paused, "recall", None, "window_state", ["cannot recall (state paused)"]),
    (_paused, "start", None, "window_state", ["cannot start (state paused)"]),
    (_paused, "finish", {"case_class": "immediate"}, "window_state", ["cannot finish (state paused)"]),
    (_paused, "no-show", None, "window_state", ["cannot no_show (state paused)"]),
    (_paused, "transfer", {"to_window": 5}, "window_state", ["cannot transfer (state paused)"]),
    (_paused, "pause", {"reason": "r"}, "window_state", ["cannot pause (state paused)", "窗口已暂停"]),
    # window open, nobody at it
    (_idle, "resume", None, "window_state", ["cannot resume (state open)", "窗口未暂停"]),
    (_idle, "recall", None, "conflict", ["no current ticket", "当前没有正在办理的号"]),
    (_idle, "start", None, "conflict", ["no current ticket"]),
    (_idle, "finish", {"case_class": "immediate"}, "conflict", ["no current ticket"]),
    (_idle, "no-show", None, "conflict", ["no current ticket"]),
    (_idle, "transfer", {"to_window": 5}, "conflict", ["no current ticket"]),
    # a ticket called
    (_called, "finish", {"case_class": "immediate"}, "illegal_transition",
     ["a ticket that is called cannot become finished", "已叫号的票不能办结"]),
    (_called, "call-next", None, "conflict", ["A001 is still called", "请先处理A001"]),
    (_called, "call", {"number": "A002", "reason": "r"}, "conflict", ["A001 is still called"]),
    (_called, "resume", None, "window_state", ["cannot resume (state open)"]),
    # a ticket being served
    (_serving, "start", None, "illegal_transition", ["already serving", "不能重复开始办理"]),
    (_serving, "recall", None, "illegal_transition",
     ["a ticket that is serving cannot become called", "办理中的票不能被叫号"]),
    (_serving, "no-show", None, "illegal_transition",
     ["a ticket that is serving cannot become no-show", "办理中的票不能记为过号"]),
    (_serving, "call-next", None, "conflict", ["A001 is still serving"]),
    (_serving, "pause", {"reason": "r"}, "conflict", ["finish or release A001 before pausing"]),
    (_serving, "close", None, "conflict", ["A001 is being served"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "action", "body", "code", "says"),
    [pytest.param(*case, id=f"{case[0].__name__.strip('_')}-{case[1]}") for case in WRONG_STATE],
)
def test_an_action_in_the_wrong_state_is_409_naming_the_states(
    api: Api, setup: Callable[[Api, str], None], action: str, body: dict[str, Any] | None, code: str, says: list[str]
) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    api.issue("jisheng")
    setup(api, clerk)
    seq = api.seq()
    message = api.error(api.act(clerk, 1, action, body), 409, code)
    for words in says:
        assert words in message
    assert api.seq() == seq


# --- routing through the API ----------------------------------------------------------------------


def test_green_channel_tickets_go_first_but_at_most_two_in_a_row_while_others_wait(api: Api, clock: FakeClock) -> None:
    clerk = api.open("liuxia", 1)
    for priority in ("ordinary", "ordinary", "green", "green", "green", "ordinary"):
        ticket = api.issue("jisheng", priority=priority)
        assert ticket["priority"] == priority
        clock.advance(seconds=30)
    # A001 A002 ordinary; A003 A004 A005 green; A006 ordinary.
    assert numbers_called(api, clerk, 1, 6) == ["A003", "A004", "A001", "A005", "A002", "A006"]
    rules = [e["payload"]["rule"] for e in events_of(api, "ticket.called")]
    assert rules == ["priority", "priority", "category", "priority", "category", "category"]


def test_a_window_calls_its_categories_in_their_configured_order(api: Api, clock: FakeClock) -> None:
    api.issue("zonghe")
    clock.advance(minutes=1)
    api.issue("jisheng")
    clock.advance(minutes=1)
    api.issue("zonghe")
    # Window 1 serves 计生服务 first, then 综合; window 10 serves 综合 first.
    liuxia, chenjing = api.open("liuxia", 1), api.open("chenjing", 10)
    assert api.ok(liuxia, 1, "call-next")["ticket"]["number"] == "A001"
    assert api.ok(chenjing, 10, "call-next")["ticket"]["number"] == "Z001"
    api.serve(liuxia, 1)
    assert api.ok(liuxia, 1, "call-next")["ticket"]["number"] == "Z002"


def test_the_clerks_desk_lists_who_waits_for_each_window_in_call_order(api: Api, clock: FakeClock) -> None:
    clerk = api.open("liuxia", 1)
    for category, priority in (("zonghe", None), ("jisheng", None), ("jisheng", "green"), ("guotu", None)):
        api.issue(category, priority=priority)
        clock.advance(seconds=10)
    response = api.http.get("/windows", headers=api.bearer(clerk))
    assert response.status_code == 200, response.text
    desks = {d["window"]["number"]: d for d in response.json()}
    assert [t["number"] for t in desks[1]["waiting"]] == ["A002", "A001", "Z001"]
    assert [t["number"] for t in desks[2]["waiting"]] == ["B001"]
