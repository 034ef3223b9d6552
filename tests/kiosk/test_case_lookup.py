"""办件查询 · 投诉 in the kiosk's view-model without a window: opened from the start screen and an item's facts, the
code typed on the 补办 keypad, the case's public facts said in Chinese and English, an unknown code and a server out
of reach said on the screen, the QR of /q/{hall}, and the idle timeout back home with nothing left behind."""

from __future__ import annotations

import datetime as dt

from kiosk.client import ApiError, ServerUnreachable, Throttled
from kiosk.state import Screen
from queue_server.domain.cases import CaseState
from queue_server.protocol import PublicCase
from tests.kiosk.conftest import demo_setup
from tests.kiosk.test_viewmodel import BIRTH, Kiosk

CODE = "AC3467FGH"


def public(**changes: object) -> PublicCase:
    values: dict[str, object] = {
        "code": CODE, "hall": "qingshan", "item_name_zh": "生育登记", "item_name_en": "Birth registration",
        "class_zh": "承诺件", "state": CaseState.ACCEPTED, "state_zh": "受理", "state_en": "accepted",
        "overdue": False, "opened_day": dt.date(2026, 3, 16), "due_on": dt.date(2026, 3, 23),
        "due_provisional": False, "closed_day": None, "window": 1, "window_name_zh": "1号窗口 计生服务",
        "window_name_en": "Window 1 Family planning", "department": "乡镇计生办", "result_zh": None,
        "missing_materials": [],
    }  # fmt: skip
    values.update(changes)
    return PublicCase.model_validate(values)


class FakeLookup:
    def __init__(self, *answers: object) -> None:
        self.answers, self.calls = list(answers), list[str]()

    async def __call__(self, code: str) -> PublicCase:
        self.calls.append(code)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, PublicCase)
        return answer


def typed(kiosk: Kiosk, code: str = CODE) -> None:
    for symbol in code:
        kiosk.vm.return_key(symbol)


def test_the_entry_is_on_the_start_screen_and_on_an_items_facts_and_back_returns_there() -> None:
    kiosk = Kiosk()
    home = kiosk.view.home
    assert home is not None and (home.case_lookup, home.case_lookup_hint) == ("办件查询 · 投诉", "查办理进度 扫码投诉")
    kiosk.to_item()
    assert kiosk.view.item is not None and kiosk.view.item.case_lookup == "办件查询 · 投诉"
    kiosk.vm.open_case_lookup()
    view = kiosk.view.case_lookup
    assert kiosk.screen is Screen.CASE_LOOKUP and view is not None
    assert view.title == "办件查询 · 投诉举报" and view.slots == ("",) * 9 and not view.ready
    assert (view.panel_title, view.panel_tone) == ("投诉举报", "info") and "匿名" in view.panel_body
    assert view.qr_url == "http://127.0.0.1:8000/q/qingshan" and view.qr_hint == "手机扫码 查询·投诉"
    kiosk.vm.back()
    assert kiosk.screen is Screen.ITEM and kiosk.vm.state.item == BIRTH
    kiosk.vm.toggle_language()
    assert kiosk.view.item.case_lookup == "Case lookup · Complaints"  # type: ignore[union-attr]


def test_the_qr_opens_the_halls_public_address_when_it_has_one() -> None:
    kiosk = Kiosk(started=False)
    kiosk.vm.start(demo_setup(public_url="https://qingshan.example.cn/"))
    kiosk.vm.open_case_lookup()
    assert kiosk.view.case_lookup.qr_url == "https://qingshan.example.cn/q/qingshan"  # type: ignore[union-attr]


def test_a_case_is_shown_as_the_lookup_gives_it_in_chinese_then_english() -> None:
    kiosk = Kiosk()
    fake = FakeLookup(public())
    kiosk.vm.case_lookup_call = fake
    kiosk.vm.open_case_lookup()
    typed(kiosk, "ac34-67fghZ")  # a dash and a tenth symbol are dropped, lower case is upper case
    view = kiosk.view.case_lookup
    assert view is not None and view.ready and view.status == "请点击「查询」" and "".join(view.slots) == CODE
    kiosk.run(kiosk.vm.submit_case_lookup)
    view = kiosk.view.case_lookup
    assert fake.calls == [CODE] and view is not None and view.panel_tone == "ok"
    assert view.panel_title == "办件 AC3467FGH：受理"
    assert view.panel_body.split("\n") == [
        "办理事项：生育登记", "受理日期：2026年3月16日 星期一", "承诺办结日期：2026年3月23日 星期一",
        "办理窗口：1号窗口 计生服务", "经办科室：乡镇计生办",
    ]  # fmt: skip
    kiosk.vm.toggle_language()
    view = kiosk.view.case_lookup
    assert view is not None and view.panel_title == "Case AC3467FGH: accepted"
    assert "Due by Mon 23 Mar 2026" in view.panel_body and "Window: Window 1 Family planning" in view.panel_body
    kiosk.vm.return_delete()  # the code changes: the case shown no longer is its case
    assert kiosk.view.case_lookup.panel_title == "Complaints"  # type: ignore[union-attr]


