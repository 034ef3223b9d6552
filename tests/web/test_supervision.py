"""The public supervision page /q/{hall} in headless Chromium (390×844) against a real server: a case looked up
by its code before and after the clerk completes it, last month's published figures, an item's eight published
facts, a complaint filed from the phone, answered by the manager, and the answer read with the complaint code.
Screenshots go to docs/screenshots/supervision-*.png."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.web.conftest import LiveHall
from tests.web.test_dashboard import SCREENSHOTS, log_in
from tests.web.test_phone import ITEM, OpenPhone, open_phone, shoot, text, wait_text  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

HOSTILE = '<img src=x onerror="window.__xss=1">窗口人员让我来回跑了三趟'
PHONE = "139 0000 1234"


def served_in_march(hall: LiveHall) -> None:
    """Two tickets served on Monday 16 March 2026 (即办件), none rated."""
    clerk = hall.open(1, "liuxia", name="刘霞")
    for _ in range(2):
        hall.issue("jisheng")
        hall.call_next(clerk, 1)
        hall.serve(clerk, 1)


def wait_ready(page: Page) -> None:
    page.wait_for_function("() => document.body.classList.contains('ready')")


def test_a_complaint_filed_on_the_phone_is_answered_and_read_with_its_code(
    open_phone: OpenPhone,  # noqa: F811
    hall: LiveHall,
) -> None:
    served_in_march(hall)
    hall.clock.advance(days=17)  # Thursday 2 April: the March figures are published
    assert hall.server is not None
    manager = hall.server.add_staff("director", "manager")

    page = open_phone("/q/qingshan")
    wait_ready(page)
    assert "2026年3月数据（2026-04-01公布" in text(page, "#figures-when")
    tiles = {key: page.locator(f'[data-figure="{key}"] .q-value').inner_text() for key in
             ("cases", "completion_rate", "on_time_rate", "satisfaction_rate", "complaints")}  # fmt: skip
    assert tiles == {
        "cases": "2",
        "completion_rate": "100.0%",
        "on_time_rate": "100.0%",
        "satisfaction_rate": "—",
        "complaints": "0",
    }  # fmt: skip  (two 即办件: completed on the spot, on time)
    assert page.locator("#case-form").is_visible() and page.locator("#case-pending").is_hidden()
    shoot(page, "supervision-figures.png")

    # The eight published facts of an item, as the kiosk's item screen shows them.
    item = hall.config.hall("qingshan").item(ITEM)
    page.select_option("#guide-category", item.category)
    page.select_option("#guide-item", ITEM)
    headings = [h.split(" ")[0] for h in page.locator("#guide-facts h3").all_inner_texts()]
    assert headings == ["办事条件", "申报材料", "办理程序", "承诺时限", "收费标准", "经办科室", "监督电话", "办事依据"]
    assert item.materials[0].name in text(page, "#guide-facts")
    shoot(page, "supervision-facts.png", element="#guide")

    # Filing: too short first (the page says so and sends nothing), then a real one with a window and a phone.
    page.fill("#c-text", "太慢")
    page.click("#c-submit")
    assert "至少5个字" in text(page, "#c-error")
    page.select_option("#c-category", "efficiency")
    page.select_option("#c-window", "1")
    page.fill("#c-text", HOSTILE)
    page.fill("#c-contact", PHONE)
    page.click("#c-submit")
    page.wait_for_selector("#filed:not([hidden])")
    code = text(page, "#filed-code")
    # Five working days after Thursday 2 April: 3, 7, 8, 9, 10 April (清明 4–6 April does not count).
    assert len(code) == 10 and "2026-04-10" in text(page, "#filed-due")
    shoot(page, "supervision-filed.png", element="#filed")

    # Not answered yet: the page says so.
    page.click("#filed-again")
    page.click(f'#a-mine button[data-code="{code}"]')
    wait_text(page, "#a-due", "2026-04-10")
    assert text(page, "#a-state") == "已受理 received"
    assert "尚未答复" in text(page, "#a-answer")

    # The manager answers (API), and the complainant reads it with the code.
    listed = hall.http.get("/complaints", headers={"Authorization": f"Bearer {manager}"}).json()
    [record] = listed["complaints"]
    assert (record["text"], record["window"], record["contact"]) == (HOSTILE, 1, PHONE)
    reply = "已核实。<b>已对窗口人员批评教育</b>，今后一次性告知所需材料。"
    answered = hall.http.post(f"/complaints/{record['id']}/answer", json={"answer": reply},
                              headers={"Authorization": f"Bearer {manager}"})  # fmt: skip
    assert answered.status_code == 200, answered.text
    page.fill("#a-code", code.lower())
    page.click("#a-submit")
    wait_text(page, "#a-answer", reply)  # the markup shown as the text it is
    assert text(page, "#a-state") == "已答复 answered"  # on time: no late mark
    assert page.locator("#a-answer b").count() == 0
    page.locator("#answer").scroll_into_view_if_needed()
    shoot(page, "supervision-answer.png", element="#answer")

    # Nothing of the complainant anywhere on the page; the hostile text never ran.
    body = page.locator("body").inner_text()
    for private in ("13900001234", "139 0000 1234", "139****", "让我来回跑", "刘霞", "liuxia"):
        assert private not in body
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img[src=x]").count() == 0

    # A malformed code is refused on the page before it asks the server.
    page.fill("#a-code", "<script>")
    page.click("#a-submit")
    assert "10位" in text(page, "#a-error") and page.locator("#a-result").is_hidden()


def test_a_case_is_looked_up_by_its_code_before_and_after_the_clerk_completes_it(
    open_phone: OpenPhone,  # noqa: F811
    hall: LiveHall,
) -> None:
    clerk = hall.open(1, "liuxia", name="刘霞")
    hall.issue(None, item_id=ITEM)
    number = hall.call_next(clerk, 1)
    hall.act(clerk, 1, "start")
    finish = {"case_class": "promised", "promised_days": 3, "contact_phone": PHONE}
    code = hall.act(clerk, 1, "finish", finish)["case_code"]  # Monday 16 March: due Thursday 19 March

    page = open_phone("/q/qingshan")
    wait_ready(page)
    page.fill("#k-code", "XXX-XXX-XXX")  # well formed, but no such case
    page.click("#k-submit")
    wait_text(page, "#k-error", "没有查到该办件编号，请核对回执上的编号后重试 (no case with this code in this hall: "
                                "check the code on your receipt)")  # fmt: skip
    page.fill("#k-code", "<script>")
    page.click("#k-submit")
    assert "9位" in text(page, "#k-error") and page.locator("#k-result").is_hidden()

    typed = f"{code[:3].lower()}-{code[3:6]}-{code[6:].lower()}"  # as read off the receipt, in lower case
    page.fill("#k-code", typed)
    page.click("#k-submit")
    wait_text(page, "#k-shown-code", code)
    assert page.locator("#k-error").is_hidden()
    assert text(page, "#k-state") == "受理 accepted"
    assert (text(page, "#k-opened"), text(page, "#k-due")) == ("2026-03-16", "2026-03-19")
    assert text(page, "#k-window").startswith("1号窗口 计生服务窗口")
    item = hall.config.hall("qingshan").item(ITEM)
    assert text(page, "#k-item") == f"{item.name_zh} {item.name_en}\n承诺件"
    assert text(page, "#k-department") == item.department
    page.locator("#case-lookup").scroll_into_view_if_needed()
    shoot(page, "supervision-case.png", element="#case-lookup")

    # The clerk completes the case; the citizen looks again (the page opened with ?case=CODE, as from a QR).
    done = hall.http.post(f"/cases/{code}/complete", json={"result": "window"},
                          headers={"Authorization": f"Bearer {clerk}"})  # fmt: skip
    assert done.status_code == 200, done.text
    page = open_phone(f"/q/qingshan?case={typed}")
    wait_ready(page)
    wait_text(page, "#k-state", "办结 completed")
    assert text(page, "#k-more") == "2026-03-16 · 窗口领取" and text(page, "#k-more-label") == "办结日期"
    page.locator("#case-lookup").scroll_into_view_if_needed()
    shoot(page, "supervision-case-done.png", element="#case-lookup")

    body = page.locator("body").inner_text()
    for private in ("13900001234", "139 0000 1234", "139****", "1234", "刘霞", "liuxia", number):
        assert private not in body, private


def test_the_manager_takes_up_and_answers_a_complaint_on_the_dashboard(browser: Browser, hall: LiveHall) -> None:
    """A complaint filed through the public API reaches the manager's 投诉举报 tab, overdue once its day has passed."""
    assert hall.server is not None
    filed = hall.http.post("/complaints", json={"category": "attitude", "window": 1, "contact": PHONE,
                                                "text": HOSTILE})  # fmt: skip
    assert filed.status_code == 201, filed.text
    hall.clock.advance(days=8)  # Tuesday 24 March: a day past its due day, Monday 23 March
    hall.server.add_staff("director", "manager", name="王主任")
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(8_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(hall.page_url("/manager/qingshan"))
        log_in(page, "director")
        wait_text(page, "#complaints-count", "1")  # on the tab, seen from the wall
        page.click('#tabs [data-tab="complaints"]')
        row = "#complaint-rows tr[data-state='open']"
        page.wait_for_selector(row)
        shown = page.inner_text(row)
        for part in ("服务态度", "让我来回跑了三趟", "139****1234", "已受理", "2026-03-23", "已逾期"):
            assert part in shown, (part, shown)
        assert page.locator(f"{row}.overdue").count() == 1 and page.locator("#complaint-rows img").count() == 0
        page.click(f'{row} button[data-step="handle"]')
        row = "#complaint-rows tr[data-state='handling']"
        page.wait_for_selector(row)
        page.click(f'{row} button[data-step="answer"]')
        page.wait_for_selector("#complaint-dialog[open]")
        page.fill("#complaint-form textarea[name=answer]", "已约谈窗口人员，向您致歉。")
        page.click('#complaint-form button[type="submit"]')
        row = "#complaint-rows tr[data-state='answered']"
        page.wait_for_selector(row)
        assert "超期答复" in page.inner_text(row) and "139****1234" in page.inner_text(row)
        assert page.locator("#complaints-count").is_hidden()
        assert page.inner_text('#complaint-figures [data-figure="answered_late"] .value') == "1"
        page.screenshot(path=str(SCREENSHOTS / "manager-complaints.png"), full_page=True)
        assert page.evaluate("() => window.__xss") is None
    finally:
        context.close()
    assert not errors, errors
    seen = hall.http.get(f"/complaints/{filed.json()['code']}").json()
    assert (seen["state"], seen["late"], seen["answer"]) == ("answered", True, "已约谈窗口人员，向您致歉。")
