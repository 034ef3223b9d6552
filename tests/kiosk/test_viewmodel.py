"""The kiosk's view-model without a window: every screen and transition, the idle timeout, errors, printing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from kiosk.client import ApiError, BadAnswer, CategoryFull, Issued, NotRegistered, ServerUnreachable
from kiosk.state import PrintProgress, PrintState, Screen
from kiosk.viewmodel import KioskViewModel
from kiosk.views import KioskView
from printer.status import PrinterState
from queue_server.protocol import IssuedTicket, IssueRequest, QueueSummary
from queue_server.services import appointments
from tests.kiosk.conftest import NOW, Clock, FakeIssuer, FakePrinting, demo_setup, issued

BIRTH = "jisheng-birth-registration"  # 生育登记, the first item of 计生服务


class Kiosk:
    """A view-model with fakes around it, and the views it rendered."""

    def __init__(self, issuer: FakeIssuer | None = None, printer: FakePrinting | None = None, *,
                 started: bool = True, **options: Any) -> None:  # fmt: skip
        self.clock = Clock()
        self.issuer = issuer or FakeIssuer()
        self.printer = printer if printer is not None else FakePrinting()
        self.views: list[KioskView] = []
        self.vm = KioskViewModel(self.issuer, printer=self.printer, render=self.views.append, clock=self.clock,
                                 now=lambda: NOW, **options)  # fmt: skip
        if started:
            self.vm.start(demo_setup(printer=printer is not False))

    @property
    def view(self) -> KioskView:
        return self.views[-1]

    @property
    def screen(self) -> Screen:
        return self.vm.state.screen

    def run(self, action: Callable[[], Coroutine[Any, Any, None]]) -> None:
        asyncio.run(action())

    def to_item(self, category: str = "jisheng", item: str = BIRTH) -> None:
        self.vm.open_category(category)
        self.vm.open_item(item)


# -- screens and transitions ---------------------------------------------------------------------


def test_starting_then_home_with_a_tile_per_category() -> None:
    kiosk = Kiosk(started=False)
    assert kiosk.vm.view().screen == "starting"
    assert kiosk.vm.view().message is not None and kiosk.vm.view().message.title == "正在连接服务器…"
    kiosk.vm.starting_failed()
    assert kiosk.view.message is not None and "暂时无法连接服务器" in kiosk.view.message.body
    kiosk.vm.start(demo_setup())
    home = kiosk.view.home
    assert kiosk.screen is Screen.HOME and home is not None
    assert [t.name for t in home.tiles] == ["计生服务", "国土建设", "民政民宗", "司法信访", "劳保医保", "财政扶贫",
                                            "农林水牧", "公安户籍", "综合服务"]  # fmt: skip
    assert home.tiles[0].waiting == "—"  # no live queue lengths yet
    assert (home.green, home.checkin, home.guide) == ("绿色通道", "预约签到", "办事指南")
    assert kiosk.view.hall_name == "青山镇便民服务中心"
    assert (kiosk.view.date_text, kiosk.view.time_text) == ("2026年3月16日 星期一", "09:05")


def test_a_refused_kiosk_says_so_while_starting() -> None:
    kiosk = Kiosk(started=False)
    kiosk.vm.starting_failed(refused=True)
    assert kiosk.view.message is not None and kiosk.view.message.title == "本取号机暂不能使用"


def test_live_queue_lengths_and_the_offline_banner() -> None:
    kiosk = Kiosk()
    assert kiosk.view.banner.startswith("网络中断")  # not online until the feed says so
    kiosk.vm.set_online(True)
    kiosk.vm.set_queues([QueueSummary(category="jisheng", prefix="A", waiting=3, wait_s=1260),
                         QueueSummary(category="guotu", prefix="B", waiting=0, wait_s=None)])  # fmt: skip
    tiles = {t.code: t for t in kiosk.view.home.tiles}  # type: ignore[union-attr]
    assert (tiles["jisheng"].waiting, tiles["jisheng"].wait) == ("等候 3 人", "约21分钟")
    assert (tiles["guotu"].waiting, tiles["guotu"].wait) == ("等候 0 人", "暂无窗口办理")
    assert kiosk.view.banner == ""
    kiosk.vm.set_online(False)
    assert kiosk.view.banner == "网络中断，正在重新连接…（排队人数可能不是最新的）"


def test_home_category_item_and_back_again() -> None:
    kiosk = Kiosk()
    kiosk.vm.set_queues([QueueSummary(category="jisheng", prefix="A", waiting=3, wait_s=1260)])
    kiosk.vm.open_category("jisheng")
    category = kiosk.view.category
    assert kiosk.screen is Screen.CATEGORY and category is not None
    assert (category.title, category.queue) == ("计生服务", "等候 3 人 · 预计等候约21分钟")
    assert category.take == "不确定办哪一项？直接取号" and category.choose == "请选择办理事项："
    assert category.items[0].name == "生育登记" and len(category.items) >= 5
    kiosk.vm.open_item(BIRTH)
    item = kiosk.view.item
    assert kiosk.screen is Screen.ITEM and item is not None
    assert (item.title, item.category, item.take, item.notice) == ("生育登记", "计生服务", "取 号", "打印告知单")
    kiosk.vm.back()
    assert kiosk.screen is Screen.CATEGORY
    kiosk.vm.back()
    assert kiosk.screen is Screen.HOME


def test_an_item_shows_its_eight_published_facts() -> None:
    kiosk = Kiosk()
    kiosk.to_item()
    facts = {f.heading: f.lines for f in kiosk.view.item.facts}  # type: ignore[union-attr]
    assert list(facts) == [
        "办事条件",
        "申报材料",
        "办理程序",
        "承诺时限",
        "收费标准",
        "经办科室",
        "监督电话",
        "办事依据",
    ]
    assert facts["申报材料"][0].startswith("• 夫妻双方居民身份证（原件）")
    assert facts["办理程序"][0].startswith("1．")
    assert facts["承诺时限"] == ("当场办结",)
    assert facts["收费标准"] == ("不收费",)
    assert facts["监督电话"] == ("0731-8562 3119",)
    assert all(lines for lines in facts.values())


def test_taps_that_do_not_belong_to_the_screen_change_nothing() -> None:
    kiosk = Kiosk()
    kiosk.vm.open_item(BIRTH)  # no item on the home screen
    kiosk.vm.open_category("no-such-category")
    kiosk.vm.back()
    assert kiosk.screen is Screen.HOME
    kiosk.vm.open_category("guotu")
    kiosk.vm.open_item(BIRTH)  # an item of another category
    assert kiosk.screen is Screen.CATEGORY
    kiosk.run(kiosk.vm.retry)  # no error to retry
    kiosk.vm.done()  # no ticket
    assert kiosk.screen is Screen.CATEGORY and kiosk.issuer.calls == []


def test_taking_a_ticket_for_an_item_shows_the_number_the_server_gave() -> None:
    kiosk = Kiosk()
    kiosk.vm.start(demo_setup(public_url="https://bianmin.example.cn/"))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    assert kiosk.issuer.calls[0][0] == IssueRequest(item_id=BIRTH)
    ticket = kiosk.view.ticket
    assert kiosk.screen is Screen.TICKET and ticket is not None
    assert (ticket.heading, ticket.number, ticket.badge) == ("您的号码", "A001", "")
    assert ticket.what == "计生服务 · 生育登记"
    assert ticket.windows == "请到 1号窗口、10号窗口 等候叫号"
    assert (ticket.ahead, ticket.wait) == ("前面还有2人等候", "预计等候约14分钟")
    assert ticket.qr_url == "https://bianmin.example.cn/t/" + "T" * 32
    assert (ticket.print_status, ticket.print_tone) == ("正在打印凭条…", "ok")
    assert kiosk.printer.receipts == [(kiosk.vm.state.ticket, ticket.qr_url)]


def test_the_qr_falls_back_to_the_server_url_and_an_unknown_wait_is_explained() -> None:
    kiosk = Kiosk(FakeIssuer([issued(estimated_wait_s=None, ahead=0)]))
    kiosk.vm.open_category("jisheng")
    kiosk.run(kiosk.vm.take_ticket)  # 直接取号: for the category
    assert kiosk.issuer.calls[0][0] == IssueRequest(category="jisheng")
    ticket = kiosk.view.ticket
    assert ticket is not None and ticket.qr_url == "http://127.0.0.1:8000/t/" + "T" * 32
    assert (ticket.ahead, ticket.wait) == ("前面没有人等候", "窗口开放后按顺序叫号")


def test_done_goes_home_in_chinese_and_back_from_a_ticket_goes_home() -> None:
    kiosk = Kiosk()
    kiosk.to_item()
    kiosk.vm.toggle_language()
    kiosk.run(kiosk.vm.take_ticket)
    assert kiosk.view.lang == "en" and kiosk.view.ticket.heading == "Your number"  # type: ignore[union-attr]
    kiosk.vm.done()
    assert kiosk.screen is Screen.HOME and kiosk.view.lang == "zh"
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    kiosk.vm.back()
    assert kiosk.screen is Screen.HOME and kiosk.vm.state.ticket is None


def test_green_channel_takes_a_priority_ticket_for_the_category_tapped() -> None:
    kiosk = Kiosk()
    kiosk.vm.open_green()
    message = kiosk.view.message
    assert kiosk.screen is Screen.GREEN and message is not None
    assert message.title == "绿色通道" and "老年人、残疾人、现役军人" in message.body
    assert [t.name for t in message.tiles][:2] == ["计生服务", "国土建设"]
    kiosk.run(lambda: kiosk.vm.take_green("minzheng"))
    assert kiosk.issuer.calls[0][0] == IssueRequest(category="minzheng", priority="green")
    assert kiosk.view.ticket is not None and kiosk.view.ticket.badge == "绿色通道"


def test_the_guide_leads_to_the_facts_and_back() -> None:
    kiosk = Kiosk()
    kiosk.vm.open_guide()
    assert kiosk.screen is Screen.GUIDE and kiosk.view.message.title == "办事指南"  # type: ignore[union-attr]
    kiosk.vm.open_category("jisheng")
    assert kiosk.view.category.choose == "请选择要查看的事项："  # type: ignore[union-attr]
    kiosk.vm.open_item(BIRTH)
    assert kiosk.screen is Screen.ITEM
    kiosk.vm.back()
    kiosk.vm.back()
    assert kiosk.screen is Screen.GUIDE
    kiosk.vm.back()
    assert kiosk.screen is Screen.HOME


CODE = "K7MP2QXA"  # a booking code (the codes' alphabet: no 0, 1, I or O)


class FakeCheckIn:
    """Stands in for the client's check-in: records the codes, answers from a script (by default a ticket)."""

    def __init__(self, script: list[IssuedTicket | Exception] | None = None) -> None:
        self.script, self.calls = list(script or []), []  # type: ignore[var-annotated]

    async def __call__(self, code: str) -> Issued:
        self.calls.append(code)
        answer = self.script.pop(0) if self.script else issued("A031", item_id=BIRTH, priority="appointment")
        if isinstance(answer, Exception):
            raise answer
        return Issued(answer, replayed=False, attempts=1)


