"""The clerk console in headless Chromium against a real server.

A clerk logs in, opens a window, calls with the keyboard and finishes one visit with each of the six
case classes; the hall board and the manager's wall follow every step over their websockets. Then a
recall, a no-show, a transfer, a pause with a reason, an expired login and a cross-site form.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.screenshots import SCREENSHOTS
from tests.support.server import HALL, PASSWORD
from tests.web.conftest import HTTP_TIMEOUT_S, LiveHall

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

DEADLINE_MS = 8_000
OpenPage = Callable[..., "Page"]


@pytest.fixture
def open_page(browser: Browser, hall: LiveHall) -> Iterator[OpenPage]:
    """Open a page in a fresh browser context (its own sessionStorage); no page may have a script error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(path: str, *, width: int = 1600, height: int = 900, expect_401: bool = False) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("pageerror", lambda error: errors.append(f"{path}: {error}"))
        page.on("console", lambda m: errors.append(f"{path}: {m.text}") if unexpected(m, expect_401) else None)
        page.goto(hall.page_url(path))
        page.wait_for_function("() => document.body.classList.contains('ready')")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


def unexpected(message: ConsoleMessage, expect_401: bool) -> bool:
    # With expect_401: the browser's own note on an answer the page handles (an expired login).
    return message.type == "error" and not (expect_401 and "401" in message.text)


def log_in(page: Page, username: str) -> None:
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")


def desk(page: Page) -> Any:
    return page.evaluate("() => window.bianminConsole.desk")


def press(page: Page, key: str) -> None:
    """Press a console action key once the previous action is over: its request back and its dialog closed (the
    page drops action keys until then; a live refresh can show the new desk before either)."""
    page.wait_for_function(
        "() => window.bianminConsole && !window.bianminConsole.busy && !document.querySelector('dialog[open]')"
    )
    page.keyboard.press(key)


def wait_current(page: Page, number: str | None, state: str | None = None) -> None:
    page.wait_for_function(
        """([number, state]) => {
            const d = window.bianminConsole.desk;
            if (!d) return false;
            if (number === null) return d.current === null;
            return d.current && d.current.number === number && (state === null || d.current.state === state);
        }""",
        arg=[number, state],
    )


def wait_text(page: Page, selector: str, expected: str) -> None:
    page.wait_for_function(
        "([s, e]) => { const n = document.querySelector(s); return !!n && n.textContent.trim() === e; }",
        arg=[selector, expected],
    )


def wait_attribute(page: Page, selector: str, name: str, expected: str) -> None:
    page.wait_for_function(
        "([s, a, e]) => { const n = document.querySelector(s); return !!n && n.getAttribute(a) === e; }",
        arg=[selector, name, expected],
    )


def issue_item(hall: LiveHall, item_id: str) -> str:
    hall.issue("jisheng", 0)  # registers the kiosk
    assert hall.server is not None and hall.kiosk is not None
    answer = httpx.post(
        f"{hall.server.url}/api/v1/halls/{HALL}/tickets",
        json={"item_id": item_id},
        headers={"Authorization": f"Bearer {hall.kiosk}", "Idempotency-Key": f"item-{item_id}"},
        timeout=HTTP_TIMEOUT_S,
        trust_env=False,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["number"])


