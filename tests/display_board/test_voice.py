"""Voice calling: clips play one at a time, in order; a board without sound carries on silently."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import httpx
import pytest

from display_board.voice import Announcer, AudioCache, AudioUnavailable
from queue_server.protocol import CallMessage, TicketRef

AT = dt.datetime(2026, 3, 16, 1, 0, tzinfo=dt.UTC)


def call(number: str, window: int = 1, audio: bool = True, repeat: int = 1) -> CallMessage:
    url = f"/api/v1/halls/qingshan/announcements/{number}/{window}.wav" if audio else None
    return CallMessage(
        seq=1, at=AT, ticket=TicketRef(number=number, category="jisheng", priority="ordinary"), window=window,
        window_name_zh="-", window_name_en="-", recall=0, queues=[],
        announcement={"text_zh": "-", "text_en": "-", "audio_url": url, "repeat": repeat},
    )  # fmt: skip


class FakePlayer:
    """Plays for `seconds`, recording when each clip starts and ends."""

    def __init__(self, seconds: float = 0.03, fail_with: Exception | None = None) -> None:
        self.seconds, self.fail_with = seconds, fail_with
        self.log: list[tuple[str, str]] = []
        self.playing = 0
        self.overlapped = False

    async def play(self, path: Path) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.playing += 1
        self.overlapped |= self.playing > 1
        self.log.append(("start", path.name))
        await asyncio.sleep(self.seconds)
        self.log.append(("end", path.name))
        self.playing -= 1


async def fetch(url: str) -> Path:
    if "X" in url:
        raise httpx.ConnectError("the server is gone")
    number, window = url.split("/")[-2:]
    return Path(f"{number}-{window}")


async def run_until_idle(announcer: Announcer, calls: list[CallMessage], settle: float = 0.6) -> None:
    task = asyncio.create_task(announcer.run())
    for item in calls:
        announcer.announce(item)
    await asyncio.sleep(settle)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_calls_are_said_in_order_one_at_a_time_each_as_often_as_asked() -> None:
    player = FakePlayer()
    announcer = Announcer(fetch, player, gap_s=0.01)
    asyncio.run(run_until_idle(announcer, [call("A001"), call("B001", 2, repeat=2), call("A002")]))
    assert not player.overlapped
    assert [name for event, name in player.log if event == "start"] == ["A001-1.wav", "B001-2.wav", "B001-2.wav",
                                                                         "A002-1.wav"]  # fmt: skip
    assert announcer.played == [("A001", 1), ("B001", 2), ("A002", 1)]
    assert announcer.silent_reason is None


def test_without_an_audio_device_the_board_goes_silent_and_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    player = FakePlayer(fail_with=AudioUnavailable("the audio device could not be opened"))
    announcer = Announcer(fetch, player, gap_s=0.01)
    with caplog.at_level(logging.INFO, logger="display_board.voice"):
        asyncio.run(run_until_idle(announcer, [call("A001"), call("A002")], settle=0.2))
    assert announcer.played == []
    assert announcer.silent_reason == "the audio device could not be opened"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["voice: no sound on this board (the audio device could not be opened); calls are shown, "
                        "not said"], "said once, not for every call"  # fmt: skip


def test_a_call_without_audio_or_whose_audio_cannot_be_fetched_is_skipped() -> None:
    player = FakePlayer()
    announcer = Announcer(fetch, player, gap_s=0.01)
    asyncio.run(run_until_idle(announcer, [call("A001", audio=False), call("X001"), call("A002")], settle=0.3))
    assert announcer.played == [("A002", 1)]


def test_a_call_that_has_waited_too_long_in_the_queue_is_not_said() -> None:
    player = FakePlayer()
    announcer = Announcer(fetch, player, is_stale=lambda c: c.ticket.number == "A001", gap_s=0.01)
    asyncio.run(run_until_idle(announcer, [call("A001"), call("A002")], settle=0.3))
    assert announcer.played == [("A002", 1)]


def test_sound_switched_off() -> None:
    announcer = Announcer(fetch, None)
    asyncio.run(run_until_idle(announcer, [call("A001")], settle=0.05))
    assert announcer.played == [] and announcer.silent_reason == "sound is switched off"


def test_a_player_that_fails_unexpectedly_does_not_stop_the_announcer() -> None:
    player = FakePlayer(fail_with=RuntimeError("a bug in the player"))
    announcer = Announcer(fetch, player, gap_s=0.01)
    asyncio.run(run_until_idle(announcer, [call("A001"), call("A002")], settle=0.2))
    assert announcer.played == [] and announcer.silent_reason is None


def test_the_audio_cache_fetches_relative_urls_from_the_server_once(tmp_path: Path) -> None:
    requested: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, content=b"RIFF....WAVE")

    async def main() -> tuple[Path, Path]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            cache = AudioCache(client, "ws://10.0.0.5:8000/", folder=tmp_path)
            first = await cache.fetch("/api/v1/halls/qingshan/announcements/A001/1.wav")
            again = await cache.fetch("/api/v1/halls/qingshan/announcements/A001/1.wav")
            return first, again

    first, again = asyncio.run(main())
    assert first == again and first.read_bytes() == b"RIFF....WAVE" and first.suffix == ".wav"
    assert requested == ["http://10.0.0.5:8000/api/v1/halls/qingshan/announcements/A001/1.wav"]


def test_the_audio_cache_refuses_an_error_page(tmp_path: Path) -> None:
    async def main() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(404, json={"error": {}}))
        async with httpx.AsyncClient(transport=transport) as client:
            await AudioCache(client, "http://h:1", folder=tmp_path).fetch("/x.wav")

    with pytest.raises(httpx.HTTPStatusError):
        asyncio.run(main())
    assert list(tmp_path.iterdir()) == []