def test_overdue_completed_and_waiting_for_materials() -> None:
    overdue = public(state=CaseState.IN_PROGRESS, state_zh="逾期", state_en="overdue", overdue=True,
                     due_provisional=True)  # fmt: skip
    done = public(state=CaseState.COMPLETED, state_zh="办结", closed_day=dt.date(2026, 3, 18), result_zh="窗口领取")
    waiting = public(due_on=None, missing_materials=["户口簿", "结婚证"], class_zh="补办件")
    kiosk = Kiosk()
    kiosk.vm.case_lookup_call = FakeLookup(overdue, done, waiting)
    kiosk.vm.open_case_lookup()
    typed(kiosk)
    shown = []
    for _ in range(3):
        kiosk.run(kiosk.vm.submit_case_lookup)
        view = kiosk.view.case_lookup
        assert view is not None
        shown.append((view.panel_title, view.panel_body, view.panel_tone))
    assert shown[0][0] == "办件 AC3467FGH：逾期" and shown[0][2] == "warn"
    assert "承诺办结日期：2026年3月23日 星期一（暂定）" in shown[0][1]
    assert "办结日期：2026年3月18日 星期三\n领取方式：窗口领取" in shown[1][1] and "承诺办结" not in shown[1][1]
    assert "补齐材料后开始计时\n需补交：户口簿、结婚证" in shown[2][1]


def test_an_unknown_code_and_an_unreachable_server_are_said_on_the_screen() -> None:
    kiosk = Kiosk()
    kiosk.vm.case_lookup_call = FakeLookup(
        ApiError(404, "not_found", "没有查到该办件编号"), ServerUnreachable("down"), Throttled("HTTP 429")
    )
    kiosk.vm.open_case_lookup()
    typed(kiosk)
    kiosk.run(kiosk.vm.submit_case_lookup)
    view = kiosk.view.case_lookup
    assert view is not None and kiosk.screen is Screen.CASE_LOOKUP and view.panel_tone == "warn"
    assert (view.panel_title, view.panel_body) == (
        "未查到该办件编号", "请核对回执或通知上的办件编号 AC3467FGH，或到咨询台询问。")  # fmt: skip
    kiosk.vm.toggle_language()
    assert kiosk.view.case_lookup.panel_title == "No case with this code"  # type: ignore[union-attr]
    kiosk.vm.toggle_language()
    kiosk.run(kiosk.vm.submit_case_lookup)
    view = kiosk.view.case_lookup
    assert view is not None and view.panel_title == "暂时无法连接服务器" and "扫描二维码" in view.panel_body
    assert "".join(view.slots) == CODE, "the code stays, to try again"
    kiosk.run(kiosk.vm.submit_case_lookup)  # the server is there but refuses, for now, so many lookups
    view = kiosk.view.case_lookup
    assert view is not None and view.panel_title == "查询人数较多" and "稍等片刻" in view.panel_body


def test_idle_goes_home_and_forgets_the_code_and_the_case() -> None:
    kiosk = Kiosk()
    kiosk.vm.case_lookup_call = FakeLookup(public())
    kiosk.vm.open_case_lookup()
    typed(kiosk)
    kiosk.run(kiosk.vm.submit_case_lookup)
    kiosk.vm.toggle_language()
    kiosk.clock.advance(59)
    kiosk.vm.tick()
    assert kiosk.screen is Screen.CASE_LOOKUP
    kiosk.clock.advance(1)
    kiosk.vm.tick()
    state = kiosk.vm.state
    assert kiosk.screen is Screen.HOME and state.lang == "zh"
    assert (state.return_code, state.looked_up, state.return_problem) == ("", None, None)
