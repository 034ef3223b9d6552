"""The web boards in headless Chromium against a real server: calls shown and said, reconnects, screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.screenshots import SCREENSHOTS
from tests.support.server import HALL, free_port
from tests.web.conftest import LiveHall

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

DEADLINE_MS = 8_000  # what the page must show or do, it does within this
RECONNECT_MS = 15_000  # a board back on its server within this (back-off capped at 0.5 s in these tests)
FAST = "offline_s=1&retry_s=0.5"

OpenPage = Callable[..., "Page"]


@pytest.fixture
def open_page(browser: Browser, hall: LiveHall) -> Iterator[OpenPage]:
    """Open a board page in a fresh context; after the test, no page may have had a script error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(path: str, *, enable_sound: bool = True) -> Page:
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("pageerror", lambda error: errors.append(f"{path}: {error}"))
        page.on("console", lambda m: errors.append(f"{path}: console: {m.text}") if unexpected(m) else None)
        page.goto(hall.page_url(path))
        page.wait_for_function("() => document.body.classList.contains('ready')")
        if enable_sound:
            # A fresh headless Chromium blocks audio until a user gesture: the one-time overlay asks for it.
            page.wait_for_function("() => window.bianminBoard.soundBlocked")
            assert page.locator("#sound-overlay").is_visible()
            page.click("#sound-button")
            page.wait_for_function("() => !window.bianminBoard.soundBlocked")
            assert page.locator("#sound-overlay").is_hidden()
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


def unexpected(message: ConsoleMessage) -> bool:
    """A console error, except the browser's own notes on connections refused while a test stops the server."""
    network = ("net::ERR_CONNECTION_REFUSED", "WebSocket connection to")
    return message.type == "error" and not any(note in message.text for note in network)


