"""The citizen's phone pages in headless Chromium (390×844) against a real server.

The tracking page follows the clerk's calls, alerts near the turn and at the turn, takes one rating;
the booking page books a slot whose code is checked in at the kiosk API and called before the queue.
Screenshots go to docs/screenshots/phone-*.png.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.screenshots import SCREENSHOTS
from tests.web.conftest import LiveHall

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}
ITEM = "jisheng-childcare-subsidy"
DEADLINE_MS = 8_000
# Records what the page asks of the phone's vibration motor (headless Chromium has none).
VIBRATION_SPY = """
window.__vibrations = [];
navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return true; };
"""

OpenPhone = Callable[..., "Page"]


@pytest.fixture
def open_phone(browser: Browser, hall: LiveHall) -> Iterator[OpenPhone]:
    """A phone-sized page in a fresh context; after the test, no page may have had a script error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_(path: str, *, expect_status: int = 200) -> Page:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="zh-CN")  # fmt: skip
        context.add_init_script(VIBRATION_SPY)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("pageerror", lambda error: errors.append(f"{path}: {error}"))
        page.on("console", lambda m: errors.append(f"{path}: {m.text}") if unexpected(m.type, m.text) else None)
        response = page.goto(hall.page_url(path))
        assert response is not None and response.status == expect_status, path
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


def unexpected(kind: str, text: str) -> bool:
    """A console error, except the answers the test provokes on purpose (a 404 page, a refused rating)."""
    provoked = ("404 (Not Found)", "409 (Conflict)")
    return kind == "error" and not any(note in text for note in provoked)


