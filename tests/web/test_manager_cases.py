"""The manager's case list (办件台账, web/manager/cases.js) in headless Chromium against a real server: the hall's
open cases, the overdue ones and those due today, as GET .../cases?view= gives them, on the hall's calendar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.web.conftest import LiveHall
from tests.web.test_dashboard import SCREENSHOTS, OpenPage, log_in, open_page, wait_text

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["open_page"]  # the fixture, shared with the dashboard's tests

ROWS = "#manager-case-rows tr"


def codes(page: Page) -> list[str]:
    return [page.inner_text(f"{ROWS}:nth-child({i + 1}) td.code") for i in range(page.locator(ROWS).count())]


def test_the_manager_sees_the_open_overdue_and_due_today_cases(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    clerk = hall.open(1, "liuxia", name="刘霞")  # Monday 16 March 2026, 09:00
    made = {}
    for name, body in {
        "late": {"case_class": "promised", "promised_days": 1},  # due Tuesday 17th: overdue on Thursday
        "today": {"case_class": "promised", "promised_days": 3},  # due Thursday 19th
        "waiting": {"case_class": "supplement", "missing_materials": ["身份证复印件"]},  # no due date yet
        "done": {"case_class": "immediate"},  # closed at once: never in the list
    }.items():
        hall.issue("jisheng")
        hall.call_next(clerk, 1)
        hall.act(clerk, 1, "start")
        made[name] = hall.act(clerk, 1, "finish", body)["case_code"]
    hall.clock.advance(days=3)  # Thursday 19 March
    hall.server.add_staff("director", "manager", name="王主任")

    page = open_page(f"/manager/{hall.config.halls[0].id}", width=1600, height=900)
    log_in(page, "director")
    page.wait_for_selector('#tabs [data-tab="cases"]:not([hidden])')
    tab = page.inner_text('#tabs [data-tab="cases"]')
    assert "办件" in tab and "Cases" in tab
    page.click('#tabs [data-tab="cases"]')
    page.wait_for_selector(f'{ROWS}[data-code="{made["late"]}"]')
    assert not page.is_hidden("#tab-cases") and page.is_hidden("#tab-wall")
    assert set(codes(page)) == {made["late"], made["today"], made["waiting"]}  # the closed 即办件 is not open
    late = f'{ROWS}[data-code="{made["late"]}"]'
    assert page.get_attribute(late, "class") == "overdue"
    assert page.inner_text(f"{late} td.state") == "逾期" and page.inner_text(f"{late} td.due-on") == "2026-03-17"
    # Named by its category (no item), from the wall, whichever of the two reads came back first.
    page.wait_for_function("s => document.querySelector(s).textContent.includes('计生服务')", arg=late)
    assert "1号窗口 · liuxia" in page.inner_text(late)
    today = f'{ROWS}[data-code="{made["today"]}"]'
    assert page.get_attribute(today, "class") == "due" and page.inner_text(f"{today} td.due-on") == "2026-03-19"
    assert "待补齐材料" in page.inner_text(f'{ROWS}[data-code="{made["waiting"]}"] td.due-on')
    wait_text(page, "#cases-overdue-count", "1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "manager-cases.png"), full_page=True)

    page.click('#tab-cases [data-view="overdue"]')
    page.wait_for_function("n => document.querySelectorAll(n).length === 1", arg=ROWS)
    assert codes(page) == [made["late"]]
    assert "active" in (page.get_attribute('#tab-cases [data-view="overdue"]', "class") or "")
    pressed = page.locator("#tab-cases [data-view]").evaluate_all(
        "bs => bs.map(b => [b.dataset.view, b.getAttribute('aria-pressed')])"
    )
    assert pressed == [["open", "false"], ["overdue", "true"], ["due_today", "false"]]  # said to a screen reader too
    page.click('#tab-cases [data-view="due_today"]')
    page.wait_for_function("([n, c]) => document.querySelector(n + ' td.code').textContent === c",
                           arg=[ROWS, made["today"]])  # fmt: skip
    assert codes(page) == [made["today"]]

    # The list follows the ledger: the clerk (logged in again: three days on) completes today's case.
    again = hall.server.login("liuxia")
    done = hall.http.post(f"/cases/{made['today']}/complete", json={"result": "window"},
                          headers={"Authorization": f"Bearer {again}"})  # fmt: skip
    assert done.status_code == 200, done.text
    page.click('#tab-cases [data-view="due_today"]')
    page.wait_for_selector("#manager-cases-empty:not([hidden])")
    assert page.locator(ROWS).count() == 0 and "没有办件" in page.inner_text("#manager-cases-empty")
