"""A swipe of the ID card at the kiosk, through the view-model and a real server on a real SQLite file.

The card is read by the simulated reader and polled by the same watcher as a real one; the kiosk hashes
the number with the hall's key from the server. Nothing clear of the card reaches the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from config.schema import HallConfig, IdReader, KioskDevice
from kiosk.client import KioskClient, RetryPolicy
from kiosk.idcard.reader import IdCard
from kiosk.idcard.simulated import SimulatedReader
from kiosk.idcard.watch import CardWatcher
from kiosk.state import Screen
from kiosk.viewmodel import KioskViewModel
from kiosk.views import KioskView
from tests.kiosk.conftest import NOW, Clock, FakePrinting
from tests.support.server import HALL, RunningServer, demo_config

SENIOR = IdCard(name="张美丽", sex="2", nation="01", birth=dt.date(1961, 3, 2), address="青山镇青山村三组18号",
                number="36010219610302432X", issuer="青山县公安局", valid_from="20160101", valid_to="长期")  # fmt: skip
YOUNG = IdCard(name="李强", sex="1", nation="01", birth=dt.date(1996, 7, 9), address="青山镇河口村五组2号",
               number="360102199607091234", issuer="青山县公安局", valid_from="20200101",
               valid_to="20400101")  # fmt: skip
FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=0.05, connect_timeout_s=1, read_timeout_s=5)


def with_reader(config: HallConfig) -> HallConfig:
    hall = config.hall("qingshan")
    devices = [
        d.model_copy(update={"id_reader": IdReader(type="simulated")}) if isinstance(d, KioskDevice) else d
        for d in hall.devices
    ]
    return config.model_copy(update={"halls": [hall.model_copy(update={"devices": devices})]})


def clear_values(card: IdCard) -> list[str]:
    """The card's number, name and birth date, as they could be written."""
    return [card.number, card.number.lower(), card.name, card.birth.strftime("%Y%m%d"), card.birth.isoformat()]


def test_a_senior_is_offered_the_green_channel_and_a_second_ticket_is_refused(
    start_hall: Callable[..., RunningServer], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_hall(with_reader(demo_config()))
    token = server.add_device("kiosk-1")
    views: list[KioskView] = []
    reader = SimulatedReader()

    async def scenario() -> None:
        async with KioskClient(server.url, token, retry=FAST) as client:
            setup = await client.setup("kiosk-1")
            assert setup.device.id_reader is not None and setup.hall.id_card.senior_age == 60
            vm = KioskViewModel(lambda request, key: client.issue(HALL, request, key), printer=FakePrinting(),
                                render=views.append, clock=Clock(), now=lambda: NOW)  # fmt: skip
            vm.id_card_key = await client.id_card_key(HALL)
            vm.start(setup)
            watcher = CardWatcher(reader, lambda _card: None, vm.set_reader)

            async def swipe(card: IdCard) -> None:
                reader.present(card)
                read = await watcher.poll_once()
                assert read is not None
                await vm.card_read(read)
                reader.remove()
                assert await watcher.poll_once() is None

            # A 65-year-old swipes on 计生服务's screen: the green channel is offered, named masked.
            vm.open_category("jisheng")
            await swipe(SENIOR)
            message = views[-1].message
            assert vm.state.screen is Screen.GREEN and message is not None
            assert message.title == "绿色通道"
            assert message.body.startswith("张*丽，您已年满60周岁，可走绿色通道优先办理")
            assert "张美丽" not in str(views)
            await vm.take_green("jisheng")
            ticket = views[-1].ticket
            assert ticket is not None and (ticket.number, ticket.badge) == ("A001", "绿色通道")
            vm.done()
            assert vm.state.card is None  # forgotten for the next citizen

            # The same card again for the same category, declining the offer (返回 → 取号): refused.
            vm.open_category("jisheng")
            await swipe(SENIOR)
            vm.back()
            assert vm.state.screen is Screen.CATEGORY
            await vm.take_ticket()
            refused = views[-1].message
            assert vm.state.screen is Screen.ERROR and refused is not None
            assert refused.title == "该身份证已有未办结的号"
            assert "张*丽在本类业务已取号A001，请等候叫号" in refused.body
            vm.toggle_language()
            english = views[-1].message
            assert english is not None and english.title == "This ID card already has a number waiting"
            assert "already has number A001" in english.body
            vm.go_home(reset_language=True)

            # A younger citizen swipes on an item's screen: the ticket at once, ordinary.
            vm.open_category("jisheng")
            vm.open_item("jisheng-birth-registration")
            await swipe(YOUNG)
            ticket = views[-1].ticket
            assert ticket is not None and ticket.number == "A002" and ticket.badge == ""
            vm.done()
            # ... and on the start screen the card waits for the service chosen, its name masked.
            await swipe(YOUNG)
            home = views[-1].home
            assert home is not None and home.prompt == "已读取身份证：李*。请点击要办理的业务取号"
            vm.open_category("guotu")
            await vm.take_ticket()
            assert views[-1].ticket is not None and views[-1].ticket.number == "B001"

    asyncio.run(scenario())

    db = tmp_path / "queue-0.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT number, priority, id_hash FROM tickets ORDER BY id").fetchall()
        events = conn.execute("SELECT * FROM events").fetchall()
    assert [(n, p) for n, p, _ in rows] == [("A001", "green"), ("A002", "ordinary"), ("B001", "ordinary")]
    assert all(h is not None and len(h) == 64 for _, _, h in rows) and rows[1][2] == rows[2][2] != rows[0][2]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("queue-0.db*"))  # the file, its WAL and shm
    assert len(stored) > 0 and rows[0][2].encode() not in str(events).encode()
    logs = caplog.text
    assert "/api/v1/halls/qingshan/tickets" in logs and "still open: no second one" in logs  # the logs were seen
    for card in (SENIOR, YOUNG):
        for value in clear_values(card):
            assert value.encode() not in stored and value.encode("utf-16-le") not in stored, value
            assert value not in str(events) and value not in logs, value


def test_a_card_kept_at_home_is_forgotten_after_a_minute_idle_and_a_kiosk_without_reader_ignores_cards() -> None:
    from tests.kiosk.test_viewmodel import Kiosk

    kiosk = Kiosk()
    asyncio.run(kiosk.vm.card_read(YOUNG))  # no key: this kiosk has no reader
    assert kiosk.vm.state.card is None and kiosk.view.home is not None
    assert kiosk.view.home.prompt == "请点击要办理的业务取号"
    kiosk.vm.id_card_key = b"k" * 32
    kiosk.vm.set_reader(True)
    assert kiosk.view.home is not None and kiosk.view.home.prompt == "请点击要办理的业务取号，或刷身份证"
    asyncio.run(kiosk.vm.card_read(YOUNG))
    assert kiosk.view.home is not None and kiosk.view.home.prompt.startswith("已读取身份证：李*")
    kiosk.clock.advance(61)
    kiosk.vm.tick()
    assert kiosk.vm.state.card is None and kiosk.view.home is not None
    assert kiosk.view.home.prompt == "请点击要办理的业务取号，或刷身份证"
    kiosk.vm.set_online(True)
    kiosk.vm.set_reader(False)
    assert kiosk.view.banner == "身份证读卡器未连接：请点击业务取号"
