"""The village agent's page /agent/{hall} in headless Chromium at 390×844 against a real server: the agent takes
a case for a villager; the clerk console shows it at window 1 with what is missing and asks for 补办 there; the
agent sees the request, brings the material, and after the clerk's 办结 records handing the result back.

Screenshots: docs/screenshots/agent-take.png, agent-cases.png, clerk-agent-case.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.server import HALL
from tests.web.test_console import SCREENSHOTS, OpenPage, log_in, open_page, unexpected, wait_text

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.web.conftest import LiveHall

__all__ = ["open_page"]  # the clerk console's fixture, used here too
PHONE = {"width": 390, "height": 844}
ITEM = "jisheng-childcare-subsidy"


@pytest.fixture
def phone(browser: Browser, hall: LiveHall) -> Iterator[Page]:
    """The agent page in a phone-sized context; no script error allowed."""
    context: BrowserContext = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                                  has_touch=True, locale="zh-CN")  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(8_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if unexpected(m, False) else None)
    page.goto(hall.page_url(f"/agent/{HALL}"))
    page.wait_for_function("() => document.body.classList.contains('ready')")
    yield page
    context.close()
    assert not errors, errors


def agent_cases(page: Page) -> list[Any]:
    return list(page.evaluate("() => window.bianminAgent.desk ? window.bianminAgent.desk.cases : []"))


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.fonts.ready")
    page.wait_for_selector(".toast", state="detached", timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_agent_takes_a_case_on_the_phone_and_follows_it_to_the_hand_back(
    hall: LiveHall, phone: Page, open_page: OpenPage
) -> None:
    assert hall.server is not None
    hall.server.add_staff("cun-wang", "agent", name="王代办", point="qingshan-cun")
    log_in(phone, "cun-wang")
    phone.wait_for_selector("#work:not([hidden])")
    wait_text(phone, "#where", "青山村代办点 · 青山镇便民服务中心 · 王代办")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    phone.select_option("#item", ITEM)
    boxes = phone.locator("#materials input[name=collected]")
    assert boxes.count() == 4 and "居民身份证" in phone.inner_text("#materials")
    for i in range(3):
        boxes.nth(i).check()
    phone.fill("#take input[name=villager_name]", "张小华")
    phone.fill("#take input[name=phone]", "13800138000")
    phone.click('#take button[type="submit"]')
    assert phone.evaluate("() => document.querySelector('#take').checkValidity()") is False, "consent is required"
    phone.check("#take input[name=consent]")
    shoot(phone, "agent-take.png")
    phone.click('#take button[type="submit"]')
    phone.wait_for_selector("#taken:not([hidden])")
    phone.wait_for_function(
        "() => window.bianminAgent.desk && window.bianminAgent.desk.cases.length > 0"
    )  # the desk is read again after the case was taken
    code = agent_cases(phone)[0]["code"]
    assert code in phone.inner_text("#taken") and "待补：监护关系证明" in phone.inner_text("#taken")

    # The clerk of window 1 sees it on the desk with the point and what is missing, and asks for it.
    hall.clerk("liuxia", name="刘霞")
    console = open_page(f"/clerk/{HALL}")
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    row = f'#cases-list tr[data-code="{code}"]'
    console.wait_for_selector(row)
    assert "青山村代办点 王代办" in console.inner_text(row) and "缺：监护关系证明" in console.inner_text(row)
    assert "代理件" in console.inner_text(row)
    console.click(row)
    console.wait_for_selector("#case-dialog[open]")
    assert "群众 张*华" in console.inner_text("#case-detail") and "13800138000" not in console.content()
    console.select_option("#case-action", "supplement")
    assert console.input_value("#case-form textarea[name=materials]") == "监护关系证明"
    console.screenshot(path=str(SCREENSHOTS / "clerk-agent-case.png"))
    console.click('#case-form button[type="submit"]')
    console.wait_for_selector("#case-dialog", state="hidden")

    # The agent's page hears of it over the live link: 需补办 with the missing material; the agent brings it.
    phone.click("#tab-cases")
    card = f'.case[data-code="{code}"]'
    phone.wait_for_function("(code) => document.querySelector(`.case[data-code='${code}'] .missing`)", arg=code)
    assert "需补办" in phone.inner_text(card) and "监护关系证明" in phone.inner_text(f"{card} .missing")
    assert "张*华" in phone.inner_text(card) and "138****8000" in phone.inner_text(card)
    assert "13800138000" not in phone.content() and "张小华" not in phone.content()
    shoot(phone, "agent-cases.png")
    phone.check(f"{card} .missing input")
    phone.click(f"{card} .missing button")
    phone.wait_for_function("(code) => !document.querySelector(`.case[data-code='${code}'] .missing`)", arg=code)
    assert agent_cases(phone)[0]["state"] == "in_progress"

    hall._post(f"/cases/{code}/complete", hall.tokens["liuxia"], {"result": "agent"})
    phone.wait_for_selector(f"{card} button.primary")
    assert "办结 Completed：代办员转交" in phone.inner_text(card)
    phone.click(f"{card} button.primary")
    phone.wait_for_function("() => window.bianminAgent.desk.cases[0].handed_back_at !== null")
    assert "已转交群众 Handed back" in phone.inner_text(card)


def test_a_clerk_who_logs_in_on_the_agent_page_is_sent_back(hall: LiveHall, phone: Page) -> None:
    hall.clerk("liuxia")
    log_in(phone, "liuxia")
    wait_text(phone, "#login .login-error", "此页面仅供村级代办员使用 This page is for village agents")
    assert phone.is_hidden("#work")