def check_in_kiosk(*script: IssuedTicket | Exception) -> tuple[Kiosk, FakeCheckIn]:
    fake = FakeCheckIn(list(script))
    kiosk = Kiosk(check_in=fake)
    kiosk.vm.open_checkin()
    return kiosk, fake


def type_code(kiosk: Kiosk, code: str = CODE) -> None:
    for symbol in code:
        kiosk.vm.checkin_key(symbol)


def test_the_keypad_has_the_codes_alphabet_and_takes_eight_symbols() -> None:
    kiosk, fake = check_in_kiosk()
    view = kiosk.view.checkin
    assert kiosk.screen is Screen.CHECKIN and view is not None
    assert view.title == "预约签到" and "8位" in view.body
    assert "".join(view.keys) == appointments.CODE_ALPHABET and len(view.slots) == appointments.CODE_LENGTH
    assert (view.slots, view.status, view.ready) == (("",) * 8, "已输入 0/8 位", False)
    kiosk.run(kiosk.vm.submit_checkin)  # nothing typed: 签到 does nothing
    for symbol in ("0", "O", "1", "I", "ab", ""):
        kiosk.vm.checkin_key(symbol)  # not in the codes' alphabet: ignored
    type_code(kiosk, "k7m")  # lower case is the same code
    view = kiosk.view.checkin
    assert view is not None and view.slots[:4] == ("K", "7", "M", "") and view.status == "已输入 3/8 位"
    kiosk.vm.checkin_delete()
    assert kiosk.vm.state.checkin_code == "K7"
    kiosk.vm.checkin_clear()
    assert kiosk.vm.state.checkin_code == ""
    type_code(kiosk, CODE + "Z")  # a ninth symbol is not taken
    view = kiosk.view.checkin
    assert kiosk.vm.state.checkin_code == CODE and view is not None and view.ready and view.status == "请点击「签到」"
    assert fake.calls == []


