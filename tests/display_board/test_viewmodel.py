"""The boards' display strings, computed from a BoardModel without Kivy or a window."""

from __future__ import annotations

import datetime as dt

import pytest

from display_board.catalog import HallInfo, parse_catalog
from display_board.viewmodel import (
    STATUS_CONNECTING,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    CallRow,
    QueueRow,
    WindowRow,
    hall_view,
    notice_text,
    wait_text,
    window_board_view,
)
from queue_server.board_model import BoardModel
from queue_server.protocol import (
    BoardState,
    CallMessage,
    CallView,
    QueueSummary,
    Snapshot,
    TicketRef,
    WindowView,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 16, 9, 5, 7, tzinfo=SHANGHAI)  # a Monday
AT = dt.datetime(2026, 3, 16, 1, 0, tzinfo=dt.UTC)

CATALOG = {
    "hall": {"id": "qingshan"},
    "categories": [
        {"code": "jisheng", "prefix": "A", "name_zh": "计生服务", "name_en": "Family Planning", "colour": "#D81B60"},
        {"code": "guotu", "prefix": "B", "name_zh": "国土建设", "name_en": "Land", "colour": "#6D4C41"},
        {"code": "zonghe", "prefix": "Z", "name_zh": "综合服务", "name_en": "General", "colour": "#757575"},
    ],
    "windows": [
        {"number": 1, "name_zh": "计生服务窗口", "name_en": "FP", "categories": ["jisheng", "zonghe"]},
        {"number": 2, "name_zh": "国土建设窗口", "name_en": "Land", "categories": ["guotu"]},
        {"number": 3, "name_zh": "综合受理窗口", "name_en": "General", "categories": ["zonghe"]},
    ],
    "items": [],
}
INFO = parse_catalog(CATALOG)


def window(number: int, **changes: object) -> WindowView:
    names = {1: "计生服务窗口", 2: "国土建设窗口", 3: "综合受理窗口"}
    fields: dict[str, object] = {
        "number": number, "name_zh": names[number], "name_en": "-", "state": "closed", "post": None,
        "clerk_name": None, "current_number": None, "current_state": None, "paused_reason": None,
    }  # fmt: skip
    return WindowView.model_validate({**fields, **changes})


def queues(a: int = 3, b: int = 0, z: int = 1) -> list[QueueSummary]:
    return [
        QueueSummary(category="jisheng", prefix="A", waiting=a, wait_s=1260),
        QueueSummary(category="guotu", prefix="B", waiting=b, wait_s=None),
        QueueSummary(category="zonghe", prefix="Z", waiting=z, wait_s=0),
    ]


def model(recent: list[CallView] | None = None, windows: list[WindowView] | None = None) -> BoardModel:
    board = BoardModel()
    board.apply(
        Snapshot(
            seq=10,
            board=BoardState(
                hall="qingshan",
                name_zh="青山镇便民服务中心",
                name_en="Qingshan Town Convenience Service Center",
                notice_zh="办事八公开，一次性告知。",
                notice_en="-",
                supervision_phone="0731-8562 3119",
                day=dt.date(2026, 3, 16),
                windows=windows
                or [
                    window(1, state="open", post="A", clerk_name="刘霞", current_number="A004", current_state="called"),
                    window(2, state="paused", post="B", clerk_name="周鹏", paused_reason="午休"),
                    window(
                        3, state="open", post="A", clerk_name="陈静", current_number="Z002", current_state="serving"
                    ),
                ],
                queues=queues(),
                recent_calls=recent
                if recent is not None
                else [
                    CallView(number="A004", window=1, at=AT),
                    CallView(number="Z002", window=3, at=AT),
                    CallView(number="A003", window=1, at=AT),
                ],
            ),
        )
    )
    return board


def call(seq: int, number: str, window_number: int, recall: int = 0) -> CallMessage:
    return CallMessage(
        seq=seq, at=AT, ticket=TicketRef(number=number, category="jisheng", priority="ordinary"),
        window=window_number, window_name_zh="计生服务窗口", window_name_en="-", recall=recall,
        announcement={"text_zh": "-", "text_en": "-"}, queues=queues(a=2),
    )  # fmt: skip


