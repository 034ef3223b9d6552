"""The county dashboard (/county/{county}) in headless Chromium: a county serving its own hall, a township
shipping its events to it, and a township never heard from. Screenshot: docs/screenshots/county-dashboard.png."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from config.schema import County, HallConfig, Link
from queue_server.link import receiver
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.queue_server.link.conftest import COUNTY_HALL, OTHER_TOWNSHIP, acked, county_config, log_rows
from tests.support.server import HALL, PASSWORD, RunningServer, free_port, start_server
from tests.web.conftest import LiveHall, TickingClock
from tests.web.test_accessibility import check
from tests.web.test_dashboard import SCREENSHOTS, log_in, wait_text

if TYPE_CHECKING:
    from playwright.sync_api import Browser

COUNTY = County(id="changqing-xian", name_zh="长青县", name_en="Changqing County")


def until(what: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Desk:
    """A hall's API as its kiosk and clerks use it (any hall of a server, not only the demo hall)."""

    def __init__(self, server: RunningServer, hall: str) -> None:
        self.server, self.hall = server, hall
        self.http = httpx.Client(base_url=f"{server.url}/api/v1/halls/{hall}", timeout=10, trust_env=False)
        self.kiosk = server.add_device("kiosk-1", hall)
        self.keys = 0

    def post(self, path: str, token: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
        answer = self.http.post(path, json=body, headers={"Authorization": f"Bearer {token}", **headers})
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def issue(self, category: str) -> str:
        self.keys += 1
        ticket = self.post("/tickets", self.kiosk, {"category": category}, **{"Idempotency-Key": f"k{self.keys}"})
        return str(ticket["track_token"])

    def serve(self, token: str, window: int, track: str, case: str = "immediate", level: str | None = None) -> None:
        """Call the window's next ticket (the one tracked by `track`), serve it, and have the citizen rate it."""
        self.post(f"/windows/{window}/call-next", token)
        self.post(f"/windows/{window}/start", token)
        body = {"case_class": case, **({"agent_name": "李代办"} if case == "agent" else {})}
        self.post(f"/windows/{window}/finish", token, body)
        if level is not None:
            rated = self.http.post(f"/tickets/{track}/rating", json={"level": level})
            assert rated.status_code == 201, rated.text


def traffic(desk: Desk, clock: TickingClock, clerks: dict[int, tuple[str, str]], rounds: int, agent_every: int) -> None:
    tokens = {}
    for window, (username, name) in clerks.items():
        tokens[window] = desk.server.tokens.get(username) or desk.server.add_staff(username, name=name)
        desk.post(f"/windows/{window}/open", tokens[window], {"post": "A"})
    categories = {1: "jisheng", 2: "guotu", 3: "minzheng"}
    n = 0
    for _ in range(rounds):
        for window in clerks:
            track = desk.issue(categories[window])
            clock.advance(minutes=4 + 3 * window)
            n += 1
            case = "agent" if n % agent_every == 0 else "immediate"
            desk.serve(tokens[window], window, track, case, "satisfied" if n % 3 else "basic")


def test_the_county_dashboard_shows_every_hall_and_the_reports_across_them(
    tmp_path: Path, web_config: HallConfig, cheap_password_hashing: None, browser: Browser
) -> None:
    clock = TickingClock()
    port = free_port()
    config = county_config(web_config).model_copy(update={"county": COUNTY})
    county = start_server(tmp_path / "county.db", clock, config, port=port)
    token = county.store.run_global_sync(lambda conn, now: receiver.add_token(conn, to_us(now), HALL))
    (tmp_path / "link.token").write_text(token, encoding="utf-8")
    link = Link(url=f"http://127.0.0.1:{port}", token_file=str(tmp_path / "link.token"), interval_s=0.1,
                retry_min_s=0.1, retry_max_s=0.5)  # fmt: skip
    township_config = web_config.model_copy(update={"halls": [web_config.halls[0].model_copy(update={"link": link})]})
    hall = LiveHall(tmp_path / "township.db", township_config, clock)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", accept_downloads=True)
    desks: list[Desk] = []
    try:
        assert hall.server is not None
        township = hall.server
        township.add_staff("director", "manager", name="王主任")
        there = Desk(township, HALL)
        desks.append(there)
        traffic(there, clock, {1: ("liuxia", "刘霞"), 2: ("zhaogang", "赵刚"), 3: ("wangfang", "王芳")}, 4, 3)
        for _ in range(3):
            there.issue("guotu")  # waiting at the township
        here = Desk(county, COUNTY_HALL)
        desks.append(here)
        traffic(here, clock, {1: ("liuxia", "刘霞"), 2: ("zhaogang", "赵刚")}, 3, 4)
        here.issue("jisheng")
        filed = there.http.post(
            "/complaints", json={"category": "efficiency", "window": 2, "text": "办件拖了很久，电话13900001234"}
        )
        assert filed.status_code == 201, filed.text  # 投诉举报 at the township: shipped with its events
        there.issue("jisheng")
        until(lambda: acked(township) == log_rows(township)[-1][0])
        county.store.run_global_sync(
            lambda conn, now: accounts.add_user(
                conn, to_us(now), "xianzhang", "县主管", accounts.Role.COUNTY_MANAGER, PASSWORD, None, COUNTY.id
            )
        )

        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{county.url}/county/{COUNTY.id}")
        page.wait_for_function("() => window.bianminCounty && window.bianminCounty.ready")
        assert "县级主管登录" in page.inner_text("#login")
        check(page, "county login")  # axe-core: no serious or critical violation, one <h1>, English marked
        log_in(page, "xianzhang")
        page.wait_for_selector(f'.hall-card[data-hall="{OTHER_TOWNSHIP}"]')
        assert "长青县" in page.inner_text("#county-name")

        # The live grid: each hall's card, the silent township marked stale.
        cards = page.locator(".hall-card")
        assert cards.count() == 3
        mine = f'.hall-card[data-hall="{HALL}"]'
        wait_text(page, f'{mine} [data-figure="waiting"] .value', "4")
        assert page.inner_text(f'{mine} [data-figure="open_windows"] .value') == "3/10"
        assert page.inner_text(f'{mine} [data-figure="issued_today"] .value') == "16"
        assert "乡镇" in page.inner_text(f"{mine} .kind") and page.locator(f"{mine} .stale-mark").count() == 0
        silent = f'.hall-card[data-hall="{OTHER_TOWNSHIP}"]'
        assert "失联" in page.inner_text(f"{silent} .stale-mark") and "从未联系" in page.inner_text(silent)
        own = f'.hall-card[data-hall="{COUNTY_HALL}"]'
        assert "本级" in page.inner_text(f"{own} .kind")
        assert page.inner_text(f'{own} [data-figure="open_windows"] .value') == "2/10"
        assert page.inner_text('#live-figures [data-figure="stale"] .value') == "1"

        # The month's report by hall: the township's row is its own report's figures.
        page.wait_for_selector('#rows tr[data-row="qingshan"]')
        director = {"Authorization": f"Bearer {township.tokens['director']}"}
        theirs = hall.http.get("/reports", params={"period": "month"}, headers=director).json()["totals"]
        row = '#rows tr[data-row="qingshan"]'
        assert page.inner_text(f'{row} [data-figure="issued"]') == str(theirs["issued"]) == "16"
        assert page.inner_text(f'{row} [data-figure="served"]') == str(theirs["served"]) == "12"
        assert page.inner_text(f'{row} [data-figure="by_agent"]') == str(theirs["by_agent"]) == "4"
        assert page.inner_text(f'{row} [data-figure="staff"]') == "3"
        assert page.inner_text('#rows tr[data-row="total"] [data-figure="issued"]') == "23"
        assert page.inner_text('#report-figures [data-figure="staff"] .value') == "5 / 5"
        ranking = page.locator("#ranking tbody tr")
        assert [ranking.nth(i).get_attribute("data-hall") for i in range(3)] == [HALL, COUNTY_HALL, OTHER_TOWNSHIP]
        assert page.locator("#chart-rank").bounding_box() is not None
        assert page.locator("#chart-daily").is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "county-dashboard.png"))

        # The township's complaint, as its events tell it: counted, not answered yet; no text, no phone.
        complaint_row = f'#complaint-halls tr[data-hall="{HALL}"]'
        page.wait_for_selector(complaint_row)
        assert page.inner_text(complaint_row).split("\t")[1:3] == ["1", "0"]
        panel = page.inner_text("#complaints-box")
        assert "办件拖了很久" not in panel and "13900001234" not in panel
        page.locator("#complaints-box").screenshot(path=str(SCREENSHOTS / "county-complaints.png"))
        check(page, "county dashboard")

        # By category, ranked by the satisfaction rate; then the CSV.
        page.select_option("#report-form select[name=by]", "category")
        page.select_option("#report-form select[name=rank]", "satisfaction_rate")
        page.click("#report-form button[type=submit]")
        page.wait_for_selector('#rows tr[data-row="guotu"]')
        assert "国土建设" in page.inner_text('#rows tr[data-row="guotu"]')
        assert "满意率" in page.inner_text("#ranking-title")
        with page.expect_download() as download:
            page.click("#export-csv")
        saved = download.value.path()
        assert saved is not None
        text = Path(saved).read_text(encoding="utf-8-sig")
        assert "合计 Total" in text and "国土建设" in text and "满意率" in text

        # A hall manager of the township (an account of the county's database) is refused, with the reason.
        county.add_staff("zhuren", "manager", name="主任")
        other = context.new_page()  # a tab of its own: a session of its own
        other.goto(f"{county.url}/county/{COUNTY.id}")
        other.wait_for_function("() => window.bianminCounty && window.bianminCounty.ready")
        log_in(other, "zhuren")
        other.wait_for_selector("#denied:not([hidden])")
        assert "无权查看县级看板" in other.inner_text("#denied")
        check(other, "county dashboard, refused")
        assert other.is_hidden("#dashboard")
    finally:
        context.close()
        for desk in desks:
            desk.http.close()
        hall.stop()
        county.stop()


def test_an_unknown_county_has_no_page(tmp_path: Path, web_config: HallConfig) -> None:
    config = county_config(web_config).model_copy(update={"county": COUNTY})
    county = start_server(tmp_path / "county.db", TickingClock(), config)
    try:
        assert httpx.get(f"{county.url}/county/{COUNTY.id}", trust_env=False).status_code == 200
        missing = httpx.get(f"{county.url}/county/nowhere", trust_env=False)
        assert missing.status_code == 404 and "没有该县" in missing.json()["error"]["message"]
    finally:
        county.stop()