def test_check_in_shows_the_appointment_ticket_and_prints_it() -> None:
    kiosk, fake = check_in_kiosk()
    type_code(kiosk)
    kiosk.run(kiosk.vm.submit_checkin)
    assert fake.calls == [CODE] and kiosk.issuer.calls == []
    ticket = kiosk.view.ticket
    assert kiosk.screen is Screen.TICKET and ticket is not None
    assert (ticket.number, ticket.badge, ticket.what) == ("A031", "预约", "计生服务 · 生育登记")
    assert kiosk.printer.receipts == [(kiosk.vm.state.ticket, ticket.qr_url)]
    assert kiosk.vm.state.ticket is not None and kiosk.vm.state.ticket.priority == "appointment"
    kiosk.vm.done()
    kiosk.vm.open_checkin()
    assert kiosk.vm.state.checkin_code == ""  # the next citizen starts from an empty code


@pytest.mark.parametrize(
    ("error", "title", "body"),
    [
        (ApiError(404, "not_found", "no appointment with this code in this hall (未找到该预约，请核对预约码)"),
         "未找到该预约", "预约码K7MP2QXA不存在。请核对预约时得到的8位预约码，"
                         "点击「返回」重新输入；或到综合受理窗口咨询。"),
        (ApiError(409, "too_early", "too early: check in from 10:30 for the slot 11:00–11:30 (请于10:30后签到)"),
         "还未到签到时间", "请于10:30后再来签到。如不想等候，也可以取普通号。"),
        (ApiError(409, "too_early", "too early"), "还未到签到时间",
         "预约时段开始前不久才能签到，请稍后再来。也可以取普通号。"),
        (ApiError(409, "appointment_not_today", "this appointment is for 2026-03-17 09:00, not today (...)"),
         "您的预约不是今天", "预约时间为3月17日 09:00，请在预约当天来签到。今天办理请取普通号。"),
        (ApiError(409, "appointment_cancelled", "this appointment is cancelled: take an ordinary ticket"),
         "该预约已取消", "已取消的预约不能签到。请取普通号，或重新预约。"),
        (ApiError(409, "appointment_missed", "this appointment is missed: take an ordinary ticket"),
         "该预约已过签到时间", "签到时间已过，预约（或远程取号）已失效。请取普通号排队办理。"),
        (NotRegistered(401, "unauthorized", "revoked"), "本取号机暂不能使用", None),
        (ApiError(422, "validation_error", "bad code"), "签到没有成功", "请到综合受理窗口咨询。（validation_error）"),
        (BadAnswer("not JSON"), "签到没有成功", None),
        (RuntimeError("a bug"), "签到没有成功", None),
    ],
)  # fmt: skip
def test_each_refused_check_in_says_why_and_back_returns_to_the_code(
    error: Exception, title: str, body: str | None
) -> None:
    kiosk, fake = check_in_kiosk(error)
    type_code(kiosk)
    kiosk.run(kiosk.vm.submit_checkin)
    message = kiosk.view.message
    assert kiosk.screen is Screen.ERROR and not kiosk.vm.state.busy and message is not None
    assert message.title == title and message.retry == "" and message.tone == "warn"
    if body is not None:
        assert message.body == body
    assert kiosk.printer.receipts == []
    kiosk.run(kiosk.vm.retry)  # no 重试 for a refusal
    assert fake.calls == [CODE]
    kiosk.vm.back()  # to correct the code
    assert kiosk.screen is Screen.CHECKIN and kiosk.vm.state.checkin_code == CODE


