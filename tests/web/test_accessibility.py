"""axe-core over every page at the sizes it is used at: no serious or critical violation.

Each page is opened in the state a person sees it in (a board with calls, the clerk console at work and
in each of its dialogs, every tab of the manager's dashboard, the citizen's ticket, booking and
supervision pages, the village agent's page), and checked as
served, under its own Content-Security-Policy. Each page has one <h1>, and its English text is marked
lang="en" so a screen reader does not read it with a Chinese voice.

The county dashboard and the city rollup need a county (and a city) with halls shipping to them: `check` runs
inside their own tests (tests/web/test_county.py, test_city.py), at login, at work and refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.axe import violations
from tests.support.server import HALL
from tests.web.conftest import LiveHall
from tests.web.test_console import log_in, press

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

OpenPage = Callable[..., "Page"]


@pytest.fixture
def open_page(browser: Browser, hall: LiveHall) -> Iterator[OpenPage]:
    contexts: list[Any] = []

    def open_(path: str, width: int, height: int, ready: str = "document.readyState === 'complete'") -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(hall.page_url(path))
        page.wait_for_function(f"() => {ready}")  # a function: the boards' policy refuses an evaluated string
        return page

    yield open_
    for context in contexts:
        context.close()


def check(page: Page, what: str) -> None:
    found = violations(page)
    assert not found, f"{what}: {found}"
    assert page.locator("h1").count() == 1, f"{what}: one <h1>"
    unmarked = page.evaluate(
        "() => [...document.querySelectorAll('.en')].filter(n => n.closest('[lang=\"en\"]') === null)"
        ".map(n => n.textContent.trim()).filter(Boolean).slice(0, 5)"
    )
    assert not unmarked, f"{what}: English without lang=en: {unmarked}"


def test_the_boards(hall: LiveHall, open_page: OpenPage) -> None:
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng", 3)
    hall.call_next(clerk, 1)
    for width, height in ((1920, 1080), (1366, 768), (1080, 1920)):
        board = open_page(f"/board/{HALL}?sound=0", width, height, "document.body.classList.contains('ready')")
        check(board, f"hall board {width}×{height}")
    window = open_page(f"/board/{HALL}/window/1?sound=0", 1366, 768, "document.body.classList.contains('ready')")
    check(window, "window board")


def test_the_evaluator_pad(hall: LiveHall, open_page: OpenPage) -> None:
    clerk = hall.open(1, "liuxia", name="刘霞")
    ready = "window.bianminPad && window.bianminPad.link.connects > 0"
    check(open_page(f"/rate/{HALL}/window/1", 1280, 800, ready), "evaluator pad, not registered")
    assert hall.server is not None
    token = hall.server.add_device("pad-w1")
    pad = open_page(f"/rate/{HALL}/window/1#token={token}", 1280, 800, ready)
    pad.wait_for_function("() => document.querySelector('#clerk-name').textContent === '刘霞'")
    check(pad, "evaluator pad, idle")
    hall.issue("jisheng")
    hall.call_next(clerk, 1)
    hall.serve(clerk, 1)
    pad.wait_for_selector("#ask", state="visible")
    pad.click('#levels [data-level="very_dissatisfied"]')
    check(pad, "evaluator pad, asking")


def test_the_clerk_console(hall: LiveHall, open_page: OpenPage) -> None:
    hall.clerk("liuxia", name="刘霞")
    hall.issue("jisheng", 3)
    console = open_page(f"/clerk/{HALL}", 1366, 768, "document.body.classList.contains('ready')")
    check(console, "clerk login")
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")
    console.click("#waiting-list button.call-this >> nth=1")  # 指定叫号 asks for a reason
    console.wait_for_selector("#call-dialog[open]")
    check(console, "clerk console, #call-dialog")
    console.keyboard.press("Escape")
    console.wait_for_selector("#call-dialog:not([open])", state="attached")
    console.wait_for_selector('#actions [data-action="call-next"]:not([disabled])')  # a key acts once enabled
    press(console, "c")
    console.wait_for_function("() => window.bianminConsole.desk.current !== null")
    check(console, "clerk console at work")
    dialogs = (("t", "transfer", "#transfer-dialog"), ("x", "no-show", "#no-show-dialog"))
    for key, action, dialog in dialogs:  # the dialogs a clerk works in, each once its button is enabled again
        console.wait_for_selector(f'#actions [data-action="{action}"]:not([disabled])')
        console.keyboard.press(key)
        console.wait_for_selector(f"{dialog}[open]")
        check(console, f"clerk console, {dialog}")
        console.keyboard.press("Escape")
        console.wait_for_selector(f"{dialog}:not([open])", state="attached")
    console.wait_for_selector('#actions [data-action="start"]:not([disabled])')
    press(console, "s")
    console.wait_for_selector('#actions [data-action="finish"]:not([disabled])')
    press(console, "f")
    console.wait_for_selector("#finish-dialog[open]")
    check(console, "clerk console, #finish-dialog")


def test_the_manager_dashboard(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager", name="王主任")
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng", 4)
    hall.serve(clerk, 1) if hall.call_next(clerk, 1) else None
    hall.call_next(clerk, 1)
    hall.act(clerk, 1, "start")
    hall.act(clerk, 1, "finish", {"case_class": "promised", "promised_days": 3})  # an open case for 办件
    wall = open_page(f"/manager/{HALL}", 1440, 900, "document.body.classList.contains('ready')")
    check(wall, "manager login")
    log_in(wall, "director")
    wall.wait_for_function("() => window.bianminDashboard.dayChart !== null")
    check(wall, "manager wall")
    wall.wait_for_selector('#tabs [data-tab="cases"]:not([hidden])')
    for tab in ("ratings", "complaints", "cases", "reports", "audit"):
        wall.click(f'#tabs [data-tab="{tab}"]')
        wall.wait_for_timeout(500)
        check(wall, f"manager {tab}")
    hall.server.add_staff("root", "admin", name="管理员")
    admin = open_page(f"/manager/{HALL}", 1440, 900, "document.body.classList.contains('ready')")
    log_in(admin, "root")
    admin.click('#tabs [data-tab="staff"]')
    admin.wait_for_selector('#staff-rows tr[data-username="liuxia"]')
    check(admin, "manager staff")


def test_the_phone_pages(hall: LiveHall, open_page: OpenPage) -> None:
    hall.issue("jisheng")
    ticket = hall._post("/tickets", hall.kiosk, {"category": "jisheng"}, **{"Idempotency-Key": "axe"})
    track = open_page(f"/t/{ticket['track_token']}", 390, 844, "window.bianminPhone && window.bianminPhone.status")
    check(track, "ticket page")
    book = open_page(f"/book/{HALL}", 390, 844)
    book.wait_for_selector("#days .day .left")
    book.wait_for_selector("#slots .slot .left")  # the places-left counts (余N) are on screen
    check(book, "booking page")
    gone = open_page("/t/not-a-ticket", 390, 844)
    check(gone, "expired ticket page")


def test_the_supervision_and_agent_pages(hall: LiveHall, open_page: OpenPage) -> None:
    """The public 互联网+监督 page and the village agent's page, both at phone size."""
    assert hall.server is not None
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng")
    hall.call_next(clerk, 1)
    hall.serve(clerk, 1)
    supervision = open_page(f"/q/{HALL}", 390, 844, "document.body.classList.contains('ready')")
    check(supervision, "supervision page")
    hall.server.add_staff("cun-wang", "agent", name="王代办", point="qingshan-cun")
    agent = open_page(f"/agent/{HALL}", 390, 844, "document.body.classList.contains('ready')")
    check(agent, "agent login")
    log_in(agent, "cun-wang")
    agent.wait_for_selector("#work:not([hidden])")
    agent.select_option("#item", "jisheng-childcare-subsidy")
    agent.wait_for_selector("#materials input[name=collected]")
    check(agent, "agent page at work")
