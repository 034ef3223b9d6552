"""The hall board's layout in headless Chromium, for a county hall of 60 windows: landscape and portrait.

Whole rows only in 最近叫号, windows and queues paged with every card shown whole over the pages, names
never cut with "…", a recall flashing besides the newest call, and a notice zone that takes no room from
the calls. The hall is built through the configuration loader, as a county writes it (tests/support/halls.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from config.schema import HallConfig
from tests.support.halls import county_hall
from tests.support.screenshots import SCREENSHOTS
from tests.support.server import HALL
from tests.web.conftest import LiveHall, TickingClock, cheap_hashing

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SIZES = [(1920, 1080), (1366, 768), (1080, 1920)]
SIZE_IDS = ["1920x1080", "1366x768", "1080x1920"]
WINDOWS = 60
OPEN = range(1, 13)  # windows with a clerk (logins are rate-limited per address: a dozen is plenty)
CATEGORIES = ["jisheng", "guotu", "minzheng", "sifa", "laobao", "caizheng", "nonglin", "huji", "zonghe"]
DEADLINE_MS = 8_000


@pytest.fixture(scope="module")
def county_config(tmp_path_factory: pytest.TempPathFactory, web_config: HallConfig) -> HallConfig:
    """The 60-window hall from its TOML, with the suite's short voice clips."""
    config = county_hall(tmp_path_factory.mktemp("county") / "config", WINDOWS)
    hall = config.halls[0]
    voice = web_config.halls[0].voice
    return config.model_copy(update={"halls": [hall.model_copy(update={"voice": voice})]})


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory, county_config: HallConfig) -> Iterator[LiveHall]:
    """The hall at mid-morning: a dozen windows open, each has called someone, people wait everywhere."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        cheap_hashing(monkeypatch)
        running = LiveHall(tmp_path_factory.mktemp("db") / "queue.db", county_config, TickingClock())
        try:
            for category in CATEGORIES:
                running.issue(category, 5)
            for window in OPEN:
                running.call_next(running.open(window, f"clerk{window}"), window)
            yield running
        finally:
            running.stop()


@pytest.fixture
def board(browser: Browser, county: LiveHall) -> Iterator[Any]:
    """Open the hall board at a size; no page may have a script error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(size: tuple[int, int], query: str = "") -> Page:
        width, height = size
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(county.page_url(f"/board/{HALL}?sound=0{query}"))
        page.wait_for_function("() => document.body.classList.contains('ready')")
        page.evaluate("document.fonts.ready.then(() => true)")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


def box(page: Page, selector: str) -> dict[str, float]:
    result: dict[str, float] = page.locator(selector).first.evaluate(
        "n => { const r = n.getBoundingClientRect(); "
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }"
    )
    return result


def boxes(page: Page, selector: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.locator(selector).evaluate_all(
        """nodes => nodes.map(n => { const r = n.getBoundingClientRect();
            return {key: n.dataset.number || n.dataset.window || n.dataset.category,
                    top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })"""
    )
    return result


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["top"] >= outer["top"] - 0.5
        and inner["bottom"] <= outer["bottom"] + 0.5
        and inner["left"] >= outer["left"] - 0.5
        and inner["right"] <= outer["right"] + 0.5
    )


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_recent_calls_show_whole_rows_only(board: Any, size: tuple[int, int]) -> None:
    page = board(size)
    panel, listing = box(page, ".recent"), box(page, "#recent")
    rows = boxes(page, "#recent .recent-call")
    assert len(rows) >= 3, rows  # twelve calls made: the list is full
    assert rows[0]["key"] == f"{page.evaluate('bianminBoard.model.recent[0].number')}"
    for row in rows:
        assert inside(row, listing) and inside(row, panel), f"row {row} cut at the edge of {listing}"
    # Whole rows, and no room left for one more: the list is as full as it can be.
    row_height = rows[0]["bottom"] - rows[0]["top"]
    assert listing["bottom"] - max(r["bottom"] for r in rows) < row_height + 1


def page_walk(page: Page, grid: str) -> list[dict[str, Any]]:
    """Each page of a paged grid as shown (its number, its box, its cards), from the current page round."""
    pages = int(page.locator(grid).get_attribute("data-pages") or "1")
    seen: list[dict[str, Any]] = []
    for _ in range(pages):
        shown = page.evaluate(
            """(grid) => {
                const node = document.querySelector(grid), r = node.getBoundingClientRect();
                const cards = Array.from(node.children, (n) => { const c = n.getBoundingClientRect();
                    return {key: n.dataset.window || n.dataset.category, top: c.top, bottom: c.bottom,
                            left: c.left, right: c.right}; });
                return {page: node.dataset.page, grid: {top: r.top, bottom: r.bottom, left: r.left, right: r.right},
                        cards};
            }""",
            grid,
        )
        seen.append(shown)
        if pages > 1:
            page.wait_for_function(
                "([grid, current]) => document.querySelector(grid).dataset.page !== current", arg=[grid, shown["page"]]
            )
    return seen