def issue(hall: LiveHall, category: str = "jisheng", item_id: str | None = None) -> dict[str, Any]:
    """Issue a ticket as kiosk-1 and return the whole answer (with its tracking token)."""
    assert hall.server is not None
    if hall.kiosk is None:
        hall.kiosk = hall.server.add_device("kiosk-1")
    hall._keys += 1
    answer = hall.http.post(
        "/tickets",
        json={"item_id": item_id} if item_id else {"category": category},
        headers={"Authorization": f"Bearer {hall.kiosk}", "Idempotency-Key": f"phone-{hall._keys}"},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def text(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def wait_text(page: Page, selector: str, expected: str) -> None:
    page.wait_for_function(
        """([selector, expected]) => {
            const node = document.querySelector(selector);
            return node !== null && node.textContent.trim() === expected;
        }""",
        arg=[selector, expected],
    )


def estimate_text(status: dict[str, Any]) -> str:
    """What the page shows of a ticket's estimate: its 90% range in whole minutes, rough when it is."""
    low, high, wait = status["estimated_wait_low_s"], status["estimated_wait_high_s"], status["estimated_wait_s"]
    shown = f"约{low // 60}–{max(1, -(-high // 60))}分钟"
    return shown + ("粗略估计 rough" if status["estimate_rough"] else "") if wait is not None else "—"


def wait_estimate(page: Page, hall: LiveHall, token: str) -> dict[str, Any]:
    """Wait until the page shows the range of the status it last read, and that status is the server's now (the
    ticket's place, and its estimate within seconds: the hall's clock runs, and the rest of a service in progress
    with it, so a read a moment later may round to another minute). Returns the server's status."""
    deadline = time.monotonic() + 8.0
    while True:
        read = page.evaluate("() => window.bianminPhone.status")
        shown = page.evaluate("() => document.querySelector('#wait').textContent.trim()")  # as wait_text reads it
        if read is not None and shown == estimate_text(read):
            fresh = dict(hall.http.get(f"/tickets/{token}").json())
            if fresh["ahead"] == read["ahead"] and abs(fresh["estimated_wait_s"] - read["estimated_wait_s"]) <= 10:
                return fresh
        assert time.monotonic() < deadline, f"the page shows {shown!r} for {read!r}"
        time.sleep(0.05)


def shoot(page: Page, name: str, element: str | None = None) -> None:
    """A screenshot of the phone's screen scrolled to the top, or of one whole element (a long card)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.fonts.ready")
    if element is None:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / name))
    else:
        page.locator(element).screenshot(path=str(SCREENSHOTS / name))


# --- the tracking page ---------------------------------------------------------------------------------------


def test_the_page_follows_the_calls_alerts_the_turn_and_takes_one_rating(open_phone: OpenPhone, hall: LiveHall) -> None:
    clerk = hall.open(1, "liuxia", name="刘霞")
    item = hall.config.hall("qingshan").item(ITEM)
    for _ in range(4):
        issue(hall)
    mine = issue(hall, item_id=ITEM)
    page = open_phone(mine["track_path"])
    wait_text(page, "#number", "A005")
    wait_text(page, "#ahead", "4人")
    status = wait_estimate(page, hall, mine["track_token"])  # the range the API gives, rough while nothing is learned
    assert status["estimate_rough"] and status["estimated_wait_low_s"] < status["estimated_wait_high_s"]
    # At 390 px the range stays the figure it is, on one line; 粗略估计 is a note under it, not three big lines.
    lines = page.evaluate(
        """() => { const v = document.querySelector('#wait'), range = v.firstChild, r = document.createRange();
            r.selectNodeContents(range); const rows = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
            const note = v.querySelector('.note'); return [rows.size, note ? note.textContent : null,
            note ? parseFloat(getComputedStyle(note).fontSize) < parseFloat(getComputedStyle(v).fontSize) : false]; }"""
    )
    assert lines == [1, "粗略估计 rough", True], lines
    assert text(page, "#state").startswith("等候中")
    assert page.locator("#near").is_hidden() and page.locator("#turn").is_hidden()
    assert "1号、10号窗口" in text(page, "#windows")
    page.wait_for_function("() => document.querySelector('#conn').dataset.state === 'live'")
    urls = page.evaluate("() => window.bianminPhone.link.urls")
    assert urls and all("/ws/halls/qingshan/board?category=jisheng" in url for url in urls), urls  # its category only
    assert text(page, "#item-name") == item.name_zh
    assert page.locator("#checklist li").count() == len(item.materials)
    assert item.materials[0].name in text(page, "#checklist")
    page.click("#sound")  # the citizen allows sound: a tap is what browsers require
    page.wait_for_function("() => window.bianminPhone.soundOn")
    shoot(page, "phone-tracking.png")

    # The clerk calls A001: three are ahead now, and the page says "快到您了".
    assert hall.call_next(clerk, 1) == "A001"
    wait_text(page, "#ahead", "3人")
    wait_estimate(page, hall, mine["track_token"])
    page.wait_for_selector("#near", state="visible")
    assert "前面还有 3 人" in text(page, "#near")
    assert page.evaluate("() => window.__vibrations.length") == 1
    for expected_ahead in ("2人", "1人", "0人"):
        hall.serve(clerk, 1)
        hall.call_next(clerk, 1)
        wait_text(page, "#ahead", expected_ahead)
        later = wait_estimate(page, hall, mine["track_token"])  # the range follows the queue, live
    assert later["estimated_wait_high_s"] < status["estimated_wait_high_s"]
    assert page.locator("#turn").is_hidden()
    assert page.evaluate("() => window.__vibrations.length") == 1  # the near alert vibrates once, not at every call

    # A005 is called: "轮到您了 — 请到 1号窗口".
    hall.serve(clerk, 1)
    assert hall.call_next(clerk, 1) == "A005"
    page.wait_for_selector("#turn", state="visible")
    wait_text(page, "#turn-window", "1号窗口")
    assert text(page, "#turn-number") == "A005"
    assert "window 1" in text(page, "#turn-en")
    page.wait_for_function("() => window.__vibrations.length === 2")
    assert page.evaluate("() => window.__vibrations[1]") == [600, 200, 600, 200, 900]
    assert page.evaluate("() => window.bianminPhone.beeps") >= 1
    turns = page.evaluate("() => window.bianminPhone.alerts.filter((a) => a.kind === 'turn')")
    assert [(a["number"], a["window"]) for a in turns] == [("A005", 1)]
    assert page.locator("#near").is_hidden()
    shoot(page, "phone-your-turn.png")

    # A recall alerts again; the citizen closes the alert.
    hall.act(clerk, 1, "recall")
    page.wait_for_function("() => window.bianminPhone.alerts.filter((a) => a.kind === 'turn').length === 2")
    page.click("#turn-ok")
    assert page.locator("#turn").is_hidden()

    # A second phone (or tab) has the same page open when the service finishes.
    other = open_phone(mine["track_path"])
    hall.serve(clerk, 1)
    for p in (page, other):
        p.wait_for_selector("#rate", state="visible")
        assert text(p, "#state").startswith("已办结")
    page.click('#levels [data-level="dissatisfied"]')
    page.wait_for_selector("#bad", state="visible")
    assert page.locator("#rate-submit").is_disabled()  # a bad rating needs a reason
    page.check('#reasons input[value="efficiency"]')
    page.fill("#comment", "取号后等了一个多小时")
    assert page.locator("#rate-submit").is_enabled()
    shoot(page, "phone-rating.png", element="#rate")
    page.click("#rate-submit")
    page.wait_for_selector("#thanks", state="visible")
    assert text(page, "#thanks-level") == "不满意"
    assert "15个工作日内核实整改并回访" in text(page, "#thanks-note")  # the demo hall's deadline (config default)
    assert page.locator("#rate").is_hidden()

    # Accepted once; refused the second time from the other phone, which then shows the rating made.
    other.click('#levels [data-level="very_satisfied"]')
    other.click("#rate-submit")
    other.wait_for_selector("#thanks", state="visible")
    assert "只能评价一次" in text(other, "#rate-error") or "只能评价一次" in text(other, "#thanks-note")
    assert text(other, "#thanks-level") == "不满意"
    # And the page opened afresh shows the rating, with no form.
    again = open_phone(mine["track_path"])
    again.wait_for_selector("#thanks", state="visible")
    assert again.locator("#rate").is_hidden()
    refused = hall.http.post(f"/tickets/{mine['track_token']}/rating", json={"level": "satisfied"})
    assert refused.status_code == 409  # and refused again, whoever asks
    rated = hall.http.get(f"/tickets/{mine['track_token']}/rating").json()
    assert rated["rating"]["level"] == "dissatisfied" and rated["can_rate"] is False


def test_an_unknown_or_expired_ticket_says_so(open_phone: OpenPhone, hall: LiveHall) -> None:
    page = open_phone("/t/" + "Z" * 32, expect_status=404)
    assert "号票已失效" in text(page, "main")
    assert text(page, "#hall-name") == "青山镇便民服务中心"
    ticket = issue(hall)
    live = open_phone(ticket["track_path"])
    wait_text(live, "#number", "A001")
    hall.clock.advance(days=1)  # the service day is over while the page is open
    assert hall.http.get("/board").json()["board"]["day"] == "2026-03-17"  # the first request rolls the day over
    live.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    live.wait_for_selector("#gone", state="visible")
    assert live.locator("#ticket").is_hidden()
    assert live.evaluate("() => window.bianminPhone.gone")


# --- booking -------------------------------------------------------------------------------------------------


def test_an_appointment_booked_on_the_phone_is_checked_in_and_called_first(
    open_phone: OpenPhone, hall: LiveHall
) -> None:
    clerk = hall.open(1, "liuxia")
    ordinary = [issue(hall)["number"] for _ in range(2)]
    page = open_phone("/book/qingshan")
    page.wait_for_selector("body.ready", state="attached")
    page.select_option("#category", "jisheng")
    page.wait_for_selector('#days .day[aria-checked="true"]')
    first_day = page.locator('#days .day[aria-checked="true"]').get_attribute("data-day")
    assert first_day == "2026-03-16"  # today: its later slots are still open
    assert page.locator('#slots .slot[data-start="08:30"]').is_disabled()  # begun
    page.click('#slots .slot[data-start="09:30"]')
    assert "09:30" in text(page, "#book")
    page.click("#book")
    page.wait_for_selector("#result", state="visible")
    code = text(page, "#result-code").replace(" ", "")
    assert len(code) == 8
    assert text(page, "#result-when") == "3月16日 周一 09:30–10:00"
    assert text(page, "#result-checkin") == "09:00–09:45 到取号机签到"
    page.wait_for_function("() => document.querySelector('#result-qr').naturalWidth > 0")
    page.wait_for_selector("#mine", state="visible")
    shoot(page, "phone-booking.png")

    # At the kiosk: the code checked in gives an appointment ticket, called before the two waiting.
    assert hall.kiosk is not None
    answer = hall.http.post(f"/appointments/{code}/check-in", headers={"Authorization": f"Bearer {hall.kiosk}"})
    assert answer.status_code == 201, answer.text
    ticket = answer.json()
    assert (ticket["number"], ticket["priority"]) == ("A003", "appointment")
    called = [hall.call_next(clerk, 1)]
    for _ in ordinary:
        hall.serve(clerk, 1)
        called.append(hall.call_next(clerk, 1))
    assert called == ["A003", *ordinary]

    # The phone's own list shows it checked in, with its number.
    page.reload()
    page.wait_for_selector("body.ready", state="attached")
    wait_text(page, "#result-state", "已签到取号：A003")  # the page reopens on #code=...
    assert page.locator("#cancel").is_hidden()
    assert page.locator(f'#mine-list li[data-code="{code}"]').get_attribute("data-state") == "checked_in"


def test_an_appointment_is_cancelled_from_the_phone(open_phone: OpenPhone, hall: LiveHall) -> None:
    page = open_phone("/book/qingshan")
    page.wait_for_selector("body.ready", state="attached")
    page.select_option("#category", "guotu")
    page.select_option("#item", index=1)
    page.wait_for_selector('#days .day[aria-checked="true"]')
    page.click("#days .day:not([disabled]) >> nth=1")  # tomorrow
    page.click('#slots .slot[data-start="14:30"]')
    page.click("#book")
    page.wait_for_selector("#result", state="visible")
    code = text(page, "#result-code").replace(" ", "")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel")
    wait_text(page, "#result-state", "已取消")
    assert page.locator("#cancel").is_hidden()
    assert hall.http.get(f"/appointments/{code}").json()["state"] == "cancelled"
    page.click("#again")
    page.wait_for_selector("#form", state="visible")
    assert page.locator(f'#mine-list li[data-code="{code}"]').get_attribute("data-state") == "cancelled"


def test_the_sound_prompt_comes_first_with_an_svg_icon_and_the_page_has_its_icon(
    open_phone: OpenPhone, hall: LiveHall
) -> None:
    mine = issue(hall, item_id=None)
    page = open_phone(f"/t/{mine['track_token']}")
    page.wait_for_function("() => window.bianminPhone.status !== null")
    prompt = page.locator("#sound")
    box = prompt.bounding_box()
    assert box is not None and box["y"] + box["height"] < PHONE["height"] / 2  # on the first screen, at the top
    assert page.evaluate("() => document.querySelector('main').firstElementChild.id") == "sound"
    assert prompt.locator("svg").count() == 1 and "🔔" not in prompt.inner_text()
    assert "点此开启声音与振动提醒" in prompt.inner_text()
    page.click("#sound")
    page.wait_for_function("() => window.bianminPhone.soundOn")
    assert "声音与振动提醒已开启" in prompt.inner_text()
    shoot(page, "phone-sound-prompt.png")
    icon = hall.http.get(f"{hall.url}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    linked = hall.http.get(page.evaluate("() => document.querySelector('link[rel=icon]').href"))
    assert linked.status_code == 200 and linked.content == icon.content