def test_refusals_in_english() -> None:
    kiosk, _fake = check_in_kiosk(ApiError(409, "appointment_not_today", "this appointment is for 2026-03-17 09:00"))
    kiosk.vm.toggle_language()
    assert kiosk.view.checkin is not None and kiosk.view.checkin.submit == "Check in"
    type_code(kiosk)
    kiosk.run(kiosk.vm.submit_checkin)
    message = kiosk.view.message
    assert message is not None and message.title == "Your appointment is not today"
    assert "Tue 17 Mar 09:00" in message.body


def test_check_in_with_the_server_down_then_retry_gets_the_ticket() -> None:
    kiosk, fake = check_in_kiosk(ServerUnreachable("no answer after 4 attempts"))
    type_code(kiosk)
    kiosk.run(kiosk.vm.submit_checkin)
    message = kiosk.view.message
    assert kiosk.screen is Screen.ERROR and message is not None
    assert (message.title, message.retry) == ("暂时无法连接服务器", "重 试")
    kiosk.run(kiosk.vm.retry)  # the server answers a code checked in before with the same ticket: safe
    assert fake.calls == [CODE, CODE]
    assert kiosk.screen is Screen.TICKET and kiosk.view.ticket.badge == "预约"  # type: ignore[union-attr]


def test_while_checking_in_other_taps_are_ignored_and_it_says_please_wait() -> None:
    release = asyncio.Event()

    class Slow(FakeCheckIn):
        async def __call__(self, code: str) -> Issued:
            await release.wait()
            return await super().__call__(code)

    slow = Slow()
    kiosk = Kiosk(check_in=slow, busy_delay_s=0.01)
    kiosk.vm.open_checkin()
    type_code(kiosk)

    async def scenario() -> None:
        task = asyncio.create_task(kiosk.vm.submit_checkin())
        await asyncio.sleep(0.05)
        assert kiosk.view.busy and kiosk.view.busy_text == "正在签到，请稍候…"
        await kiosk.vm.submit_checkin()  # a double tap
        kiosk.vm.checkin_delete()
        kiosk.clock.advance(120)
        kiosk.vm.tick()  # never home in the middle of a check-in
        assert kiosk.screen is Screen.CHECKIN and kiosk.vm.state.checkin_code == CODE
        release.set()
        await task

    asyncio.run(scenario())
    assert slow.calls == [CODE] and kiosk.screen is Screen.TICKET


