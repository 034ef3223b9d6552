"""The phone reminder on the tracking page in headless Chromium (390×844): consent, the number, the texts.

The hall's webhook points at a fake SMS gateway on 127.0.0.1. Screenshot: docs/screenshots/phone-reminder.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.schema import HallConfig, Notify
from tests.support.axe import violations
from tests.support.gateway import Gateway
from tests.web.conftest import LiveHall, TickingClock
from tests.web.test_phone import OpenPhone, issue, open_phone, shoot, text

__all__ = ["open_phone"]  # the phone fixture, used here with this module's hall


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    fake = Gateway()
    yield fake
    fake.close()


@pytest.fixture
def hall(tmp_path: Path, web_config: HallConfig, gateway: Gateway, cheap_password_hashing: None) -> Iterator[LiveHall]:
    """The web tests' hall, with its webhook at the fake gateway (快到您了 at 2 ahead)."""
    demo = web_config.halls[0]
    notify = Notify(url=gateway.url, remind_ahead=2, retry_min_s=0.05, retry_max_s=0.2)
    config = web_config.model_copy(update={"halls": [demo.model_copy(update={"notify": notify})]})
    running = LiveHall(tmp_path / "queue.db", config, TickingClock())
    yield running
    running.stop()


def test_a_citizen_ticks_consent_gives_a_number_and_gets_the_texts(
    open_phone: OpenPhone, hall: LiveHall, gateway: Gateway
) -> None:
    hall.issue("jisheng", 2)  # A001, A002 ahead
    mine = issue(hall)  # A003
    page = open_phone(f"/t/{mine['track_token']}")
    page.wait_for_selector("#remind:not([hidden])")
    assert "短信提醒" in text(page, "#remind-title")
    page.fill("#remind-phone", "13812345678")
    page.click("#remind-submit")  # without the tick the browser does not send it
    page.wait_for_timeout(300)
    assert page.locator("#remind-on").is_hidden() and gateway.bodies() == []
    page.check("#remind-consent")
    assert violations(page) == []  # axe-core: no serious or critical violation with the form on the page
    page.locator("#remind").scroll_into_view_if_needed()
    shoot(page, "phone-reminder.png", "#remind")
    page.click("#remind-submit")
    page.wait_for_selector("#remind-on:not([hidden])")
    assert text(page, "#remind-masked") == "138****5678"
    assert "13812345678" not in page.inner_text("body")
    [soon] = gateway.wait_for(1)  # 2 ahead: 快到您了 at once
    assert (soon["kind"], soon["number"], soon["ahead"]) == ("soon", "A003", 2)

    clerk = hall.open(1, "liuxia")
    for _ in range(2):
        hall.call_next(clerk, 1)
        hall.serve(clerk, 1)
    assert hall.call_next(clerk, 1) == "A003"
    bodies = gateway.wait_for(2)
    assert [(b["kind"], b["window"]) for b in bodies] == [("soon", None), ("call", 1)]
