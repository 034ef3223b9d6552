"""The manager wall's link panel (联动上报) in headless Chromium: a township shipping to a county, cut and restored."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from config.schema import HallConfig, Link
from queue_server.link import receiver
from queue_server.link.tables import link_state
from queue_server.store.writer import to_us
from tests.queue_server.link.conftest import acked, county_config, log_rows
from tests.support.server import HALL, RunningServer, free_port, start_server
from tests.web.conftest import LiveHall, TickingClock
from tests.web.test_dashboard import SCREENSHOTS, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def until(what: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_wall_shows_the_link_up_working_failing_and_back(
    tmp_path: Path, web_config: HallConfig, cheap_password_hashing: None, browser: Browser
) -> None:
    clock = TickingClock()
    port = free_port()
    county_db = tmp_path / "county.db"  # migrated by the first start
    county: RunningServer | None = start_server(county_db, clock, county_config(web_config), port=port)
    assert county is not None
    token = county.store.run_global_sync(lambda conn, now: receiver.add_token(conn, to_us(now), HALL))
    (tmp_path / "link.token").write_text(token, encoding="utf-8")
    link = Link(url=f"http://127.0.0.1:{port}", token_file=str(tmp_path / "link.token"), interval_s=0.1,
                retry_min_s=0.1, retry_max_s=0.5)  # fmt: skip
    hall_config = web_config.halls[0].model_copy(update={"link": link})
    township_db = tmp_path / "township.db"
    hall = LiveHall(township_db, web_config.model_copy(update={"halls": [hall_config]}), clock)
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        assert hall.server is not None
        hall.server.add_staff("director", "manager", name="王主任")
        township = hall.server
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(hall.page_url(f"/manager/{HALL}"))
        page.wait_for_function("() => document.body.classList.contains('ready')")
        log_in(page, "director")
        liuxia = hall.open(1, "liuxia", name="刘霞")
        hall.issue("jisheng", 3)
        hall.call_next(liuxia, 1)
        hall.serve(liuxia, 1)
        until(lambda: acked(township) == log_rows(township)[-1][0])
        hall.issue("jisheng")  # an event: the wall reads again
        page.wait_for_selector("#uplink-panel:not([hidden])")
        shows(page, "正常")
        assert f"127.0.0.1:{port}" in page.inner_text("#uplink-url")
        assert page.is_hidden("#uplink-error")

        county.stop()  # the county goes away; the township keeps serving
        county = None
        hall.issue("jisheng", 4)
        hall.call_next(liuxia, 1)
        hall.serve(liuxia, 1)
        until(lambda: "无法连接" in _error(township))
        hall.issue("guotu")
        shows(page, "异常")
        assert "无法连接县级服务器" in page.inner_text("#uplink-error")
        behind = log_rows(township)[-1][0] - acked(township)
        assert behind >= 8  # every event since the county went away
        script = "n => document.querySelector('[data-figure=uplink_waiting] .value')?.textContent === String(n)"
        page.wait_for_function(script, arg=behind)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#uplink-panel").screenshot(path=str(SCREENSHOTS / "manager-uplink.png"))

        county = start_server(county_db, clock, county_config(web_config), port=port)
        until(lambda: acked(township) == log_rows(township)[-1][0])
        hall.issue("guotu")
        shows(page, "正常")
        assert page.is_hidden("#uplink-error")
    finally:
        context.close()
        hall.stop()
        if county is not None:
            county.stop()


def shows(page: Page, state: str) -> None:
    """Wait until the link panel's state tile says `state` (正常 or 异常)."""
    script = "s => document.querySelector('[data-figure=uplink_state] .value')?.textContent === s"
    page.wait_for_function(script, arg=state)


def _error(server: RunningServer) -> str:
    with server.store.engine.connect() as conn:
        return str(conn.execute(select(link_state.c.last_error).where(link_state.c.hall == HALL)).scalar() or "")