# --- the hall board -----------------------------------------------------------------------------


def test_the_hall_board_shows_the_latest_call_large_and_the_others_below_it() -> None:
    view = hall_view(model(), INFO, NOW, online=True)
    assert (view.title, view.date_text, view.time_text) == ("青山镇便民服务中心", "2026年3月16日 星期一", "09:05:07")
    assert (view.latest_number, view.latest_window, view.latest_window_name) == ("A004", "1号窗口", "计生服务窗口")
    assert view.latest_prompt == "请A004号到1号窗口办理"
    assert view.latest_recall == ""
    assert view.recent == (CallRow("Z002", "3号窗口"), CallRow("A003", "1号窗口"))
    assert (view.online, view.status_text) == (True, STATUS_ONLINE)


def test_each_window_shows_its_number_and_state() -> None:
    view = hall_view(model(), INFO, NOW, online=True)
    assert view.windows == (
        WindowRow("1", "计生服务窗口", "A004", "请到窗口", "called"),
        WindowRow("2", "国土建设窗口", "—", "暂停：午休", "paused"),
        WindowRow("3", "综合受理窗口", "Z002", "办理中", "serving"),
    )
    idle = hall_view(model(windows=[window(1, state="open"), window(2, state="paused"), window(3)]), INFO, NOW, True)
    assert [(w.status, w.tone) for w in idle.windows] == [("空闲", "idle"), ("暂停服务", "paused"),
                                                           ("未开放", "closed")]  # fmt: skip


def test_each_category_shows_how_many_wait_and_for_how_long() -> None:
    view = hall_view(model(), INFO, NOW, online=True)
    assert view.queues == (
        QueueRow("A", "计生服务", "3", "约21分钟", "#D81B60"),
        QueueRow("B", "国土建设", "0", "暂无窗口办理", "#6D4C41"),
        QueueRow("Z", "综合服务", "1", "即将办理", "#757575"),
    )
    unknown = hall_view(model(), HallInfo(), NOW, online=True)
    assert [q.name for q in unknown.queues] == ["A类业务", "B类业务", "Z类业务"], "before the catalogue: letters"


@pytest.mark.parametrize(
    ("wait_s", "waiting", "text"),
    [(None, 3, "暂无窗口办理"), (0, 0, "无需等候"), (0, 2, "即将办理"), (59, 1, "约1分钟"), (61, 1, "约2分钟"),
     (3600, 9, "约1小时"), (3900, 9, "约1小时5分")],
)  # fmt: skip
def test_wait_text(wait_s: int | None, waiting: int, text: str) -> None:
    assert wait_text(wait_s, waiting) == text


def test_live_calls_move_the_latest_call_and_a_recall_says_so() -> None:
    board = model()
    board.apply(call(11, "A005", 1))
    view = hall_view(board, INFO, NOW, online=True)
    assert view.latest_number == "A005"
    assert view.recent[:2] == (CallRow("A004", "1号窗口"), CallRow("Z002", "3号窗口"))
    assert view.queues[0].waiting == "2"
    board.apply(call(12, "A005", 1, recall=1))
    view = hall_view(board, INFO, NOW, online=True)
    assert (view.latest_number, view.latest_recall) == ("A005", "第2次呼叫")
    assert view.recent[0] == CallRow("A004", "1号窗口"), "a recall is not listed twice"


def test_the_recent_list_is_at_most_six_distinct_calls() -> None:
    recent = [CallView(number=f"A{n:03d}", window=1, at=AT) for n in range(10, 0, -1)]
    view = hall_view(model(recent=recent), INFO, NOW, online=True)
    assert [r.number for r in view.recent] == ["A009", "A008", "A007", "A006", "A005", "A004"]


