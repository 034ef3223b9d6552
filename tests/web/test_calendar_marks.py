"""In the browser, in late December with a calendar that ends on 31 December: the marks people see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from config.schema import HallConfig
from tests.support.clock import SHANGHAI
from tests.support.server import HALL
from tests.web import test_console
from tests.web.conftest import LiveHall, TickingClock
from tests.web.test_console import issue_item, log_in, press, wait_current

if TYPE_CHECKING:
    from tests.web.test_console import OpenPage

open_page = test_console.open_page  # the console tests' fixture: a fresh context per page, no script error


@pytest.fixture
def hall(tmp_path: Path, web_config: HallConfig, cheap_password_hashing: None) -> Iterator[LiveHall]:
    """The demo hall (its calendar holds 2026 only) on Monday 21 December 2026, ten days before it ends."""
    running = LiveHall(
        tmp_path / "queue.db", web_config, TickingClock(dt.datetime(2026, 12, 21, 9, 0, tzinfo=SHANGHAI))
    )
    yield running
    running.stop()


def test_the_clerk_sees_a_provisional_due_date_and_the_manager_the_calendar_warning(
    hall: LiveHall, open_page: OpenPage
) -> None:
    assert hall.server is not None
    hall.clerk("liuxia", name="刘霞")
    hall.server.add_staff("director", "manager", name="王主任")
    number = issue_item(hall, "jisheng-childcare-subsidy")  # 20 working days: into 2027

    wall = open_page(f"/manager/{HALL}")
    log_in(wall, "director")
    alert = wall.locator('#alerts .alert[data-kind="calendar"]')
    alert.wait_for()
    assert "工作日历" in alert.inner_text() and "2026-12-31" in alert.inner_text()

    console = open_page(f"/clerk/{HALL}")
    log_in(console, "liuxia")
    console.click('.window-choice[data-window="1"] button[data-post="A"]')
    console.wait_for_selector("#work:not([hidden])")
    press(console, "c")
    wait_current(console, number, "called")
    due = console.locator("#current-due")
    due.wait_for()
    assert "2027-01-18" in due.inner_text() and "暂定" in due.inner_text()
    press(console, "s")
    wait_current(console, number, "serving")
    press(console, "f")
    console.wait_for_selector("#finish-dialog[open]")
    console.wait_for_selector("#due-provisional")
    assert "暂定" in console.inner_text("#due-preview")