def report(hall: LiveHall, token: str) -> Any:
    assert hall.server is not None
    response = httpx.get(
        f"{hall.server.url}/api/v1/halls/{HALL}/reports",
        params={"period": "day", "by": "window"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT_S,
        trust_env=False,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_clerk_calls_and_finishes_with_every_case_class_and_the_board_and_wall_follow(
    hall: LiveHall, open_page: OpenPage
) -> None:
    assert hall.server is not None
    hall.clerk("liuxia", name="刘霞")
    manager = hall.server.add_staff("director", "manager", name="王主任")
    first = issue_item(hall, "jisheng-childcare-subsidy")  # a promised item: 20 working days
    numbers = [first, *hall.issue("jisheng", 7)]

    board = open_page(f"/board/{HALL}?sound=0", width=1920, height=1080)
    wall = open_page(f"/manager/{HALL}", width=1600, height=1000)
    log_in(wall, "director")
    wall.wait_for_function("() => window.bianminDashboard.wall !== null")

    console = open_page(f"/clerk/{HALL}")
    log_in(console, "liuxia")
    console.wait_for_selector("#choose:not([hidden])")
    assert console.locator('.window-choice.mine[data-window="1"]').count() == 1  # liuxia is window 1's A-post
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")
    assert "1号 计生服务窗口" in console.inner_text("#held-label")
    wait_attribute(wall, '.window-card[data-window="1"]', "data-state", "open")
    assert console.locator("#waiting-list tr").count() == len(numbers)

    def missing_materials() -> None:
        console.locator("#materials input[type=checkbox]").nth(0).check()  # one from the item's list
        console.fill("#finish-form textarea[name=other_materials]", "村委会证明")  # and one of the clerk's own

    fields: dict[str, Callable[[], None]] = {
        "immediate": lambda: None,
        "promised": lambda: None,  # the item's 20 days are filled in
        "supplement": missing_materials,
        "joint": lambda: console.fill("#finish-form input[name=next_department]", "县卫生健康局"),
        "returned": lambda: console.fill("#finish-form input[name=reason]", "不符合受理条件"),
        "agent": lambda: console.fill("#finish-form input[name=agent_name]", "村代办员李明"),
    }
    order = ["promised", "immediate", "supplement", "joint", "returned", "agent"]
    keys = {"immediate": "1", "promised": "2", "supplement": "3", "joint": "4", "returned": "5", "agent": "6"}
    for served, (case, number) in enumerate(zip(order, numbers, strict=False), start=1):
        hall.clock.advance(minutes=3)  # the hall's clock moves: waits and service times are real figures
        press(console, "c")  # 叫号
        wait_current(console, number, "called")
        wait_text(board, "#latest-number", number)
        wait_attribute(wall, '.window-card[data-window="1"]', "data-current", number)
        hall.clock.advance(seconds=40)
        press(console, "s")  # 开始办理
        wait_current(console, number, "serving")
        hall.clock.advance(minutes=3 + served)
        press(console, "f")  # 办结
        console.wait_for_selector("#finish-dialog[open]")
        if case == "promised":
            assert console.locator('#finish-form input[value="promised"]').is_checked()  # the item's kind
            wait_text(console, "#due-date", "2026-04-14")
        console.keyboard.press(keys[case])
        assert console.locator(f'#finish-form input[value="{case}"]').is_checked()
        fields[case]()
        if case == "supplement":
            console.click('#finish-form button[type="submit"]')
            console.wait_for_selector("#notice-dialog[open]")
            console.wait_for_function("() => document.getElementById('notice-image').naturalWidth === 576")
            console.click("#notice-dialog [data-close]")
        else:
            console.keyboard.press("Enter")
        wait_current(console, None)
        wait_text(console, f'#today [data-figure="case-{case}"] .value', "1")
        wait_text(wall, '#today-figures [data-figure="served"] .value', str(served))

    wait_text(console, '#today [data-figure="served"] .value', "6")
    for case in order:
        wait_text(wall, f'#today-figures [data-figure="case-{case}"] .value', "1")
    assert wall.inner_text('#today-figures [data-figure="satisfaction_rate"] .value') == "—"
    figures = report(hall, manager)["totals"]
    assert figures["served"] == 6 and figures["case_classes"] == dict.fromkeys(order, 1)

    # The next ticket is being served, others wait: the console as a clerk sees it all day.
    press(console, "c")
    wait_current(console, numbers[6], "called")
    press(console, "s")
    wait_current(console, numbers[6], "serving")
    hall.clock.advance(minutes=5, seconds=20)
    hall.issue("zonghe", 2)
    console.wait_for_function("() => window.bianminConsole.desk.waiting.length === 3")
    wait_text(console, '#today [data-figure="served"] .value', "6")
    assert console.inner_text("#timer").startswith("05:2")  # the service timer runs by the server's clock
    console.wait_for_selector(".toast", state="detached", timeout=10_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOTS / "clerk-console.png"))


def test_recall_no_show_transfer_and_pause_from_the_console(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.clerk("liuxia", name="刘霞")
    manager = hall.server.add_staff("director", "manager")
    a1, a2, a3 = hall.issue("jisheng", 3)
    console = open_page(f"/clerk/{HALL}")
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")

    console.click('#actions [data-action="call-next"]')
    wait_current(console, a1, "called")
    assert console.locator('#actions [data-action="finish"]').is_disabled()  # not being served yet
    press(console, "r")  # 重呼
    console.wait_for_function("() => window.bianminConsole.desk.current.recalls === 1")
    assert console.inner_text("#recalls") == "1 / 3"
    assert console.inner_text("#recall-count") == "1/3"  # on the button too
    press(console, "x")  # 过号 asks first: a stray X then Enter changes nothing
    console.wait_for_selector("#no-show-dialog[open]")
    assert a1 in console.inner_text("#no-show-dialog h2") and "已重呼 1/3 次" in console.inner_text("#no-show-about")
    console.keyboard.press("Enter")
    console.wait_for_selector("#no-show-dialog:not([open])", state="attached")
    assert desk(console)["current"]["number"] == a1
    press(console, "x")
    console.wait_for_selector("#no-show-dialog[open]")
    console.click('#no-show-form button[type="submit"]')
    wait_current(console, None)

    press(console, "c")
    wait_current(console, a2, "called")
    hall.open(10, "chenjing")  # the 综合 window opens: a transfer may go there; the closed ones may not
    console.wait_for_function(
        "() => window.bianminConsole.windows.some(d => d.window.number === 10 && d.window.state === 'open')"
    )
    press(console, "t")  # 转移
    console.wait_for_selector("#transfer-dialog[open]")
    options = console.locator("#transfer-window option").evaluate_all(
        "os => Object.fromEntries(os.filter(o => o.value).map(o => [o.value, [o.textContent, o.disabled]]))"
    )
    assert options["10"][1] is False and "服务中 · 等候1人" in options["10"][0]  # a3 waits for it too
    assert options["2"][1] is True and "未开放 · 不可转入" in options["2"][0]
    assert "未开放的窗口无人叫号" in console.inner_text("#transfer-note")
    console.select_option("#transfer-window", "10")
    console.fill("#transfer-form input[name=reason]", "综合窗口办理")
    console.click('#transfer-form button[type="submit"]')
    wait_current(console, None)

    press(console, "p")  # 暂停
    console.wait_for_selector("#pause-dialog[open]")
    console.click("#pause-reasons button >> nth=1")  # 午休
    console.keyboard.press("Enter")
    console.wait_for_selector("#paused-banner:not([hidden])")
    assert console.inner_text("#paused-reason") == "午休"
    assert console.locator('#actions [data-action="call-next"]').is_disabled()
    press(console, "c")  # refused while paused: nothing happens
    press(console, "p")  # 恢复
    console.wait_for_selector("#paused-banner", state="hidden")
    press(console, "c")
    wait_current(console, a3, "called")

    assert hall.server is not None
    events = httpx.get(
        f"{hall.server.url}/api/v1/halls/{HALL}/events",
        params={"window": 1, "type": "ticket.*,window.*"},
        headers={"Authorization": f"Bearer {manager}"},
        timeout=HTTP_TIMEOUT_S,
        trust_env=False,
    ).json()["events"]
    kinds = [e["type"] for e in events]
    assert kinds == [
        "window.opened", "ticket.called", "ticket.recalled", "ticket.no_show", "ticket.called",
        "ticket.transferred", "window.paused", "window.resumed", "ticket.called",
    ]  # fmt: skip
    assert all(e["actor"] == "liuxia" and e["post"] == "A" for e in events)
    assert events[5]["payload"]["to_window"] == 10 and events[6]["payload"]["reason"] == "午休"


def test_the_waiting_list_marks_each_ticket_and_a_click_calls_a_number_out_of_turn(
    hall: LiveHall, open_page: OpenPage
) -> None:
    """At 1366×768: priority, appointment, transfer origin and the recall count are shown; a click calls a number."""
    assert hall.server is not None
    manager = hall.server.add_staff("director", "manager")
    hall.clerk("liuxia", name="刘霞")
    console = open_page(f"/clerk/{HALL}", width=1366, height=768)
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")

    other = hall.open(2, "zhaogang")
    (b1,) = hall.issue("guotu")
    assert hall.call_next(other, 2) == b1
    hall.act(other, 2, "transfer", {"to_window": 1, "reason": "属计生业务"})
    a1, a2 = hall.issue("jisheng", 2)
    body = {"category": "jisheng", "priority": "green"}
    green = hall._post("/tickets", hall.kiosk, body, **{"Idempotency-Key": "g1"})
    # 办事预约: booked for 09:30 (check-in opens at 09:00, now), checked in at the kiosk.
    booked = hall._post("/appointments", None, {"category": "jisheng", "day": "2026-03-16", "start": "09:30"})
    booking = hall._post(f"/appointments/{booked['code']}/check-in", hall.kiosk)
    assert booking["priority"] == "appointment"
    console.wait_for_function("() => window.bianminConsole.desk.waiting.length === 5")

    rows = console.locator("#waiting-list tr").evaluate_all(
        "rs => rs.map(r => [r.dataset.number, r.querySelector('.marks').textContent.trim()])"
    )
    assert rows == [
        [b1, "由2号窗口转入"], [green["number"], "绿色通道"], [booking["number"], "预约"], [a1, ""], [a2, ""]
    ]  # fmt: skip
    appointment = console.locator(f'#waiting-list tr[data-number="{booking["number"]}"] .badge.appointment')
    assert appointment.is_visible() and appointment.get_attribute("data-mark") == "appointment"
    assert console.get_attribute(f'#waiting-list tr[data-number="{b1}"] .badge.transfer', "title") == "原因：属计生业务"
    assert console.inner_text("#recall-count") == "0/3"
    console.screenshot(path=str(SCREENSHOTS / "clerk-console-waiting.png"))

    console.click(f'#waiting-list tr[data-number="{a2}"] button.call-this')
    console.wait_for_selector("#call-dialog[open]")
    assert a2 in console.inner_text("#call-dialog h2")
    console.click('#call-form button[type="submit"]')  # no reason: the form does not go
    assert console.locator("#call-dialog").get_attribute("open") is not None
    console.fill("#call-form input[name=reason]", "群众返回补充材料")
    console.click('#call-form button[type="submit"]')
    wait_current(console, a2, "called")
    # With a ticket at the window, the numbers cannot be clicked.
    console.wait_for_function(
        "() => [...document.querySelectorAll('#waiting-list button.call-this')].every(b => b.disabled)"
    )
    events = httpx.get(
        f"{hall.server.url}/api/v1/halls/{HALL}/events",
        params={"window": 1, "type": "ticket.called"},
        headers={"Authorization": f"Bearer {manager}"},
        timeout=HTTP_TIMEOUT_S,
        trust_env=False,
    ).json()["events"]
    assert [(e["payload"]["number"], e["payload"]["rule"], e["payload"].get("reason")) for e in events] == [
        (a2, "out_of_order", "群众返回补充材料")
    ]


def test_an_expired_login_returns_the_console_to_the_login_form(hall: LiveHall, open_page: OpenPage) -> None:
    hall.clerk("liuxia")
    hall.issue("jisheng")
    console = open_page(f"/clerk/{HALL}", expect_401=True)
    log_in(console, "liuxia")
    console.wait_for_selector("#choose:not([hidden])")
    hall.clock.advance(hours=12, minutes=1)
    hall.issue("jisheng")  # an event: the console reads its desk again, and is told the login is over
    console.wait_for_selector("#login:not([hidden])")
    assert "登录已失效" in console.inner_text("#login .login-error")
    assert console.evaluate("() => sessionStorage.getItem('bianmin.session')") is None


def test_a_wrong_password_is_said_and_nothing_opens(hall: LiveHall, open_page: OpenPage) -> None:
    hall.clerk("liuxia")
    console = open_page(f"/clerk/{HALL}", expect_401=True)
    console.fill("#login-form input[name=username]", "liuxia")
    console.fill("#login-form input[name=password]", "not the password")
    console.click("#login-form button[type=submit]")
    wait_text(console, "#login .login-error", "用户名或密码错误 wrong username or password")  # Chinese first
    assert console.locator("#choose").is_hidden() and console.locator("#work").is_hidden()


def test_a_form_on_another_site_cannot_act_for_a_logged_in_clerk(
    hall: LiveHall, open_page: OpenPage, browser: Browser
) -> None:
    """CSRF: the clerk is logged in in this browser; another site's form posts to the hall and is refused."""
    hall.clerk("liuxia")
    hall.issue("jisheng")
    console = open_page(f"/clerk/{HALL}", expect_401=True)
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")
    attacker = console.context.new_page()
    attacker.set_content(
        f"""<form id="f" method="post" action="{hall.url}/api/v1/halls/{HALL}/windows/1/call-next">
            <input name="x" value="1"></form>"""
    )
    with attacker.expect_navigation() as navigation:
        attacker.evaluate("() => document.getElementById('f').submit()")
    response = navigation.value
    assert response is not None and response.status == 401
    assert json.loads(response.text())["error"]["code"] == "unauthorized"
    attacker.close()
    assert desk(console)["current"] is None
    assert console.context.cookies() == []  # the server never set a cookie


def test_the_clerks_desk_of_cases_extends_hands_on_and_completes(hall: LiveHall, open_page: OpenPage) -> None:
    """我的办件: a 承诺件 finished with a phone appears on the desk (masked), is extended with a reason,
    then completed by mail; a 联办件 shows its leg; the overdue one is marked."""
    assert hall.server is not None
    hall.clerk("liuxia", name="刘霞")
    promised = issue_item(hall, "jisheng-childcare-subsidy")
    console = open_page(f"/clerk/{HALL}")
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")
    for case in ("promised", "joint"):
        press(console, "c")
        console.wait_for_function("() => window.bianminConsole.desk.current !== null")
        press(console, "s")
        wait_current(console, desk(console)["current"]["number"], "serving")
        press(console, "f")
        console.wait_for_selector("#finish-dialog[open]")
        console.keyboard.press({"promised": "2", "joint": "4"}[case])
        if case == "promised":
            console.fill("#finish-form input[name=contact_phone]", "13800138000")
        else:
            console.fill("#finish-form input[name=next_department]", "县卫生健康局")
        console.click('#finish-form button[type="submit"]')
        wait_current(console, None)
        if case == "promised":
            hall.issue("jisheng", 1)  # the next visit, for the 联办件
    console.wait_for_function("() => window.bianminCases.cases && window.bianminCases.cases.mine.length === 2")
    wait_text(console, "#cases-count", "2")
    rows = console.locator("#cases-list tr")
    codes = [rows.nth(i).get_attribute("data-code") for i in range(2)]
    first = next(c for c in window_cases(console) if c["case_class"] == "promised")
    assert first["due_on"] == "2026-04-14" and first["contact"] == "138****8000"
    assert promised == first["number"]
    assert "13800138000" not in console.content(), "the full phone is never on the page"

    console.click(f'#cases-list tr[data-code="{first["code"]}"]')
    console.wait_for_selector("#case-dialog[open]")
    assert "138****8000" in console.inner_text("#case-detail")
    console.select_option("#case-action", "extend")
    console.fill("#case-form input[name=days]", "2")
    console.fill("#case-form input[name=reason]", "<b>需现场核查</b>")
    console.click('#case-form button[type="submit"]')
    console.wait_for_function(
        "(code) => window.bianminCases.cases.mine.find((c) => c.code === code).due_on === '2026-04-16'",
        arg=first["code"],
    )
    row = f'#cases-list tr[data-code="{first["code"]}"]'
    wait_text(console, f"{row} td.num", "2026-04-16")
    joint = next(c for c in window_cases(console) if c["case_class"] == "joint")
    assert "县卫生健康局" in console.inner_text(f'#cases-list tr[data-code="{joint["code"]}"]')
    console.click(row)
    console.wait_for_selector("#case-dialog[open]")
    assert "<b>需现场核查</b>" in console.inner_text("#case-detail"), "markup is shown as text"
    console.wait_for_selector(".toast", state="detached", timeout=10_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOTS / "clerk-case-desk.png"))
    console.select_option("#case-action", "complete")
    console.select_option("#case-form select[name=result]", "mail")
    console.click('#case-form button[type="submit"]')
    console.wait_for_function("() => window.bianminCases.cases.mine.length === 1")
    assert codes and console.locator(row).count() == 0


def window_cases(page: Page) -> list[Any]:
    return list(page.evaluate("() => window.bianminCases.cases.mine"))


def test_after_the_last_recall_the_console_counts_down_to_the_automatic_no_show(
    hall: LiveHall, open_page: OpenPage
) -> None:
    hall.clerk("liuxia", name="刘霞")
    a1, _a2 = hall.issue("jisheng", 2)
    console = open_page(f"/clerk/{HALL}")
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")
    console.click('#actions [data-action="call-next"]')
    wait_current(console, a1, "called")
    for recalls in (1, 2):
        press(console, "r")
        console.wait_for_function(f"() => window.bianminConsole.desk.current.recalls === {recalls}")
    assert console.locator("#auto-no-show").is_hidden()  # a recall is left: no countdown yet
    press(console, "r")
    console.wait_for_selector("#auto-no-show:not([hidden])")
    shown = console.inner_text("#auto-no-show")
    assert "后自动过号" in shown and "Automatic no-show in" in shown
    assert "02:00" in shown or "01:5" in shown, shown  # about 120 s left
    console.locator("#current").screenshot(path=str(SCREENSHOTS / "clerk-auto-no-show.png"))
    hall.clock.advance(seconds=119)
    wait_current(console, None)  # the system marked it: the window is free
    assert console.locator("#auto-no-show").is_hidden()
    assert not console.locator('#actions [data-action="call-next"]').is_disabled()
