"""The manager dashboard in headless Chromium against a real server.

The wall follows the hall live and raises its alerts; a manager reads a report with its charts and
exports it, and the CSV and XLSX files read back with the figures the test recomputes from what it
did; the audit trail is searched; an administrator manages staff accounts; a clerk is kept out.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.screenshots import SCREENSHOTS
from tests.support.server import HALL, PASSWORD
from tests.web.conftest import HTTP_TIMEOUT_S, LiveHall

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DEADLINE_MS = 8_000
OpenPage = Callable[..., "Page"]
CASES = ["immediate", "promised", "supplement", "joint", "returned", "agent"]
FINISH: dict[str, dict[str, Any]] = {
    "immediate": {"case_class": "immediate"},
    "promised": {"case_class": "promised", "promised_days": 10},
    "supplement": {"case_class": "supplement", "missing_materials": ["身份证复印件"]},
    "joint": {"case_class": "joint", "next_department": "县自然资源局"},
    "returned": {"case_class": "returned", "reason": "材料不符"},
    "agent": {"case_class": "agent", "agent_name": "李代办"},
}


@pytest.fixture
def open_page(browser: Browser, hall: LiveHall) -> Iterator[OpenPage]:
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(path: str, *, width: int = 1600, height: int = 1000, refusals: tuple[int, ...] = ()) -> Page:
        """`refusals`: answers the page is expected to get and show (the browser logs each one)."""
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("pageerror", lambda error: errors.append(f"{path}: {error}"))
        notes = [f"status of {status} " for status in refusals]
        page.on(
            "console",
            lambda m: (
                errors.append(f"{path}: {m.text}")
                if m.type == "error" and not any(note in m.text for note in notes)
                else None
            ),
        )
        page.goto(hall.page_url(path))
        page.wait_for_function("() => document.body.classList.contains('ready')")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")


def wait_text(page: Page, selector: str, expected: str) -> None:
    page.wait_for_function(
        "([s, e]) => { const n = document.querySelector(s); return !!n && n.textContent.trim() === e; }",
        arg=[selector, expected],
    )


def figure(page: Page, box: str, name: str) -> str:
    return page.inner_text(f'{box} [data-figure="{name}"] .value').strip()


class Day:
    """The hall's morning, driven through the API, with the test's own record of each visit."""

    def __init__(self, hall: LiveHall) -> None:
        self.hall = hall
        self.visits: dict[str, dict[str, Any]] = {}

    def now(self) -> float:
        return self.hall.clock().timestamp()

    def issue(self, category: str, count: int = 1) -> list[str]:
        numbers = self.hall.issue(category, count)
        for number in numbers:
            self.visits[number] = {"issued": self.now(), "called": None, "start": None, "end": None, "case": None}
        return numbers

    def serve(self, token: str, window: int, case: str, minutes: float) -> str:
        number = self.hall.call_next(token, window)
        self.visits[number]["called"] = self.now()
        self.hall.clock.advance(seconds=30)
        self.hall.act(token, window, "start")
        self.visits[number]["start"] = self.now()
        self.hall.clock.advance(minutes=minutes)
        self.hall.act(token, window, "finish", FINISH[case])
        self.visits[number]["end"], self.visits[number]["case"] = self.now(), case
        return number

    def expected(self) -> dict[str, Any]:
        visits = list(self.visits.values())
        waits = [v["called"] - v["issued"] for v in visits if v["called"] is not None]
        services = [v["end"] - v["start"] for v in visits if v["case"]]
        done = [v for v in visits if v["case"]]
        # 办结率 counts cases (reports/cases.py): each visit opened one, and only a 即办件 opens completed
        completed = sum(v["case"] == "immediate" for v in done)
        return {
            "issued": len(visits),
            "served": len(done),
            "avg_wait_min": round(statistics.fmean(waits) / 60, 1),
            "max_service_min": round(max(services) / 60, 1),
            "completion_pct": round(completed / len(done) * 100, 1),
            "cases": {c: sum(v["case"] == c for v in done) for c in CASES},
        }


def test_the_wall_follows_the_hall_and_raises_its_alerts(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager", name="王主任")
    day = Day(hall)
    wall = open_page(f"/manager/{HALL}")
    log_in(wall, "director")
    wall.wait_for_function("() => window.bianminDashboard.wall !== null")
    assert figure(wall, "#today-figures", "issued") == "0"
    assert figure(wall, "#today-figures", "satisfaction_rate") == "—"
    assert "尚无评价" in wall.inner_text('#today-figures [data-figure="satisfaction_rate"]')
    assert wall.locator("#windows .window-card").count() == len(hall.config.halls[0].windows)

    liuxia = hall.open(1, "liuxia", name="刘霞")
    hujun = hall.open(5, "hujun", name="胡军")
    zhaogang = hall.open(2, "zhaogang", name="赵刚")
    day.issue("jisheng", 6)
    day.issue("laobao", 4)
    day.issue("guotu", 2)
    wait_text(wall, '#today-figures [data-figure="issued"] .value', "12")
    wait_text(wall, '#categories tr[data-category="jisheng"] .waiting', "6")
    for i, case in enumerate(CASES):
        hall.clock.advance(minutes=4)
        token, window = [(liuxia, 1), (hujun, 5), (zhaogang, 2)][i % 3]
        day.serve(token, window, case, 3 + i)
    wait_text(wall, '#today-figures [data-figure="served"] .value', "6")
    for case in CASES:
        assert figure(wall, "#today-figures", f"case-{case}") == "1"
    assert figure(wall, "#today-figures", "completion_rate") == f"{day.expected()['completion_pct']}%" == "16.7%"
    tip = wall.get_attribute('#today-figures [data-figure="completion_rate"]', "title") or ""
    assert "办结率 = 本期办结件数 ÷ 本期受理件数" in tip and "cases, not tickets" in tip
    assert figure(wall, "#today-figures", "avg_wait") == str(day.expected()["avg_wait_min"])

    # Window 1 serves, window 2 pauses, and the queues grow old: the alerts come up.
    hall.call_next(liuxia, 1)
    hall.act(liuxia, 1, "start")
    hall.act(zhaogang, 2, "pause", {"reason": "会议"})
    card = '.window-card[data-window="1"]'
    wall.wait_for_function("s => document.querySelector(s).dataset.current !== ''", arg=card)
    assert "刘霞" in wall.inner_text(card) and "A岗" in wall.inner_text(card)
    hall.clock.advance(minutes=16)
    day.issue("zonghe")  # an event: the wall reads again
    wall.wait_for_selector('#alerts .alert[data-kind="pause"][data-window="2"]')
    wall.wait_for_selector('#alerts .alert[data-kind="wait"][data-category="jisheng"]')
    assert "会议" in wall.inner_text('#alerts .alert[data-kind="pause"]')
    assert wall.locator('.window-card.alert[data-window="2"]').count() == 1
    assert wall.locator('#categories tr.alert-row[data-category="jisheng"]').count() == 1
    assert wall.inner_text(f"{card} .timer b").startswith("16:")  # time in service, by the server's clock
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(SCREENSHOTS / "manager-dashboard.png"), full_page=True)


def test_a_manager_exports_a_report_and_the_files_read_back_with_the_same_figures(
    hall: LiveHall, open_page: OpenPage, tmp_path: Path
) -> None:
    assert hall.server is not None
    manager = hall.server.add_staff("director", "manager", name="王主任")
    day = Day(hall)
    day.issue("jisheng", 5)
    day.issue("minzheng", 3)
    liuxia = hall.open(1, "liuxia", name="刘霞")
    wangfang = hall.open(3, "wangfang", name="王芳")
    for i, case in enumerate(CASES):
        hall.clock.advance(minutes=2)
        if i % 2:
            day.serve(wangfang, 3, case, 2 + i)
        else:
            day.serve(liuxia, 1, case, 4 + i)
    expected = day.expected()

    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.wait_for_function("() => window.bianminDashboard.wall !== null")
    page.click('#tabs [data-tab="reports"]')
    page.wait_for_function("() => window.bianminDashboard.report !== null")
    page.select_option('#report-form select[name="by"]', "clerk")
    page.click('#report-form button[type="submit"]')
    page.wait_for_function("() => window.bianminDashboard.report.by === 'clerk'")
    assert figure(page, "#report-figures", "issued") == str(expected["issued"])
    assert figure(page, "#report-figures", "served") == str(expected["served"])
    assert figure(page, "#report-figures", "satisfaction_rate") == "—"
    rows = page.locator("#groups tbody tr")
    assert rows.count() == 4  # total, 刘霞, 王芳, not called
    assert "刘霞（liuxia）" in page.inner_text("#groups")
    served = page.locator('#groups tr[data-group="liuxia"] td[data-figure="served"]').inner_text()
    assert served == "3"
    charts = page.evaluate("() => ['chart-hourly', 'chart-waits', 'chart-items'].map(id => !!Chart.getChart(id))")
    assert charts == [True, True, True]
    assert page.evaluate("() => Chart.getChart('chart-hourly').data.datasets[0].data.reduce((a, b) => a + b)") == 8

    files = {}
    for kind, button in (("csv", "#export-csv"), ("xlsx", "#export-xlsx")):
        with page.expect_download() as download:
            page.click(button)
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        files[kind] = path
    assert files["csv"].name == "bianmin-qingshan-day-2026-03-16-by-clerk.csv"
    assert files["xlsx"].name == "bianmin-qingshan-day-2026-03-16-by-clerk.xlsx"

    rows_csv = list(csv.reader(io.StringIO(files["csv"].read_bytes().decode("utf-8-sig"))))
    totals = {row[0]: row[1] for row in rows_csv if len(row) >= 2}
    assert int(totals["取号数 issued"]) == expected["issued"]
    assert int(totals["办结登记 served"]) == expected["served"]
    assert float(totals["平均等候(分钟) avg wait (min)"]) == expected["avg_wait_min"]
    assert float(totals["最长办理(分钟) longest service (min)"]) == expected["max_service_min"]
    assert float(totals["办结率(%) completion rate (%)"]) == expected["completion_pct"]
    assert totals["满意率(%) satisfaction rate (%)"] == "—"
    clerks = {row[1]: row for row in rows_csv if len(row) > 20 and row[1] in ("liuxia", "wangfang")}
    assert int(clerks["liuxia"][4]) == int(clerks["wangfang"][4]) == 3

    book = load_workbook(files["xlsx"])
    values = {r[0]: r[1] for r in book["汇总 Summary"].iter_rows(values_only=True) if r and r[0]}
    assert values["取号数 issued"] == expected["issued"]
    assert values["平均等候(分钟) avg wait (min)"] == expected["avg_wait_min"]
    assert round(values["办结率(%) completion rate (%)"] * 100, 1) == expected["completion_pct"]
    for case, zh in zip(CASES, ["即办件", "承诺件", "补办件", "联办件", "退回件", "代理件"], strict=True):
        label = next(k for k in values if isinstance(k, str) and k.startswith(zh))
        assert values[label] == expected["cases"][case] == 1
    # and the server's JSON says the same
    api = httpx.get(
        f"{hall.server.url}/api/v1/halls/{HALL}/reports",
        params={"by": "clerk"},
        headers={"Authorization": f"Bearer {manager}"},
        timeout=HTTP_TIMEOUT_S,
        trust_env=False,
    ).json()
    assert api["totals"]["issued"] == expected["issued"] and api["totals"]["case_classes"] == expected["cases"]


def test_the_audit_trail_is_searched_by_window_and_event(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager")
    day = Day(hall)
    day.issue("jisheng", 3)
    liuxia = hall.open(1, "liuxia", name="刘霞")
    day.serve(liuxia, 1, "supplement", 3)
    day.serve(liuxia, 1, "agent", 2)
    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.click('#tabs [data-tab="audit"]')
    page.wait_for_function("() => window.bianminDashboard.audit.length > 0")
    page.fill('#audit-form input[name="window"]', "1")
    page.select_option("#audit-type", "ticket.finished")
    page.click('#audit-form button[type="submit"]')
    page.wait_for_function("() => document.querySelectorAll('#audit-rows tr').length === 2")
    rows = page.locator("#audit-rows tr")
    assert "代理件" in rows.nth(0).inner_text() and "李代办" in rows.nth(0).inner_text()  # newest first
    assert "补办件" in rows.nth(1).inner_text() and "身份证复印件" in rows.nth(1).inner_text()
    assert "刘霞（liuxia）" in rows.nth(1).inner_text() and "A岗" in rows.nth(1).inner_text()
    page.select_option("#audit-type", "")
    page.fill('#audit-form input[name="window"]', "")
    page.fill('#audit-form input[name="q"]', "李代办")
    page.click('#audit-form button[type="submit"]')
    page.wait_for_function("() => document.querySelectorAll('#audit-rows tr').length === 1")


def test_the_audit_tab_shows_staff_changes_and_login_lockouts(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("root", "admin", name="管理员")
    hall.server.add_staff("director", "manager", name="王主任")
    url = hall.server.url
    root = hall.server.tokens["root"]
    new = {"username": "zhangli", "display_name": "张丽", "role": "clerk", "password": "first password"}
    added = httpx.post(f"{url}/api/v1/staff", json=new, headers={"Authorization": f"Bearer {root}"}, trust_env=False)
    assert added.status_code == 201, added.text
    transport = httpx.HTTPTransport(local_address="127.0.0.7")
    with httpx.Client(base_url=url, transport=transport, trust_env=False, timeout=HTTP_TIMEOUT_S) as guesser:
        for _ in range(4):
            guesser.post("/api/v1/auth/login", json={"username": "zhangli", "password": "guess"})
    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.click('#tabs [data-tab="audit"]')
    page.wait_for_function("() => window.bianminDashboard.staffAudit.length === 2")
    rows = page.locator("#staff-audit-rows tr")
    locked, created = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "登录锁定" in locked and "zhangli" in locked and "127.0.0.7" in locked
    assert "该地址的此账号" in locked and "失败 4 次，锁定 2 秒" in locked and "系统" in locked
    assert "新建账号" in created and "管理员（root）" in created and "角色：窗口工作人员" in created
    assert "first password" not in page.inner_text("#staff-audit")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#staff-audit").screenshot(path=str(SCREENSHOTS / "manager-staff-audit.png"))


def test_an_administrator_manages_staff_accounts(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("root", "admin", name="管理员")
    hall.clerk("liuxia", name="刘霞")
    page = open_page(f"/manager/{HALL}", refusals=(409,))
    log_in(page, "root")
    page.click('#tabs [data-tab="staff"]')
    page.wait_for_selector('#staff-rows tr[data-username="liuxia"]')
    page.fill('#staff-form input[name="username"]', "zhangli")
    page.fill('#staff-form input[name="display_name"]', "张丽")
    page.select_option('#staff-form select[name="role"]', "manager")
    page.fill('#staff-form input[name="password"]', "first password")
    page.click('#staff-form button[type="submit"]')
    page.wait_for_selector('#staff-rows tr[data-username="zhangli"]')
    url = f"{hall.url}/api/v1/auth/login"

    def can_log_in(username: str, password: str) -> bool:
        answer = httpx.post(url, json={"username": username, "password": password}, trust_env=False, timeout=10)
        return answer.status_code == 200

    assert can_log_in("zhangli", "first password")
    page.select_option('#staff-rows tr[data-username="liuxia"] select.role', "manager")
    page.wait_for_function("() => window.bianminDashboard.staff.find(s => s.username === 'liuxia').role === 'manager'")
    page.click('#staff-rows tr[data-username="liuxia"] button.toggle')
    page.wait_for_function("() => !window.bianminDashboard.staff.find(s => s.username === 'liuxia').active")
    assert not can_log_in("liuxia", PASSWORD)
    page.click('#staff-rows tr[data-username="liuxia"] button.toggle')
    page.wait_for_function("() => window.bianminDashboard.staff.find(s => s.username === 'liuxia').active")
    # 工号: typed in the row, kept by the server (a wrong one is refused with its message and changes nothing).
    staff_no = page.locator('#staff-rows tr[data-username="liuxia"] input.staff-no')
    staff_no.fill("QS 01")
    staff_no.press("Tab")
    assert "工号为1–16位" in page.wait_for_selector(".toast.error").inner_text()
    assert page.evaluate("window.bianminDashboard.staff.find(s => s.username === 'liuxia').staff_no") is None
    staff_no = page.locator('#staff-rows tr[data-username="liuxia"] input.staff-no')
    staff_no.fill("QS-0107")
    staff_no.press("Tab")
    numbered = "() => window.bianminDashboard.staff.find(s => s.username === 'liuxia').staff_no === 'QS-0107'"
    page.wait_for_function(numbered)
    page.click('#staff-rows tr[data-username="liuxia"] button.reset')
    page.fill('#password-form input[name="password"]', "a new password")
    page.click('#password-form button[type="submit"]')
    page.wait_for_selector("#password-dialog", state="hidden")
    assert can_log_in("liuxia", "a new password") and not can_log_in("liuxia", PASSWORD)
    # The last administrator cannot switch herself off.
    page.click('#staff-rows tr[data-username="root"] button.toggle')
    page.locator(".toast.error", has_text="不能停用").wait_for()


def test_a_manager_sees_no_staff_tab_and_a_clerk_is_kept_out(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager")
    hall.clerk("liuxia")
    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.wait_for_selector("#tabs:not([hidden])")
    assert page.locator('#tabs [data-tab="staff"]').is_hidden()
    other = open_page(f"/manager/{HALL}")
    log_in(other, "liuxia")
    other.wait_for_selector("#denied:not([hidden])")
    assert other.locator("#tabs").is_hidden() and other.locator("#tab-wall").is_hidden()


def test_a_manager_follows_up_a_bad_rating_to_rectified(hall: LiveHall, open_page: OpenPage) -> None:
    """A citizen rates a finished ticket 非常不满意 through the public API; the manager sees it and follows it up."""
    assert hall.server is not None
    hall.server.add_staff("director", "manager", name="王主任")
    hall.issue("jisheng")  # makes the kiosk device
    assert hall.kiosk is not None
    mine = hall._post("/tickets", hall.kiosk, {"category": "jisheng"}, **{"Idempotency-Key": "rated-1"})
    liuxia = hall.open(1, "liuxia", name="刘霞")
    good = hall.call_next(liuxia, 1)
    hall.serve(liuxia, 1)
    assert hall.call_next(liuxia, 1) == mine["number"]
    hall.serve(liuxia, 1)
    refused = hall.http.post(f"/tickets/{mine['track_token']}/rating", json={"level": "very_dissatisfied"})
    assert refused.status_code == 422  # a bad rating needs a reason
    rated = hall.http.post(
        f"/tickets/{mine['track_token']}/rating",
        json={
            "level": "very_dissatisfied",
            "reasons": ["efficiency", "attitude"],
            "comment": "等了一个多小时，窗口态度冷淡",
        },
    )
    assert rated.status_code == 201, rated.text
    assert good  # the first ticket stays unrated: it counts in no level

    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.wait_for_function("() => window.bianminDashboard.wall !== null")
    page.wait_for_selector("#appointment-figures [data-figure='booked']")
    wait_text(page, "#ratings-count", "1")  # the open follow-ups, on the tab
    page.click('#tabs [data-tab="ratings"]')
    row = f'#rating-rows tr[data-number="{mine["number"]}"]'
    page.wait_for_selector(row)
    assert figure(page, "#rating-figures", "satisfaction_rate").startswith("0")  # one rating, and it is bad
    assert figure(page, "#rating-figures", "level-very_dissatisfied") == "1"
    assert figure(page, "#rating-figures", "count") == "1"
    assert figure(page, "#rating-figures", "open_follow_ups") == "1"
    text = page.inner_text(row)
    for part in ("非常不满意", "服务效率", "服务态度", "等了一个多小时", "待回访", "计生"):
        assert part in text, (part, text)
    code = page.inner_text(f"{row} td.case-code").strip()
    director = {"Authorization": f"Bearer {hall.server.login('director')}"}
    assert hall.http.get(f"/cases/{code}", headers=director).json()["number"] == mine["number"]  # the visit's case
    assert page.locator(f"{row} td.num").inner_text().strip() == "1"
    due = page.inner_text(f"{row} td.due").strip()
    assert due.startswith("2026-04-"), due  # 15 working days after Monday 2026-03-16
    assert page.locator(f"{row}.overdue").count() == 0

    # 已联系, with a note.
    page.click(f'{row} button[data-step="contacted"]')
    page.wait_for_selector("#follow-up-dialog[open]")
    page.fill("#follow-up-form textarea[name=note]", "已电话联系群众，说明情况并致歉")
    page.click('#follow-up-form button[type="submit"]')
    page.wait_for_selector(f'{row}[data-follow-up="contacted"]')
    assert "已联系" in page.inner_text(f"{row} td.state")
    assert "已电话联系群众" in page.inner_text(row)
    assert page.locator(f'{row} button[data-step="rectified"]').count() == 1

    # Then 已整改.
    page.click(f'{row} button[data-step="rectified"]')
    page.wait_for_selector("#follow-up-dialog[open]")
    page.fill("#follow-up-form textarea[name=note]", "已对窗口人员批评教育，增开高峰窗口")
    page.click('#follow-up-form button[type="submit"]')
    page.wait_for_selector(f'{row}[data-follow-up="rectified"]')
    assert "已整改" in page.inner_text(f"{row} td.state")
    steps = page.locator(f"{row} button").evaluate_all("(nodes) => nodes.map((n) => n.dataset.step)")
    assert steps == ["callback", "review"]  # the callback (回访) is still due, and a review may be asked for

    # 回访: the citizen is called back and rates the fix.
    page.click(f'{row} button[data-step="callback"]')
    page.wait_for_selector("#rating-action-dialog[open]")
    page.select_option("#rating-action-form select[name=choice]", "satisfied")
    page.fill("#rating-action-form textarea[name=text]", "群众表示对整改结果满意")
    page.click('#rating-action-form button[type="submit"]')
    page.wait_for_selector(f'{row}[data-follow-up="closed"]')
    assert "已办结" in page.inner_text(f"{row} td.state")
    assert "回访（director）：群众表示对整改结果满意 — 对整改满意" in page.inner_text(row)
    wait_text(page, '#rating-figures [data-figure="open_follow_ups"] .value', "0")
    assert page.locator("#ratings-count").is_hidden()
    assert figure(page, "#rating-figures", "defaulted") == "0" and figure(page, "#rating-figures", "excluded") == "0"

    listed = hall.http.get(
        "/ratings", params={"bad": "true"}, headers={"Authorization": f"Bearer {hall.server.login('director')}"}
    ).json()
    assert [n["state"] for n in listed["ratings"][0]["notes"]] == ["contacted", "rectified"]
    assert listed["ratings"][0]["case_code"] == code
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "manager-ratings.png"), full_page=True)


def test_an_overdue_follow_up_is_highlighted(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager")
    hall.issue("jisheng")
    assert hall.kiosk is not None
    mine = hall._post("/tickets", hall.kiosk, {"category": "jisheng"}, **{"Idempotency-Key": "late-1"})
    liuxia = hall.open(1, "liuxia")
    hall.call_next(liuxia, 1)
    hall.serve(liuxia, 1)
    hall.call_next(liuxia, 1)
    hall.serve(liuxia, 1)
    answer = hall.http.post(
        f"/tickets/{mine['track_token']}/rating", json={"level": "dissatisfied", "reasons": ["efficiency"]}
    )
    assert answer.status_code == 201, answer.text
    hall.clock.advance(days=30)
    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.click('#tabs [data-tab="ratings"]')
    row = f'#rating-rows tr.overdue[data-number="{mine["number"]}"]'
    page.wait_for_selector(row)
    assert "已逾期" in page.inner_text(f"{row} td.due")
    assert figure(page, "#rating-figures", "overdue_follow_ups") == "1"


def test_the_wall_charts_the_day_defines_its_figures_and_fits_at_1440(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager", name="王主任")
    day = Day(hall)
    liuxia = hall.open(1, "liuxia", name="刘霞")
    hall.open(5, "hujun", name="胡军")
    a1, a2, _a3 = day.issue("jisheng", 3)
    hall.clock.advance(minutes=5)
    assert day.serve(liuxia, 1, "immediate", 4) == a1  # called after 5 minutes: within the 15-minute target
    hall.clock.advance(minutes=20)
    assert hall.call_next(liuxia, 1) == a2  # after 29.5 minutes: missed
    hall.act(liuxia, 1, "no-show")
    # a3 still waits, 29.5 minutes: already missed. One of three within the target.

    wall = open_page(f"/manager/{HALL}", width=1440, height=900)
    log_in(wall, "director")
    wall.wait_for_function("() => window.bianminDashboard.dayChart !== null")
    level = wall.inner_text("#service-level")
    assert "服务达标率（15分钟内叫号）" in level and "33.3%" in level and "1/3" in level
    # 办结率 says what it is made of: the one served visit opened one case (即办), completed on the spot, on time.
    assert figure(wall, "#today-figures", "completion_rate") == "100.0%"
    note = wall.inner_text('#today-figures [data-figure="completion_rate"] .note')
    assert note == "办结 1/1 件 · 按时办结率 100.0%"
    title = wall.get_attribute('#today-figures [data-figure="completion_rate"]', "title") or ""
    assert "按办件计，非按取号" in title
    wall.click("#figure-legend summary")
    legend = wall.inner_text("#legend-list")
    for name in ("取号", "办结登记", "过号", "平均等候", "办结率", "满意率", "服务达标率", "六类办件"):
        assert name in legend
    charts = wall.evaluate(
        """() => ['chart-queue', 'chart-wait', 'chart-load-windows', 'chart-load-clerks'].map(id => {
            const c = Chart.getChart(id); return c ? c.data : null; })"""
    )
    queue, waits, windows, clerks = charts
    nine = queue["labels"].index("9时")
    assert queue["datasets"][1]["data"][nine] == 3  # all three waited at once
    # Waits of 5 and 29.5 minutes (and the seconds the test itself takes, the clock ticking).
    assert 17.2 <= waits["datasets"][0]["data"][nine] <= 17.6
    assert 29.5 <= waits["datasets"][1]["data"][nine] <= 29.9
    assert windows["labels"] == ["1号 计生服务窗口", "5号 劳保医保窗口"]
    assert clerks["labels"] == ["胡军", "刘霞"]  # by username
    serving, idle, paused = (d["data"][0] for d in windows["datasets"])  # window 1, in hours
    assert 0.07 <= serving <= 0.09 and paused == 0  # 4.5 minutes called to finished, 0.5 called to no-show
    assert idle >= 0.4
    # The categories table fits its panel (it overflowed by 12 px at this width).
    overflow = wall.evaluate(
        "() => { const p = document.querySelector('#categories').closest('.panel');"
        " return p.scrollWidth - p.clientWidth; }"
    )
    assert overflow <= 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(SCREENSHOTS / "manager-wall-1440.png"), full_page=True)


def test_the_audit_trail_pages_with_its_position_and_total(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager", name="王主任")
    hall.issue("jisheng", 130)  # 130 events, newest first: pages 1–100 and 101–130
    page = open_page(f"/manager/{HALL}", width=1440, height=900)
    log_in(page, "director")
    page.wait_for_function("() => window.bianminDashboard.wall !== null")
    page.click('#tabs [data-tab="audit"]')
    wait_text(page, "#audit-position", "第 1–100 条，共 130 条 1–100 of 130")
    assert page.locator("#audit-rows tr").count() == 100
    assert page.locator("#audit-newer").is_hidden() and page.locator("#audit-more").is_visible()
    assert page.locator("#audit-rows tr").first.inner_text().count("A130") == 1
    page.click("#audit-more")
    wait_text(page, "#audit-position", "第 101–130 条，共 130 条 101–130 of 130")
    assert page.locator("#audit-rows tr").count() == 30
    assert "A030" in page.locator("#audit-rows tr").first.inner_text()
    assert page.locator("#audit-more").is_hidden() and page.locator("#audit-newer").is_visible()
    page.click("#audit-newer")
    wait_text(page, "#audit-position", "第 1–100 条，共 130 条 1–100 of 130")
    page.fill('#audit-form input[name="number"]', "A007")
    page.click('#audit-form button[type="submit"]')
    wait_text(page, "#audit-position", "第 1–1 条，共 1 条 1–1 of 1")