def unclipped_names(page: Page) -> list[dict[str, Any]]:
    """Names (and every English text) of the cards shown that are cut, ellipsized or too small to read."""
    result: list[dict[str, Any]] = page.evaluate(
        """() => {
            const floor = 0.012 * Math.min(innerWidth, innerHeight);  // ~13 px on a 1080-line screen
            const bad = [];
            const cards = document.querySelectorAll("#windows .window-card, #queues .queue-chip");
            for (const card of cards) {
                const outer = card.getBoundingClientRect();
                for (const n of card.querySelectorAll(".card-name, .card-name-en, .queue-name-en, .en")) {
                    const s = getComputedStyle(n), r = n.getBoundingClientRect();
                    const cut = n.scrollWidth > n.clientWidth + 1 || n.scrollHeight > n.clientHeight + 1;
                    const out = r.right > outer.right + 0.5 || r.bottom > outer.bottom + 0.5;
                    const tiny = n.classList.contains("en") && parseFloat(s.fontSize) < floor;
                    if (cut || out || tiny || s.textOverflow === "ellipsis") {
                        bad.push({text: n.textContent, size: s.fontSize, cut, out, tiny});
                    }
                }
            }
            return bad;
        }"""
    )
    return result


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_windows_and_queues_page_through_every_card_whole_and_unclipped(board: Any, size: tuple[int, int]) -> None:
    page = board(size, "&page_s=0.6")
    windows_pages = page_walk(page, "#windows")
    assert len(windows_pages) >= 2, "60 windows do not fit on one screen: the board pages"
    assert page.locator("#windows-pager").is_visible()
    label = page.locator("#windows-pager").inner_text()
    assert label.endswith(f"/{len(windows_pages)}"), label
    assert sorted(int(p["page"]) for p in windows_pages) == list(range(1, len(windows_pages) + 1))
    shown: list[str] = []
    for shown_page in windows_pages:
        for card in shown_page["cards"]:
            assert inside(card, shown_page["grid"]), f"window card {card['key']} cut at the edge of its zone"
        shown += [card["key"] for card in shown_page["cards"]]
    assert sorted(shown, key=int) == [str(n) for n in range(1, WINDOWS + 1)], "every window, once, over the pages"
    sizes = [len(p["cards"]) for p in windows_pages]
    assert max(sizes) - min(sizes) <= 1, f"pages evenly filled: {sizes}"

    queues: list[str] = []
    for shown_page in page_walk(page, "#queues"):
        assert all(inside(chip, shown_page["grid"]) for chip in shown_page["cards"]), shown_page
        queues += [chip["key"] for chip in shown_page["cards"]]
    assert sorted(queues) == sorted(CATEGORIES)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_no_name_is_cut_with_an_ellipsis_and_english_is_readable(board: Any, size: tuple[int, int]) -> None:
    page = board(size, "&page_s=0.6")
    for grid in ("#windows", "#queues"):
        pages = int(page.locator(grid).get_attribute("data-pages") or "1")
        for _ in range(pages):
            current = page.locator(grid).get_attribute("data-page")
            assert unclipped_names(page) == [], f"{grid} page {current}"
            if pages > 1:
                page.wait_for_function(
                    "([grid, current]) => document.querySelector(grid).dataset.page !== current", arg=[grid, current]
                )
    css = httpx.get(page.url.split("/board/")[0] + "/web/board.css", timeout=10, trust_env=False).text
    assert "ellipsis" not in css