def test_before_any_call_the_board_welcomes() -> None:
    view = hall_view(model(recent=[]), INFO, NOW, online=True)
    assert (view.latest_number, view.latest_window, view.recent) == ("", "", ())
    assert view.latest_prompt == "欢迎光临，请取号后留意叫号"


def test_the_status_line_says_connecting_then_live_then_offline() -> None:
    assert hall_view(BoardModel(), INFO, NOW, online=False).status_text == STATUS_CONNECTING
    assert hall_view(BoardModel(), INFO, NOW, online=False).title == "便民服务中心"
    assert hall_view(model(), INFO, NOW, online=True).status_text == STATUS_ONLINE
    offline = hall_view(model(), INFO, NOW, online=False)
    assert (offline.online, offline.status_text) == (False, STATUS_OFFLINE)
    assert offline.latest_number == "A004", "the last known board stays up while the network is down"


def test_the_notice_carries_the_supervision_phone_once() -> None:
    board = model()
    assert notice_text(board) == "办事八公开，一次性告知。　监督电话：0731-8562 3119"
    board.notice_zh = "监督电话：0731-8562 3119，\n政务服务便民热线：12345。"
    assert notice_text(board) == "监督电话：0731-8562 3119， 政务服务便民热线：12345。"
    board.notice_zh = ""
    assert notice_text(board) == "监督电话：0731-8562 3119"


# --- the window-top board -----------------------------------------------------------------------


def test_the_window_board_shows_the_window_its_clerk_the_number_and_who_waits_for_it() -> None:
    view = window_board_view(model(), INFO, 1, NOW, online=True)
    assert (view.title, view.name, view.categories) == ("1号窗口", "计生服务窗口", "计生服务 · 综合服务")
    assert (view.clerk, view.post) == ("刘霞", "A岗（主岗）")
    assert (view.current_number, view.current_status, view.tone) == ("A004", "请A004号到本窗口办理", "called")
    assert (view.waiting, view.waiting_text) == ("4", "本窗口等候 4 人")  # 3 of 计生服务 + 1 of 综合服务
    assert (view.date_text, view.time_text, view.status_text) == ("2026年3月16日 星期一", "09:05:07", STATUS_ONLINE)


@pytest.mark.parametrize(
    ("number", "current", "status", "clerk", "post"),
    [
        (2, "—", "暂停服务：午休", "周鹏", "B岗（备岗）"),
        (3, "Z002", "正在办理", "陈静", "A岗（主岗）"),
    ],
)
def test_the_window_board_in_each_state(number: int, current: str, status: str, clerk: str, post: str) -> None:
    view = window_board_view(model(), INFO, number, NOW, online=True)
    assert (view.current_number, view.current_status, view.clerk, view.post) == (current, status, clerk, post)


def test_a_closed_or_idle_window_board() -> None:
    board = model(windows=[window(1, state="open", post="B", clerk_name="陈静"), window(2), window(3)])
    idle = window_board_view(board, INFO, 1, NOW, online=True)
    assert (idle.current_number, idle.current_status, idle.clerk, idle.post) == ("—", "等待叫号", "陈静", "B岗（备岗）")
    closed = window_board_view(board, INFO, 2, NOW, online=True)
    assert (closed.current_status, closed.clerk, closed.post, closed.tone) == ("本窗口暂未开放", "—", "", "closed")


def test_a_window_board_before_the_catalogue_or_for_an_unknown_window() -> None:
    early = window_board_view(model(), HallInfo(), 1, NOW, online=True)
    assert (early.waiting, early.categories) == ("—", "")
    assert window_board_view(model(), INFO, 9, NOW, online=True).current_status == "本窗口未设置"
    assert window_board_view(BoardModel(), INFO, 1, NOW, online=False).current_status == STATUS_CONNECTING


def test_parse_catalog_keeps_the_halls_order() -> None:
    assert list(INFO.categories) == ["jisheng", "guotu", "zonghe"]
    assert INFO.window_categories == {1: ("jisheng", "zonghe"), 2: ("guotu",), 3: ("zonghe",)}
    assert INFO.known and not HallInfo().known
