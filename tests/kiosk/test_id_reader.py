"""The GA 467 reader adapter against a fake reader on TCP loopback: a card, no card, a bad checksum, unplugged."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from kiosk.idcard.ga467 import BadFrame, Ga467Reader, command, split_frame
from kiosk.idcard.reader import ReaderGone, age_on, id_hash, mask_name
from kiosk.idcard.watch import CardWatcher
from queue_server.devices.settings import Tcp
from tests.kiosk.fake_id_reader import Card, FakeReader


def reader_for(fake: FakeReader) -> Ga467Reader:
    return Ga467Reader(Tcp(type="tcp", host="127.0.0.1", port=fake.port), timeout_s=0.5)


def test_commands_are_the_ga467_frames() -> None:
    assert command((0x20, 0x01)).hex(" ") == "aa aa aa 96 69 00 03 20 01 22"
    assert command((0x30, 0x01)).hex(" ") == "aa aa aa 96 69 00 03 30 01 32"
    partial = bytes.fromhex("aaaaaa966900")
    assert split_frame(partial) == (None, partial)  # waits for the rest


def test_a_card_on_the_reader_is_read_field_by_field() -> None:
    async def scenario() -> None:
        fake = await FakeReader().start()
        reader = reader_for(fake)
        await reader.open()
        assert await reader.read_card() is None  # no card yet: the find answers 00 00 80
        fake.card = Card()
        card = await reader.read_card()
        assert card is not None
        assert (card.name, card.sex, card.nation, card.birth) == ("张美丽", "2", "01", dt.date(1961, 3, 2))
        assert (card.address, card.number) == ("青山镇青山村三组18号", "36010219610302432X")
        assert card.issuer == "青山县公安局"
        assert (card.valid_from, card.valid_to) == ("20160101", "长期")
        assert "张" not in repr(card) and "432X" not in repr(card)  # never in a log line by accident
        assert fake.commands == [b"\x20\x01", b"\x20\x01", b"\x20\x02", b"\x30\x01"]
        await reader.close()
        await fake.stop()

    asyncio.run(scenario())


def test_a_bad_checksum_gives_no_card_then_the_next_read_works(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        fake = await FakeReader().start()
        fake.card, fake.corrupt = Card(), True
        reader = reader_for(fake)
        await reader.open()
        with pytest.raises(BadFrame, match="bad checksum"):
            await reader.read_card()
        fake.corrupt = True
        cards: list[object] = []
        watcher = CardWatcher(reader, cards.append, lambda _present: None)
        assert await watcher.poll_once() is None  # the watcher takes it as no card, and does not crash
        card = await watcher.poll_once()
        assert card is not None and card.number == "36010219610302432X"
        assert await watcher.poll_once() is None  # the same card still lying there: reported once
        fake.card = None
        assert await watcher.poll_once() is None
        fake.card = Card()
        assert await watcher.poll_once() is not None  # put down again: a new swipe
        await reader.close()
        await fake.stop()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(scenario())
    assert "garbled" in caplog.text
    assert "432X" not in caplog.text and "张美丽" not in caplog.text


def test_unplugged_mid_read_is_said_then_plugged_back_it_reads_again(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        fake = await FakeReader().start()
        fake.card, fake.hang_up_in_read = Card(), True
        reader = reader_for(fake)
        await reader.open()
        with pytest.raises(ReaderGone, match="went away"):
            await reader.read_card()  # half the answer, then the connection closed
        states: list[bool] = []
        cards: list[str] = []
        watcher = CardWatcher(reader, lambda c: cards.append(c.number), states.append, poll_s=0.02, retry_s=0.05)
        port = fake.port
        await fake.stop()  # unplugged
        running = asyncio.create_task(watcher.run())
        await asyncio.sleep(0.3)
        assert states == [False] and cards == []  # said once, retried quietly, no crash
        await fake.start(port)  # plugged back in, a card on it
        fake.card = Card()
        for _ in range(100):
            if cards:
                break
            await asyncio.sleep(0.02)
        assert states == [False, True] and cards == ["36010219610302432X"]
        fake.hang_up_in_read = True  # pulled out during the read of the next card
        fake.card = Card(number="360102195001014321")
        for _ in range(100):
            if states[-1] is False:
                break
            await asyncio.sleep(0.02)
        assert states[-1] is False and running.done() is False  # said, and the watcher carries on
        running.cancel()
        await reader.close()
        await fake.stop()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(scenario())
    assert "went away" in caplog.text and "432" not in caplog.text


def test_masked_names_ages_and_the_keyed_hash() -> None:
    assert (mask_name("张美丽"), mask_name("张三"), mask_name("欧阳娜娜")) == ("张*丽", "张*", "欧**娜")
    assert age_on(dt.date(1961, 3, 17), dt.date(2026, 3, 16)) == 64
    assert age_on(dt.date(1961, 3, 16), dt.date(2026, 3, 16)) == 65
    one = id_hash(b"k" * 32, "36010219610302432x")
    assert one == id_hash(b"k" * 32, "36010219610302432X") and len(one) == 64
    assert one != id_hash(b"K" * 32, "36010219610302432X")  # another hall, another hash
