"""The window's evaluator pad (评价器) in headless Chromium at tablet size, against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.server import HALL
from tests.web.conftest import LiveHall
from tests.web.test_web_board import DEADLINE_MS, SCREENSHOTS, text, unexpected, wait_text

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TABLET = {"width": 1280, "height": 800}
IDLE_S = 10


@pytest.fixture
def pads(browser: Browser, hall: LiveHall) -> Iterator[dict[int, Page]]:
    """The pads of windows 1 and 2 in one tablet-sized context; no script error on either."""
    context = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    errors: list[str] = []
    opened = {}
    for window in (1, 2):
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if unexpected(m) else None)
        assert hall.server is not None
        token = hall.server.add_device(f"pad-w{window}")  # registered once: the page keeps it, off the address
        page.goto(hall.page_url(f"/rate/{HALL}/window/{window}?idle_s={IDLE_S}#token={token}"))
        page.wait_for_function("() => window.bianminPad && window.bianminPad.link.connects > 0")
        assert token not in page.url and page.locator("#unregistered").is_hidden()
        opened[window] = page
    yield opened
    context.close()
    assert not errors, errors


def test_a_finish_turns_the_pad_of_that_window_to_its_rating_and_back(hall: LiveHall, pads: dict[int, Page]) -> None:
    pad, other = pads[1], pads[2]
    assert text(pad, "#window-number") == "1" and text(pad, "#window-name-zh") == "计生服务窗口"
    assert "0731-8562 3119" in text(pad, "#supervision")  # the hall's supervision phone (hall.toml)
    assert hall.server is not None
    clerk = hall.clerk("liuxia", name="刘霞")
    admin = {"Authorization": f"Bearer {hall.server.add_staff('root', role='admin')}"}
    numbered = hall.http.patch(f"{hall.url}/api/v1/staff/liuxia", json={"staff_no": "QS-0107"}, headers=admin)
    assert numbered.status_code == 200, numbered.text
    hall.open(1, "liuxia")
    hall.open(2, "zhaogang", name="赵刚")
    wait_text(pad, "#clerk-name", "刘霞")
    assert text(pad, "#clerk-post").startswith("A岗")
    wait_text(pad, "#clerk-no", "工号 Staff No. QS-0107")  # the badge's number (亮牌服务), read with the pad's token
    wait_text(other, "#clerk-name", "赵刚")
    assert other.locator("#clerk-no").is_hidden()  # zhaogang has no staff number
    pad.evaluate("document.fonts.ready.then(() => true)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pad.screenshot(path=str(SCREENSHOTS / "evaluator-pad-idle.png"))

    number = hall.issue("jisheng")[0]
    assert hall.call_next(clerk, 1) == number
    hall.serve(clerk, 1)
    pad.wait_for_selector("#ask", state="visible")
    assert text(pad, "#ask-number") == number
    assert pad.locator("#levels .level").all_inner_texts()[0].startswith("非常满意")
    assert pad.locator("#levels .level").count() == 5
    assert other.locator("#idle").is_visible() and other.locator("#ask").is_hidden()  # window 2 had no visit

    pad.locator('#levels [data-level="dissatisfied"]').tap()
    assert pad.locator("#bad").is_visible() and pad.locator("#submit").is_disabled()  # a reason first
    pad.locator('#reasons [data-reason="efficiency"]').tap()
    assert pad.locator("#submit").is_enabled()
    pad.screenshot(path=str(SCREENSHOTS / "evaluator-pad.png"))
    pad.locator("#submit").tap()
    wait_text(pad, "#thanks-level .zh", "不满意")
    pad.wait_for_selector("#idle", state="visible", timeout=DEADLINE_MS + 4_000)  # after the thanks
    assert text(pad, "#clerk-name") == "刘霞"
    assert hall.server is not None
    manager = hall.server.add_staff("director", role="manager")
    answer = hall.http.get("/ratings", headers={"Authorization": f"Bearer {manager}"})
    assert answer.status_code == 200, answer.text
    rated = answer.json()["ratings"]
    assert [(r["number"], r["level"], r["reasons"]) for r in rated] == [(number, "dissatisfied", ["efficiency"])]

    # A visit left unrated: the question goes away by itself after the idle time.
    hall.issue("jisheng")
    hall.call_next(clerk, 1)
    hall.serve(clerk, 1)
    pad.wait_for_selector("#ask", state="visible")
    pad.wait_for_selector("#idle", state="visible", timeout=(IDLE_S + 5) * 1000)


def test_a_pad_opened_without_its_token_says_so_and_asks_nobody(browser: Browser, hall: LiveHall) -> None:
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(DEADLINE_MS)
    page.goto(hall.page_url(f"/rate/{HALL}/window/1?idle_s={IDLE_S}"))
    page.wait_for_function("() => window.bianminPad && window.bianminPad.link.connects > 0")
    assert text(page, "#unregistered").startswith("本评价器尚未登记")
    clerk = hall.open(1, "liuxia", name="刘霞")
    wait_text(page, "#clerk-name", "刘霞")  # the window and its clerk, as on a registered pad
    number = hall.issue("jisheng")[0]
    assert hall.call_next(clerk, 1) == number
    hall.serve(clerk, 1)
    page.wait_for_timeout(1000)
    assert page.locator("#ask").is_hidden() and page.locator("#idle").is_visible()
    context.close()
