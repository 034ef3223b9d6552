"""The city rollup (/city/{city}) in headless Chromium: a township ships to its county, the county relays its
own hall and the township to the city, the other county is never heard from. Screenshot:
docs/screenshots/city-rollup.png."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from openpyxl import load_workbook

from config.loader import load_config
from config.schema import HallConfig
from queue_server.link import receiver
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.support.city import CITY, write_city
from tests.support.server import PASSWORD, RunningServer, free_port, start_server
from tests.web.conftest import TickingClock
from tests.web.test_accessibility import check
from tests.web.test_county import Desk, traffic, until
from tests.web.test_dashboard import SCREENSHOTS, log_in, wait_text

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FAST = "interval_s = 0.1\nretry_min_s = 0.1\nretry_max_s = 0.5\n"


def held(server: RunningServer, hall: str) -> int:
    with server.store.engine.connect() as conn:
        return receiver.held_seq(conn, hall)


def test_the_city_rollup_shows_the_headline_and_the_report_of_every_county(
    tmp_path: Path, web_config: HallConfig, cheap_password_hashing: None, browser: Browser
) -> None:
    clock = TickingClock()
    city_port, county_port = free_port(), free_port()
    relay = f'url = "http://127.0.0.1:{city_port}"\ntoken_file = "{tmp_path / "relay.token"}"\n{FAST}'
    up = f'url = "http://127.0.0.1:{county_port}"\ntoken_file = "{tmp_path / "link.token"}"\n{FAST}'
    city_file = write_city(tmp_path / "files", links={"changqing": relay}, township_links={"qingshan": up})
    county_file = tmp_path / "files" / "counties" / "changqing" / "county.toml"
    township_file = county_file.parent / "townships" / "qingshan.toml"
    running: list[RunningServer] = []
    desks: list[Desk] = []
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", accept_downloads=True)
    try:
        city = start_server(tmp_path / "city.db", clock, load_config(city_file), port=city_port)
        running.append(city)
        token = city.store.run_global_sync(lambda c, now: receiver.add_county_token(c, to_us(now), "changqing"))
        (tmp_path / "relay.token").write_text(token, encoding="utf-8")
        county = start_server(tmp_path / "county.db", clock, load_config(county_file), port=county_port)
        running.append(county)
        token = county.store.run_global_sync(lambda c, now: receiver.add_token(c, to_us(now), "qingshan"))
        (tmp_path / "link.token").write_text(token, encoding="utf-8")
        township = start_server(tmp_path / "township.db", clock, load_config(township_file))
        running.append(township)

        there = Desk(township, "qingshan")
        desks.append(there)
        traffic(there, clock, {1: ("liuxia", "刘霞"), 2: ("zhaogang", "赵刚"), 3: ("wangfang", "王芳")}, 4, 3)
        here = Desk(county, "changqing")
        desks.append(here)
        traffic(here, clock, {1: ("liuxia", "刘霞"), 2: ("zhaogang", "赵刚")}, 3, 2)
        until(lambda: held(city, "qingshan") == held(township, "qingshan") > 0
              and held(city, "changqing") == held(county, "changqing") > 0)  # fmt: skip
        city.store.run_global_sync(
            lambda conn, now: accounts.add_user(
                conn, to_us(now), "shizhang", "市主管", accounts.Role.CITY_MANAGER, PASSWORD, None, None, CITY
            )
        )
        director = township.add_staff("director", "manager", name="王主任")
        own = httpx.get(f"{township.url}/api/v1/halls/qingshan/reports", params={"period": "year"},
                        headers={"Authorization": f"Bearer {director}"}, trust_env=False).json()["totals"]  # fmt: skip

        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{city.url}/city/{CITY}")
        page.wait_for_function("() => window.bianminCity && window.bianminCity.ready")
        assert "市级主管登录" in page.inner_text("#login")
        check(page, "city login")  # axe-core: no serious or critical violation, one <h1>, English marked
        log_in(page, "shizhang")
        page.wait_for_selector('#headline tr[data-county="total"]')
        assert "长沙市" in page.inner_text("#city-name") and "2026年" in page.inner_text("#headline-title")

        # The headline table: the relaying county's line, the silent county's zeros, the city's total.
        line = '#headline tr[data-county="changqing"]'
        assert "长青县" in page.inner_text(line)
        assert page.inner_text(f'{line} [data-figure="centers"]') == "2"
        assert page.inner_text(f'{line} [data-figure="windows"]') == "20"  # configured: 10 + 10
        assert page.inner_text(f'{line} [data-figure="served"]') == "18"  # 12 at the township, 6 at the county
        assert page.inner_text(f'{line} [data-figure="by_agent"]') == "7"  # every 3rd there, every 2nd here
        assert page.inner_text(f'{line} [data-figure="on_the_spot"]') == "11"
        assert page.inner_text(f'{line} [data-figure="staff"]') == "5"  # 3 clerks there, 2 here
        assert page.inner_text(f'{line} [data-figure="windows_used"]') == "5"
        assert page.inner_text(f'{line} [data-figure="cases"]') == "18"  # every visit opened a case
        assert page.inner_text(f'{line} [data-figure="completion_rate"]') == "61.1%"  # the 7 代理件 still open
        tip = page.get_attribute('#headline th[data-define="completion_rate"]', "title") or ""
        assert "办结率 = 本期办结件数 ÷ 本期受理件数" in tip
        assert "口径说明" in page.inner_text('#headline-legend [data-legend="figures"]')
        silent = '#headline tr[data-county="baishui"]'
        assert page.inner_text(f'{silent} [data-figure="served"]') == "0"
        assert page.inner_text(f'{silent} [data-figure="completion_rate"]') == "—"
        total = '#headline tr[data-county="total"]'
        assert page.inner_text(f'{total} [data-figure="centers"]') == "4"
        assert page.inner_text(f'{total} [data-figure="served"]') == "18"
        assert page.inner_text('#headline-figures [data-figure="by_agent"] .value') == "7"

        # The report by county, then by hall: the township's row is its own report's figures.
        wait_text(page, '#rows tr[data-row="changqing"] [data-figure="served"]', "18")
        assert "长青县" in page.inner_text('#rows tr[data-row="changqing"]')
        assert page.locator("#chart-cases").bounding_box() is not None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "city-rollup.png"), full_page=True)
        check(page, "city rollup by county")
        page.select_option("#report-form select[name=by]", "hall")
        page.click("#report-form button[type=submit]")
        page.wait_for_selector('#rows tr[data-row="qingshan"]')
        row = '#rows tr[data-row="qingshan"]'
        assert page.inner_text(f'{row} [data-figure="issued"]') == str(own["issued"]) == "12"
        assert page.inner_text(f'{row} [data-figure="served"]') == str(own["served"])
        assert page.inner_text(f'{row} [data-figure="by_agent"]') == str(own["by_agent"]) == "4"
        assert page.inner_text(f'{row} [data-figure="staff"]') == str(own["staff"]) == "3"
        check(page, "city rollup by hall")

        with page.expect_download() as download:
            page.click("#export-headline")
        assert download.value.suggested_filename == f"bianmin-city-{CITY}-headline-year-2026-01-01.xlsx"
        saved = download.value.path()
        assert saved is not None
        sheet = load_workbook(io.BytesIO(Path(saved).read_bytes())).active
        assert sheet is not None
        values = [[cell.value for cell in r] for r in sheet.iter_rows()]
        assert ["长青县", "changqing", 2, 2, 20, 5, 5, 18, 11, 7, 18, 11, round(11 / 18, 4), 1.0, 1.0] in values

        # Someone who is not the city's manager is refused, with the reason.
        city.add_staff("zhuren", "manager", name="主任")
        other = context.new_page()
        other.goto(f"{city.url}/city/{CITY}")
        other.wait_for_function("() => window.bianminCity && window.bianminCity.ready")
        log_in(other, "zhuren")
        other.wait_for_selector("#denied:not([hidden])")
        assert "无权查看市级汇总" in other.inner_text("#denied")
        check(other, "city rollup, refused")
    finally:
        context.close()
        for desk in desks:
            desk.http.close()
        for server in reversed(running):
            server.stop()