def text(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def wait_text(page: Page, selector: str, expected: str, timeout: int = DEADLINE_MS) -> None:
    page.wait_for_function(
        """([selector, expected]) => {
            const node = document.querySelector(selector);
            return node !== null && node.textContent.trim() === expected;
        }""",
        arg=[selector, expected],
        timeout=timeout,
    )


def announced(page: Page) -> list[tuple[str, int, int]]:
    entries = page.evaluate("window.bianminBoard.announced")
    seqs = [entry["seq"] for entry in entries]
    assert seqs == sorted(set(seqs)), f"a call announced twice or out of order: {entries}"
    return [(entry["number"], entry["window"], entry["recall"]) for entry in entries]


def wait_announced(page: Page, count: int, timeout: int = DEADLINE_MS) -> None:
    page.wait_for_function(f"() => window.bianminBoard.announced.length >= {count}", timeout=timeout)


def test_the_hall_board_shows_a_call_and_says_it_and_its_recall_one_after_the_other(
    hall: LiveHall, open_page: OpenPage
) -> None:
    page = open_page(f"/board/{HALL}")
    clerk = hall.open(1, "liuxia", name="刘霞")
    hall.issue("jisheng", 3)

    number = hall.call_next(clerk, 1)
    assert number == "A001"
    wait_text(page, "#latest-number", "A001")
    assert text(page, "#latest-window") == "1"
    assert "请 A001 号到 1 号窗口办理" in text(page, "#latest-text-zh")
    wait_text(page, '.window-card[data-window="1"] [data-role="current"]', "A001")
    wait_text(page, '.queue-chip[data-category="jisheng"] .queue-count .n', "2")
    assert page.locator(".recent-call.newest").get_attribute("data-number") == "A001"

    hall.act(clerk, 1, "recall")
    wait_announced(page, 2)
    page.wait_for_function("() => window.bianminBoard.spoken.length >= 2")
    assert announced(page) == [("A001", 1, 0), ("A001", 1, 1)]
    spoken = page.evaluate("window.bianminBoard.spoken")
    assert [s["outcome"] for s in spoken] == ["played", "played"], spoken
    assert spoken[1]["started"] >= spoken[0]["ended"], f"two announcements overlapped: {spoken}"
    assert page.locator("#latest.recall").count() == 1  # the recall is marked on the board
    assert page.locator(".recent-call").count() == 1  # and not listed twice


def test_a_dropped_connection_loses_no_call_and_says_none_twice(hall: LiveHall, open_page: OpenPage) -> None:
    page = open_page(f"/board/{HALL}?{FAST}")
    window_1 = hall.open(1, "liuxia")
    window_3 = hall.open(3, "wangfang")
    hall.issue("jisheng", 3)
    hall.issue("minzheng", 2)
    assert hall.call_next(window_1, 1) == "A001"
    wait_text(page, "#latest-number", "A001")

    hall.stop()
    page.wait_for_function("() => document.body.classList.contains('offline')")
    assert page.locator("#offline-mark").is_visible()

    # While the board is away, the hall goes on: a server on the same database but another port
    # (the board cannot reach it) calls three times, then the board's own server comes back.
    hall.start(port=free_port())
    hall.serve(window_1, 1)
    assert hall.call_next(window_1, 1) == "A002"
    assert hall.call_next(window_3, 3) == "C001"
    hall.act(window_3, 3, "recall")
    hall.stop()
    hall.start()

    wait_text(page, "#latest-number", "C001", timeout=RECONNECT_MS)
    page.wait_for_function("() => !document.body.classList.contains('offline')")
    hall.serve(window_1, 1)
    assert hall.call_next(window_1, 1) == "A003"  # and a live call after the resume
    wait_text(page, "#latest-number", "A003")
    wait_announced(page, 5)
    page.wait_for_timeout(500)  # nothing more may come
    assert announced(page) == [("A001", 1, 0), ("A002", 1, 0), ("C001", 3, 0), ("C001", 3, 1), ("A003", 1, 0)]
    assert page.evaluate("window.bianminBoard.link.connects") >= 2
    recent = page.locator(".recent-call").evaluate_all("rows => rows.map(r => [r.dataset.number, r.dataset.window])")
    assert recent[:3] == [["A003", "1"], ["C001", "3"], ["A002", "1"]]
    assert ["A001", "1"] in recent
    assert text(page, '.window-card[data-window="3"] [data-role="current"]') == "C001"


def test_calls_missed_long_ago_are_shown_but_not_said(hall: LiveHall, open_page: OpenPage) -> None:
    page = open_page(f"/board/{HALL}?{FAST}")
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng", 3)
    hall.call_next(clerk, 1)
    wait_announced(page, 1)

    hall.stop()
    page.wait_for_function("() => document.body.classList.contains('offline')")
    hall.start(port=free_port())
    hall.serve(clerk, 1)
    assert hall.call_next(clerk, 1) == "A002"
    hall.stop()
    hall.clock.advance(seconds=90)  # the board comes back a minute and a half after that call
    hall.start()

    wait_text(page, "#latest-number", "A002", timeout=RECONNECT_MS)
    hall.serve(clerk, 1)
    assert hall.call_next(clerk, 1) == "A003"
    wait_announced(page, 2)
    assert announced(page) == [("A001", 1, 0), ("A003", 1, 0)]
    skipped = page.evaluate("window.bianminBoard.skipped")
    assert [(s["number"], s["reason"]) for s in skipped] == [("A002", "old")]


def test_a_reloaded_board_says_nothing_until_the_next_call(hall: LiveHall, open_page: OpenPage) -> None:
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng", 2)
    hall.call_next(clerk, 1)
    page = open_page(f"/board/{HALL}")
    wait_text(page, "#latest-number", "A001")  # from the snapshot: shown, not said
    page.wait_for_timeout(300)
    assert announced(page) == []
    hall.serve(clerk, 1)
    hall.call_next(clerk, 1)
    wait_announced(page, 1)
    assert announced(page) == [("A002", 1, 0)]


def test_sound_0_keeps_the_hall_board_silent_without_asking_for_a_click(hall: LiveHall, open_page: OpenPage) -> None:
    page = open_page(f"/board/{HALL}?sound=0", enable_sound=False)
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng")
    hall.call_next(clerk, 1)
    page.wait_for_function("() => window.bianminBoard.spoken.length >= 1")
    assert page.evaluate("window.bianminBoard.spoken[0].outcome") == "muted"
    assert page.locator("#sound-overlay").is_hidden()


def test_the_window_board_shows_its_clerk_number_queue_and_pause(hall: LiveHall, open_page: OpenPage) -> None:
    page = open_page(f"/board/{HALL}/window/1?sound=1")
    assert text(page, "#window-number") == "1"
    assert text(page, "#window-name-zh") == "计生服务窗口"
    assert page.locator("#window-shade").is_visible()  # closed until a clerk opens it

    clerk = hall.open(1, "liuxia", name="刘霞")
    wait_text(page, "#clerk-name", "刘霞")
    assert text(page, "#clerk-post-zh").startswith("A岗")
    assert page.locator("#window-shade").is_hidden()
    hall.issue("jisheng", 3)
    hall.issue("zonghe", 1)

    first = hall.call_next(clerk, 1)
    wait_text(page, "#current-number", first)
    assert first in text(page, "#current-state-zh")
    # The list is read again after the call (the numbers of an earlier read, taken before the call, show meanwhile).
    page.wait_for_function(
        """(first) => {
            const shown = [...document.querySelectorAll('#next .next-number')].map((li) => li.textContent);
            return shown.length === 3 && !shown.includes(first);
        }""",
        arg=first,
    )
    shown = page.locator("#next .next-number").all_inner_texts()
    assert first not in shown and len(set(shown)) == 3
    assert text(page, "#waiting-total") == "3"
    wait_text(page, '#waiting [data-category="jisheng"] .count .n', "2")

    other = hall.open(10, "chenjing")  # another window's call is not this board's to say
    hall.call_next(other, 10)
    hall.act(clerk, 1, "start")
    wait_text(page, "#current-state-zh", "正在办理")
    hall.act(clerk, 1, "finish", {"case_class": "immediate"})
    hall.act(clerk, 1, "pause", {"reason": "午间休息"})
    wait_text(page, "#shade-zh", "暂停服务")
    assert page.locator("#window-shade").is_visible()
    assert text(page, "#shade-reason") == "午间休息"
    assert announced(page) == [(first, 1, 0)]


def glyph_check(page: Page, family: str) -> dict[str, Any]:
    """Draw 号 and 窗 in `family`: real glyphs have ink and differ; a missing font draws the same box twice."""
    result: dict[str, Any] = page.evaluate(
        """async (family) => {
            await document.fonts.ready;
            const draw = (ch) => {
                const canvas = document.createElement("canvas");
                canvas.width = canvas.height = 64;
                const ctx = canvas.getContext("2d");
                ctx.font = `48px ${family}`;
                ctx.fillStyle = "#000";
                ctx.fillText(ch, 4, 52);
                return Array.from(ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3));
            };
            const a = draw("号"), b = draw("窗");
            return { ink: a.filter((v) => v > 0).length, differ: a.some((v, i) => v !== b[i]) };
        }""",
        family,
    )
    return result


def test_chinese_renders_with_the_page_fonts_and_with_the_bundled_web_font(hall: LiveHall, open_page: OpenPage) -> None:
    page = open_page(f"/board/{HALL}", enable_sound=False)
    body_font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert body_font.startswith('"Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC"'), body_font
    page_glyphs = glyph_check(page, body_font)
    assert page_glyphs["ink"] > 50 and page_glyphs["differ"], page_glyphs
    # The bundled font, for a PC with no Chinese font: the browser must accept the file the server sends.
    status = page.evaluate(
        """async () => {
            const face = new FontFace("BundledProbe", "url(/web/fonts/wqy-microhei.ttf)");
            await face.load();
            document.fonts.add(face);
            return face.status;
        }"""
    )
    assert status == "loaded"
    bundled = glyph_check(page, "BundledProbe")
    assert bundled["ink"] > 50 and bundled["differ"], bundled


def test_screenshots_of_both_boards(hall: LiveHall, open_page: OpenPage) -> None:
    """A busy morning, for docs/screenshots/web-board-hall.png and web-board-window.png (look at them)."""
    clerks = {1: ("liuxia", "刘霞"), 2: ("zhaogang", "赵刚"), 3: ("wangfang", "王芳"), 4: ("sunwei", "孙伟"),
              5: ("hujun", "胡军"), 9: ("xiaoming", "肖明"), 10: ("chenjing", "陈静")}  # fmt: skip
    tokens = {window: hall.open(window, username, name=name) for window, (username, name) in clerks.items()}
    for category, count in (("jisheng", 5), ("guotu", 2), ("minzheng", 4), ("sifa", 1), ("laobao", 6),
                            ("huji", 3), ("zonghe", 2), ("caizheng", 1)):  # fmt: skip
        hall.issue(category, count)
    for window in (2, 5, 9, 1):
        hall.call_next(tokens[window], window)
        hall.act(tokens[window], window, "start")
    hall.act(tokens[4], 4, "pause", {"reason": "外出协调"})
    hall.call_next(tokens[10], 10)
    hall.call_next(tokens[3], 3)

    page = open_page(f"/board/{HALL}")
    wait_text(page, "#latest-number", "C001")
    page.evaluate("document.fonts.ready.then(() => true)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-board-hall.png"))

    board = open_page(f"/board/{HALL}/window/3", enable_sound=False)
    wait_text(board, "#current-number", "C001")
    wait_text(board, "#clerk-name", "王芳")
    board.wait_for_function("() => document.querySelectorAll('#next .next-number').length > 0")
    board.evaluate("document.fonts.ready.then(() => true)")
    board.screenshot(path=str(SCREENSHOTS / "web-board-window.png"))
    assert (SCREENSHOTS / "web-board-hall.png").stat().st_size > 50_000