def test_a_kiosk_without_check_in_does_nothing_on_submit() -> None:
    kiosk = Kiosk()
    kiosk.vm.open_checkin()
    type_code(kiosk)
    kiosk.run(kiosk.vm.submit_checkin)
    assert kiosk.screen is Screen.CHECKIN


def test_a_half_typed_code_is_forgotten_after_a_minute_idle() -> None:
    kiosk, fake = check_in_kiosk()
    type_code(kiosk, "K7MP")
    kiosk.clock.advance(60)
    kiosk.vm.tick()
    assert kiosk.screen is Screen.HOME and kiosk.vm.state.checkin_code == ""
    kiosk.vm.open_checkin()
    assert kiosk.view.checkin is not None and kiosk.view.checkin.slots == ("",) * 8
    assert fake.calls == []


def test_english_everywhere_after_the_toggle() -> None:
    kiosk = Kiosk()
    kiosk.vm.toggle_language()
    view = kiosk.view
    assert (view.lang_button, view.back, view.home_button) == ("中文", "‹ Back", "Home")
    assert view.home is not None and view.home.prompt == "Tap the service you need"
    assert view.home.tiles[0].name == "Family Planning"
    assert view.hall_name == "Qingshan Town Convenience Service Center"
    assert view.date_text == "Mon 16 Mar 2026"
    kiosk.to_item()
    assert kiosk.view.item.take == "Take a number" and kiosk.view.item.title == "Birth registration"  # type: ignore[union-attr]
    kiosk.vm.toggle_language()
    assert kiosk.view.item.take == "取 号"  # type: ignore[union-attr]


# -- idle ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["category", "item", "ticket", "green", "guide", "checkin", "error"])
def test_a_minute_without_a_touch_goes_home_in_chinese(where: str) -> None:
    kiosk = Kiosk(FakeIssuer([ServerUnreachable("down")]) if where == "error" else None)
    kiosk.vm.toggle_language()
    if where in ("category", "item", "ticket", "error"):
        kiosk.to_item()
        if where in ("ticket", "error"):
            kiosk.run(kiosk.vm.take_ticket)
        if where == "category":
            kiosk.vm.back()
    else:
        {"green": kiosk.vm.open_green, "guide": kiosk.vm.open_guide, "checkin": kiosk.vm.open_checkin}[where]()
    assert kiosk.screen.value == where
    kiosk.clock.advance(59)
    kiosk.vm.tick()
    assert kiosk.screen.value == where
    kiosk.vm.touch()  # a touch anywhere starts the minute again
    kiosk.clock.advance(59)
    kiosk.vm.tick()
    assert kiosk.screen.value == where
    kiosk.clock.advance(1)
    kiosk.vm.tick()
    assert kiosk.screen is Screen.HOME and kiosk.view.lang == "zh"


