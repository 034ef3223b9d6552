"""The real Kivy kiosk with a simulated ID card reader: the green-channel offer and the second ticket refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kiosk.conftest import with_printer
from tests.kiosk.test_id_card_ticket import with_reader
from tests.kiosk.test_kiosk_window import check_screens, kivy_installed, run_kiosk
from tests.printer.fake_printer import FakePrinter
from tests.support.server import RunningServer, demo_config

__all__ = ["kivy_installed"]  # the fixture, imported to be found

SENIOR = {"name": "张美丽", "sex": "2", "nation": "01", "birth": "1961-03-02", "address": "青山镇青山村三组18号",
          "number": "36010219610302432X", "issuer": "青山县公安局", "valid_from": "20160101",
          "valid_to": "长期"}  # fmt: skip


@pytest.mark.timeout(300)
def test_a_swipe_offers_the_green_channel_then_refuses_a_second_ticket_on_screen(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_reader(with_printer(demo_config(), fake_printer.port)))
    steps = [
        ["wait_live"], ["wait_text", "或刷身份证"],
        ["tap", "计生服务"], ["wait_screen", "category"],
        ["card", SENIOR], ["wait_screen", "green"], ["wait_text", "张*丽"], ["shot", "kiosk-id-card-green-offer"],
        ["tap", "计生服务"], ["wait_screen", "ticket"], ["wait_print", "done"], ["shot", "kiosk-id-card-ticket"],
        ["card_off"],
        ["tap", "完 成"], ["wait_screen", "home"],
        ["tap", "计生服务"], ["wait_screen", "category"],
        ["card", SENIOR], ["wait_screen", "green"], ["tap", "‹ 返回"], ["wait_screen", "category"],
        ["tap", "不确定办哪一项？直接取号"], ["wait_screen", "error"], ["shot", "kiosk-id-card-refused"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps)
    check_screens(run)
    offer = run.shot("kiosk-id-card-green-offer")["texts"]
    assert "绿色通道" in offer and any(t.startswith("张*丽，您已年满60周岁，可走绿色通道优先办理") for t in offer)
    ticket = run.shot("kiosk-id-card-ticket")["texts"]
    assert "A001" in ticket and "绿色通道" in ticket
    refused = run.shot("kiosk-id-card-refused")["texts"]
    assert "该身份证已有未办结的号" in refused
    assert any("张*丽在本类业务已取号A001，请等候叫号" in t for t in refused)
    assert not any("张美丽" in t or "432X" in t for t in offer + refused)