@pytest.mark.parametrize(
    ("size", "windows"), list(zip(SIZES, [(1, 2), (3, 4), (5, 6)], strict=True)), ids=SIZE_IDS
)  # each size its own windows (on the first page): the hall keeps people waiting in every queue
def test_a_recall_flashes_the_recalled_number_as_well_as_the_newest_call(
    board: Any, county: LiveHall, size: tuple[int, int], windows: tuple[int, int]
) -> None:
    page = board(size, "&page_s=600")
    one, two = windows
    first, second = county.tokens[f"clerk{one}"], county.tokens[f"clerk{two}"]
    county.serve(first, one)
    recalled = county.call_next(first, one)
    county.act(first, one, "recall")
    county.serve(second, two)
    newest = county.call_next(second, two)  # a newer call right after the recall
    page.wait_for_function(f"() => document.querySelector('#latest-number').textContent === {newest!r}")

    row = page.locator(f'#recent .recent-call[data-number="{recalled}"]')
    assert "flash" in (row.get_attribute("class") or "")
    assert row.locator(".recall-mark").inner_text().replace("\n", " ") == "重呼 Recall"
    assert row.locator(".num > .n").evaluate("n => n.getAnimations().length") > 0  # it is flashing now
    card = page.locator(f'#windows .window-card[data-window="{one}"]')
    assert "flash" in (card.get_attribute("class") or "")
    assert card.locator(".card-current").inner_text() == recalled
    newest_row = page.locator(f'#recent .recent-call[data-number="{newest}"]')
    assert "flash" in (newest_row.get_attribute("class") or "")
    assert newest_row.locator(".recall-mark").count() == 0  # a first call is not marked a recall
    page.wait_for_function(
        "(n) => !document.querySelector(`#recent .recent-call[data-number=\"${n}\"]`).classList.contains('flash')",
        arg=recalled,
        timeout=12_000,
    )  # and the flash ends after a few seconds


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_the_notice_zone_takes_no_room_from_the_calls(board: Any, size: tuple[int, int]) -> None:
    with_notice = board(size)
    calls_only = board(size, "&board=board-calls-only")
    assert with_notice.locator("#notice").is_visible() and calls_only.locator("#notice").is_hidden()
    for selector in ("#latest", ".recent", "#recent"):
        assert box(with_notice, selector) == box(calls_only, selector), selector
    assert len(boxes(with_notice, "#recent .recent-call")) == len(boxes(calls_only, "#recent .recent-call"))
    notice = box(with_notice, "#notice")
    assert notice["top"] >= box(with_notice, ".hall-main")["bottom"]  # beside or below the calls, never above

    assert "一窗受理" in with_notice.locator("#notice-body").inner_text()
    slides = with_notice.evaluate("bianminBoard.config.notice.slides")
    expected = [
        line for slide in slides if slide["kind"] == "item" for fact in slide["facts"] for line in fact["lines"]
    ]
    titles, lines_shown = set(), []
    for _ in range(40):  # every slide, a long one over as many turns as it needs
        with_notice.evaluate("bianminBoard.notice.next()")
        titles.add(with_notice.locator("#notice-title .zh").inner_text())
        body = box(with_notice, "#notice-body")
        lines = boxes(with_notice, "#notice-body .fact-label, #notice-body .fact-line, #notice-body p")
        assert lines and all(inside(line, body) for line in lines), "a line of the notice cut in half"
        assert box(with_notice, "#latest") == box(calls_only, "#latest")
        lines_shown += with_notice.locator("#notice-body .fact-line:not(.en)").all_inner_texts()
        if with_notice.evaluate("bianminBoard.notice.index === 0 && bianminBoard.notice.from === 0"):
            break
    assert titles == {"大厅公告", "办事八公开 · 出生登记（新生儿入户）"}
    assert lines_shown == expected, "every fact of the featured item shown, once, in order"


def test_a_board_device_chooses_its_notice_zone(county: LiveHall) -> None:
    def config(query: str) -> Any:
        response = httpx.get(county.page_url(f"/board/{HALL}{query}"), timeout=10, trust_env=False)
        return response

    notice = config("").text
    assert '"kind": "item"' in notice and "申报材料" in notice and "《出生医学证明》（原件及复印件）" in notice
    assert '"notice": null' in config("?board=board-calls-only").text
    assert config("?board=board-w1").status_code == 404  # a window board has no notice zone
    assert config("?board=nope").status_code == 404
    assert config("?board=Not%20an%20id").status_code == 422
    paths = httpx.get(county.page_url("/openapi.json"), timeout=10, trust_env=False).json()["paths"]
    assert set(paths["/board/{hall}"]["get"]["responses"]) == {"200", "404", "422", "503"}


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_screenshots_of_a_60_window_hall(board: Any, size: tuple[int, int]) -> None:
    """docs/screenshots/web-board-county-{size}.png: the 60-window hall, its first page (look at them)."""
    page = board(size, "&page_s=600")
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"web-board-county-{size[0]}x{size[1]}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 50_000


def test_portrait_has_a_layout_of_its_own(board: Any) -> None:
    """1080×1920: the call panel takes no empty two thirds; windows and queues get the room, in whole cards."""
    width, height = 1080, 1920
    page = board((width, height), "&board=board-calls-only&page_s=600")
    latest, recent = box(page, "#latest"), box(page, ".recent")
    windows, queues = box(page, ".windows-zone"), box(page, ".queues-zone")
    # One column, top to bottom: now calling, recent calls, windows, queues (the panels the full width).
    assert latest["bottom"] <= recent["top"] <= windows["top"] and windows["bottom"] <= queues["top"]
    for zone in (latest, recent, windows, queues):
        assert zone["right"] - zone["left"] >= 0.9 * width, zone
    # Now calling: at most a quarter of the screen (it took ~65%, mostly empty), its number still large.
    assert latest["bottom"] - latest["top"] <= 0.25 * height, latest
    number = page.locator("#latest-number").evaluate("n => parseFloat(getComputedStyle(n).fontSize)")
    assert number >= 0.08 * width, number
    # Windows and queues: about half the screen (they had the bottom 12%), many whole cards a page.
    assert (windows["bottom"] - windows["top"]) + (queues["bottom"] - queues["top"]) >= 0.45 * height
    cards = boxes(page, "#windows .window-card")
    assert len(cards) >= 12 and all(inside(card, windows) for card in cards), len(cards)
    chips = boxes(page, "#queues .queue-chip")
    assert chips and all(inside(chip, queues) for chip in chips)