def test_idle_at_home_in_english_returns_to_chinese_and_busy_never_times_out() -> None:
    kiosk = Kiosk()
    kiosk.vm.toggle_language()
    kiosk.clock.advance(60)
    kiosk.vm.tick()
    assert kiosk.view.lang == "zh"

    release = asyncio.Event()

    class Slow(FakeIssuer):
        async def __call__(self, request: IssueRequest, key: str) -> Any:
            await release.wait()
            return await super().__call__(request, key)

    slow = Kiosk(Slow(), busy_delay_s=0.01)

    async def scenario() -> None:
        slow.to_item()
        task = asyncio.create_task(slow.vm.take_ticket())
        await asyncio.sleep(0.05)
        assert slow.vm.state.busy and slow.view.busy and slow.view.busy_text == "正在取号，请稍候…"
        slow.clock.advance(120)
        slow.vm.tick()
        assert slow.screen is Screen.ITEM  # still waiting for the answer: never home in the middle of a tap
        release.set()
        await task

    asyncio.run(scenario())
    assert slow.screen is Screen.TICKET and not slow.view.busy


def test_the_clock_on_screen_is_redrawn_when_the_minute_changes_only() -> None:
    now = [NOW]
    kiosk = Kiosk()
    kiosk.vm._now = lambda: now[0]  # type: ignore[method-assign]
    drawn = len(kiosk.views)
    kiosk.vm.tick()
    assert len(kiosk.views) == drawn
    now[0] += dt.timedelta(minutes=1)
    kiosk.vm.tick()
    assert len(kiosk.views) == drawn + 1 and kiosk.view.time_text == "09:06"


# -- one ticket per tap ----------------------------------------------------------------------------


def test_a_double_tap_takes_one_ticket() -> None:
    kiosk = Kiosk()

    async def double_tap() -> None:
        kiosk.to_item()
        await asyncio.gather(kiosk.vm.take_ticket(), kiosk.vm.take_ticket())

    asyncio.run(double_tap())
    assert len(kiosk.issuer.calls) == 1 and kiosk.view.ticket.number == "A001"  # type: ignore[union-attr]


def test_other_taps_are_ignored_while_a_ticket_is_being_taken() -> None:
    release = asyncio.Event()

    class Slow(FakeIssuer):
        async def __call__(self, request: IssueRequest, key: str) -> Any:
            await release.wait()
            return await super().__call__(request, key)

    kiosk = Kiosk(Slow())

    async def scenario() -> None:
        kiosk.to_item()
        task = asyncio.create_task(kiosk.vm.take_ticket())
        await asyncio.sleep(0)
        kiosk.vm.back()
        kiosk.vm.go_home()
        kiosk.vm.toggle_language()
        kiosk.vm.print_notice()
        assert kiosk.screen is Screen.ITEM and kiosk.view.lang == "zh" and kiosk.printer.notices == []
        release.set()
        await task

    asyncio.run(scenario())
    assert kiosk.screen is Screen.TICKET


def test_nothing_but_please_wait_is_drawn_while_a_tap_is_answered_then_everything_at_once() -> None:
    """A queue length from the feed arrives before the answer (the server publishes, then answers): drawn
    alone it was a whole frame the number waited behind."""
    release = asyncio.Event()

    class Slow(FakeIssuer):
        async def __call__(self, request: IssueRequest, key: str) -> Any:
            await release.wait()
            return await super().__call__(request, key)

    kiosk = Kiosk(Slow(), busy_delay_s=0.05)
    queue = [QueueSummary(category="jisheng", prefix="A", waiting=7, wait_s=600)]

    async def scenario() -> None:
        kiosk.to_item()
        drawn = len(kiosk.views)
        task = asyncio.create_task(kiosk.vm.take_ticket())
        await asyncio.sleep(0)
        kiosk.vm.set_queues(queue)  # the feed, mid-tap
        kiosk.vm.set_online(True)
        kiosk.vm.set_printer_state(PrinterState.ONLINE)
        assert len(kiosk.views) == drawn  # not drawn yet
        await asyncio.sleep(0.1)
        assert len(kiosk.views) == drawn + 1 and kiosk.view.busy  # "please wait", and only that
        release.set()
        await task

    asyncio.run(scenario())
    assert kiosk.screen is Screen.TICKET and not kiosk.view.busy
    assert kiosk.vm.state.queues["jisheng"].waiting == 7 and kiosk.view.banner == ""


def test_each_new_tap_has_a_new_key() -> None:
    kiosk = Kiosk()
    for _ in range(2):
        kiosk.to_item()
        kiosk.run(kiosk.vm.take_ticket)
        kiosk.vm.done()
    keys = [key for _request, key in kiosk.issuer.calls]
    assert len(set(keys)) == 2 and all(key.startswith("kiosk-1-") for key in keys)


