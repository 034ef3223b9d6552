"""远程取号 /join/{hall} in headless Chromium at phone size against a real server: a place taken and checked in at
the kiosk, the daily quota reached, outside the hours, and the no-show limit, each said on the page.
Screenshots: docs/screenshots/join-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.schema import HallConfig
from tests.web.conftest import LiveHall, TickingClock
from tests.web.test_phone import OpenPhone, open_phone, shoot, text, wait_text

__all__ = ["open_phone"]  # the fixture, used by name


@pytest.fixture
def hall(tmp_path: Path, web_config: HallConfig, cheap_password_hashing: None) -> Iterator[LiveHall]:
    """The demo hall with one remote place a day for 计划生育 and one no-show allowed."""
    demo = web_config.halls[0]
    remote = demo.remote.model_copy(update={"category_quota": {"jisheng": 1}, "no_show_limit": 1})
    config = web_config.model_copy(update={"halls": [demo.model_copy(update={"remote": remote})]})
    running = LiveHall(tmp_path / "queue.db", config, TickingClock())
    yield running
    running.stop()


def kiosk_check_in(hall: LiveHall, code: str) -> dict[str, object]:
    assert hall.server is not None
    if hall.kiosk is None:
        hall.kiosk = hall.server.add_device("kiosk-1")
    answer = hall.http.post(f"/appointments/{code}/check-in", headers={"Authorization": f"Bearer {hall.kiosk}"})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_place_taken_on_the_phone_is_checked_in_at_the_kiosk_and_followed(
    open_phone: OpenPhone, hall: LiveHall
) -> None:
    page = open_phone("/join/qingshan")
    page.wait_for_selector("body.ready")
    assert "远程取号时间：08:30–11:30、14:30–17:00" in text(page, "#hours")
    page.select_option("#category", "guotu")
    wait_text(page, "#left", "20 / 20")
    shoot(page, "join.png")
    page.click("#take")
    page.wait_for_selector("#result:not([hidden])")
    assert text(page, "#result-title").startswith("已取号，请按时到厅签到")
    assert page.locator("#result-qr").is_visible()
    assert "到取号机签到" in text(page, "#result-checkin")
    assert "预约签到" in text(page, "#result-how")
    shoot(page, "join-taken.png")
    code = page.evaluate("() => window.bianminJoin.shown.code")

    ticket = kiosk_check_in(hall, code)
    page.reload()  # the page keeps the code: reopened, it shows the place, now with its ticket
    page.wait_for_selector("#track-link:not([hidden])")
    assert f"已签到取号：{ticket['number']}" == text(page, "#result-state")
    assert page.get_attribute("#track-link", "href") == f"/t/{ticket['track_token']}"


def test_the_quota_reached_outside_the_hours_and_the_no_show_limit_are_said(
    open_phone: OpenPhone, hall: LiveHall
) -> None:
    page = open_phone("/join/qingshan")
    page.wait_for_selector("body.ready")
    page.select_option("#category", "jisheng")
    wait_text(page, "#left", "1 / 1")
    other = hall.http.post("/remote-tickets", json={"category": "jisheng", "device_id": "another-phone-000000"})
    assert other.status_code == 201, other.text  # the last place, taken by another phone meanwhile
    page.click("#take")
    page.wait_for_selector("#take-error:not([hidden])")
    said = text(page, "#take-error")  # Chinese first, then the English
    assert said.startswith("今日该类业务1个远程取号名额已满，请到大厅现场取号或预约其他日期 today's 1 remote")
    wait_text(page, "#left", "0 / 1")
    assert page.locator("#take").is_disabled()

    page.select_option("#category", "guotu")
    page.click("#take")
    page.wait_for_selector("#result:not([hidden])")
    hall.clock.advance(minutes=71)  # 10:11: not checked in within 60 minutes and the 10 of grace
    page.click("#again")
    page.wait_for_selector("#form:not([hidden])")
    page.select_option("#category", "minzheng")
    page.wait_for_function("() => !document.querySelector('#take').disabled")
    page.click("#take")
    page.wait_for_selector("#take-error:not([hidden])")
    refused = text(page, "#take-error")
    assert refused.startswith("近30天内已有1次远程取号未按时签到，3月23日前不能远程取号，请到大厅现场取号 1 remote")
    shoot(page, "join-refused.png")

    hall.clock.advance(hours=2)  # about 12:11: the morning's remote tickets are over
    page.reload()
    page.wait_for_selector("body.ready")
    page.wait_for_function("() => document.querySelector('#hours').dataset.open === 'false'")
    assert "现在不在远程取号时间内（08:30–11:30、14:30–17:00）" in text(page, "#hours")
    assert page.locator("#take").is_disabled()