def test_unreachable_server_then_retry_sends_the_same_key() -> None:
    kiosk = Kiosk(FakeIssuer([ServerUnreachable("no answer after 4 attempts")]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    message = kiosk.view.message
    assert kiosk.screen is Screen.ERROR and message is not None
    assert (message.title, message.retry) == ("暂时无法连接服务器", "重 试")
    assert "没有取到号" in message.body
    kiosk.run(kiosk.vm.retry)
    assert kiosk.screen is Screen.TICKET
    (first_request, first_key), (second_request, second_key) = kiosk.issuer.calls
    assert first_key == second_key and first_request == second_request == IssueRequest(item_id=BIRTH)


def test_the_server_back_retries_the_tap_by_itself_for_a_citizen_still_there() -> None:
    kiosk = Kiosk(FakeIssuer([ServerUnreachable("down")]))
    kiosk.vm.set_online(True)
    kiosk.to_item()

    async def outage() -> None:
        kiosk.vm.set_online(False)  # the feed's connection dropped: said at once
        await kiosk.vm.take_ticket()
        assert kiosk.screen is Screen.ERROR
        assert kiosk.view.banner == "网络中断，正在重新连接…（排队人数可能不是最新的）"
        kiosk.clock.advance(20)
        kiosk.vm.set_online(True)  # the server is back
        for _ in range(10):
            await asyncio.sleep(0)

    kiosk.run(outage)
    assert kiosk.screen is Screen.TICKET and kiosk.view.ticket is not None and kiosk.view.banner == ""
    (first_request, first_key), (second_request, second_key) = kiosk.issuer.calls
    assert first_key == second_key and first_request == second_request == IssueRequest(item_id=BIRTH)


def test_the_server_back_clears_the_error_screen_when_nobody_waits_at_it() -> None:
    kiosk = Kiosk(FakeIssuer([ServerUnreachable("down")]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    kiosk.clock.advance(45)  # the citizen left; the idle timeout (60 s) has not fired yet
    kiosk.vm.set_online(True)
    assert kiosk.screen is Screen.HOME and kiosk.vm.state.error is None
    assert len(kiosk.issuer.calls) == 1  # no ticket made for nobody


def test_the_server_back_leaves_other_error_screens_alone() -> None:
    kiosk = Kiosk(FakeIssuer([CategoryFull(409, "category_full", "full")]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    kiosk.vm.set_online(True)
    assert kiosk.screen is Screen.ERROR and len(kiosk.issuer.calls) == 1


def test_back_from_an_error_returns_to_where_the_tap_was() -> None:
    kiosk = Kiosk(FakeIssuer([ServerUnreachable("down")]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    kiosk.vm.back()
    assert kiosk.screen is Screen.ITEM and kiosk.vm.state.error is None


def test_the_same_request_soon_after_a_lost_answer_reuses_its_key_and_later_does_not() -> None:
    kiosk = Kiosk(FakeIssuer([ServerUnreachable("down"), ServerUnreachable("down")]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    kiosk.vm.go_home()  # the citizen gives up; the next one asks for the same item a minute later
    kiosk.clock.advance(60)
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)  # unreachable again
    kiosk.vm.go_home()
    kiosk.vm.open_category("jisheng")
    kiosk.run(kiosk.vm.take_ticket)  # another request: a new key
    kiosk.vm.done()
    kiosk.clock.advance(121)
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)  # same item, but long after: a new key
    keys = [key for _request, key in kiosk.issuer.calls]
    assert keys[0] == keys[1] and len(set(keys)) == 3


def test_a_full_category_says_so_and_what_to_do() -> None:
    kiosk = Kiosk(FakeIssuer([CategoryFull(409, "category_full", "the daily cap of 200 tickets ...")]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    message = kiosk.view.message
    assert kiosk.screen is Screen.ERROR and message is not None
    assert message.title == "今日计生服务号已取完"
    assert message.body == "该类业务每日限200个号。请下一个工作日再来，或到综合受理窗口咨询。"
    assert message.retry == "" and kiosk.vm.state.pending is None


@pytest.mark.parametrize(
    ("error", "title", "keeps_key"),
    [
        (NotRegistered(401, "unauthorized", "unknown or revoked device token"), "本取号机暂不能使用", False),
        (ApiError(404, "not_found", "no service item"), "取号没有成功", False),
        (BadAnswer("not JSON"), "取号没有成功", True),
        (RuntimeError("a bug"), "取号没有成功", True),
    ],
)
def test_other_failures_show_a_clear_message(error: Exception, title: str, keeps_key: bool) -> None:
    kiosk = Kiosk(FakeIssuer([error]))
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    assert kiosk.screen is Screen.ERROR and not kiosk.vm.state.busy
    assert kiosk.view.message is not None and kiosk.view.message.title == title
    assert (kiosk.vm.state.pending is not None) is keeps_key


# -- printing ----------------------------------------------------------------------------------------


def test_receipt_progress_reaches_the_ticket_screen() -> None:
    kiosk = Kiosk()
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    kiosk.vm.print_progress(1, PrintProgress(PrintState.DONE))
    assert kiosk.view.ticket.print_status == "凭条已打印，请在出纸口取走"  # type: ignore[union-attr]
    kiosk.vm.print_progress(99, PrintProgress(PrintState.FAILED))  # another job's news: ignored
    assert kiosk.view.ticket.print_status == "凭条已打印，请在出纸口取走"  # type: ignore[union-attr]


def test_out_of_paper_the_ticket_stays_with_its_qr_and_says_why() -> None:
    kiosk = Kiosk()
    kiosk.vm.set_printer_state(PrinterState.PAPER_OUT)
    assert kiosk.view.banner == "打印纸用完：号码仍会显示在屏幕上"
    kiosk.to_item()
    kiosk.run(kiosk.vm.take_ticket)
    ticket = kiosk.view.ticket
    assert ticket is not None and ticket.number == "A001" and ticket.qr_url
    assert ticket.print_status == "打印纸用完，凭条暂时无法打印。号码已生效：请记住号码或扫描二维码"
    assert ticket.print_tone == "warn"
    kiosk.vm.print_progress(1, PrintProgress(PrintState.FAILED, PrinterState.PAPER_OUT))
    assert kiosk.view.ticket.print_status.startswith("凭条未能打印。号码已生效")  # type: ignore[union-attr]


def test_a_kiosk_without_a_printer_still_gives_tickets() -> None:
    kiosk = Kiosk(printer=False)  # type: ignore[arg-type]
    kiosk.vm.printer = None
    kiosk.to_item()
    kiosk.vm.print_notice()
    assert kiosk.view.item.notice_status == "本机不能打印，请记下所需材料"  # type: ignore[union-attr]
    kiosk.run(kiosk.vm.take_ticket)
    assert kiosk.view.ticket.print_status == "请记住号码或扫描二维码"  # type: ignore[union-attr]
    assert kiosk.view.banner.startswith("网络中断")  # no printer banner


def test_print_notice_once_at_a_time_and_its_progress() -> None:
    kiosk = Kiosk()
    kiosk.to_item()
    kiosk.vm.print_notice()
    kiosk.vm.print_notice()  # a second tap while it prints
    assert [item.id for item in kiosk.printer.notices] == [BIRTH]
    assert kiosk.view.item.notice_status == "正在打印告知单…"  # type: ignore[union-attr]
    kiosk.vm.print_progress(1, PrintProgress(PrintState.WAITING, PrinterState.COVER_OPEN))
    assert kiosk.view.item.notice_status == "打印机盖未关，暂时无法打印告知单，请记下所需材料"  # type: ignore[union-attr]
    kiosk.vm.print_progress(1, PrintProgress(PrintState.DONE))
    assert kiosk.view.item.notice_status == "告知单已打印，请在出纸口取走"  # type: ignore[union-attr]
    kiosk.vm.print_notice()
    assert len(kiosk.printer.notices) == 2


def test_the_ticket_screen_shows_the_range_and_says_when_it_is_rough() -> None:
    from kiosk.state import PrintProgress
    from kiosk.views import ticket_view
    from tests.kiosk.conftest import issued

    ranged = issued(estimated_wait_s=840, estimated_wait_low_s=610, estimated_wait_high_s=1190)
    assert ticket_view(ranged, "https://q/t/x", PrintProgress(), "zh").wait == "预计等候约10–20分钟"
    assert ticket_view(ranged, "https://q/t/x", PrintProgress(), "en").wait.endswith("about 10–20 min")
    rough = issued(estimated_wait_low_s=610, estimated_wait_high_s=1190, estimate_rough=True)
    assert ticket_view(rough, "https://q/t/x", PrintProgress(), "zh").wait == "预计等候约10–20分钟（粗略估计）"
