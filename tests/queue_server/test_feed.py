"""The board feed and its model against a real server: live calls, a restart mid-stream, a silent server."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from websockets.asyncio.server import ServerConnection, serve

from queue_server.board_model import BoardModel
from queue_server.feed import BoardFeed, FeedSettings, backoff_delay, board_url
from queue_server.protocol import (
    BoardState,
    CallMessage,
    CallView,
    DayMessage,
    QueueSummary,
    Snapshot,
    TicketMessage,
    TicketRef,
    WindowMessage,
    WindowView,
)
from tests.support.clock import FakeClock
from tests.support.server import HALL, RunningServer, start_server

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

FAST = FeedSettings(
    ping_interval_s=0.2,
    offline_after_s=1.0,
    open_timeout_s=2.0,
    close_timeout_s=1.0,
    send_timeout_s=2.0,
    backoff_initial_s=0.05,
    backoff_max_s=0.3,
    trust_server_date=False,  # the test server runs on a fake clock; the Date header is real time
)
WAIT_S = 10.0


class FeedThread:
    """A BoardFeed running in its own thread and event loop, recording what it announces."""

    def __init__(self, server: str, clock: Callable[[], dt.datetime], settings: FeedSettings = FAST,
                 hall: str = HALL) -> None:  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.announced: list[CallMessage] = []
        self.online_changes: list[bool] = []
        self.link_changes: list[bool] = []
        self.feed = BoardFeed(
            server,
            hall,
            settings=settings,
            on_call=self.announced.append,
            on_online=self.online_changes.append,
            on_link=self.link_changes.append,
            clock=clock,
            rng=random.Random(7),
        )
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self.feed.run(),), daemon=True)
        self._thread.start()

    @property
    def said(self) -> list[tuple[str, int, int]]:
        """(number, window, recall) of every call announced, in order."""
        return [(c.ticket.number, c.window, c.recall) for c in self.announced]

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last error: {self.feed.last_error}")
            time.sleep(0.02)

    def wait_seq(self, seq: int) -> None:
        self.wait(lambda: (self.feed.seq or -1) >= seq, f"seq {seq} (the feed is at {self.feed.seq})")

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.feed.stop)
        self._thread.join(timeout=WAIT_S)
        assert not self._thread.is_alive(), "the feed did not stop"
        self.loop.close()


@pytest.fixture
def feeds() -> Iterator[Callable[..., FeedThread]]:
    started: list[FeedThread] = []

    def start(server: str, clock: Callable[[], dt.datetime], **kwargs: object) -> FeedThread:
        started.append(FeedThread(server, clock, **kwargs))  # type: ignore[arg-type]
        return started[-1]

    yield start
    for feed in started:
        feed.stop()


def server_model(api: Api) -> BoardModel:
    """The board as the server's snapshot describes it now."""
    model = BoardModel()
    model.apply(Snapshot.model_validate(api.board()))
    return model


def assert_same_board(feed: FeedThread, api: Api) -> None:
    expected = server_model(api)
    feed.wait_seq(expected.seq or 0)
    model = feed.feed.model
    assert model.seq == expected.seq
    assert model.windows == expected.windows
    assert model.queues == expected.queues


# --- against a real server ----------------------------------------------------------------------


def test_a_call_made_over_http_reaches_the_feed_and_is_announced_once(
    server: RunningServer, api: Api, clock: FakeClock, feeds: Callable[..., FeedThread]
) -> None:
    feed = feeds(server.url, clock)
    feed.wait(lambda: feed.feed.model.ready and feed.feed.online, "the first snapshot")
    assert feed.feed.model.name_zh == "青山镇便民服务中心"
    assert feed.online_changes == [True]

    token = api.open("liuxia", 1)
    api.issue("jisheng")
    api.issue("jisheng")
    api.ok(token, 1, "call-next")
    feed.wait(lambda: len(feed.announced) == 1, "the call")
    call = feed.announced[0]
    assert (call.ticket.number, call.window, call.recall) == ("A001", 1, 0)
    assert call.announcement.text_zh == "请A001号到1号窗口办理"
    model = feed.feed.model
    assert model.latest_call is not None
    assert (model.latest_call.number, model.latest_call.window, model.latest_call.window_name_zh) == (
        "A001", 1, "计生服务窗口",
    )  # fmt: skip
    assert model.windows[1].current_number == "A001" and model.windows[1].current_state == "called"

    api.ok(token, 1, "recall")
    api.serve(token, 1)
    api.ok(token, 1, "call-next")
    api.ok(token, 1, "start")
    assert_same_board(feed, api)
    assert feed.said == [("A001", 1, 0), ("A001", 1, 1), ("A002", 1, 0)]
    assert [(c.number, c.window) for c in feed.feed.model.recent_calls] == [("A002", 1), ("A001", 1), ("A001", 1)]
    assert feed.feed.model.windows[1].current_state == "serving"
    assert feed.feed.connections == 1


def test_calls_already_made_come_in_the_snapshot_shown_but_not_announced(
    server: RunningServer, api: Api, clock: FakeClock, feeds: Callable[..., FeedThread]
) -> None:
    token = api.open("liuxia", 1)
    api.issue("jisheng")
    api.ok(token, 1, "call-next")
    feed = feeds(server.url, clock)
    feed.wait(lambda: feed.feed.model.ready, "the first snapshot")
    assert feed.feed.model.latest_call is not None and feed.feed.model.latest_call.number == "A001"
    time.sleep(3 * FAST.ping_interval_s)  # pings and pongs go by: still nothing to say
    assert feed.announced == []
    assert feed.feed.online


def test_the_feed_resumes_after_a_server_restart_with_nothing_lost_and_nothing_twice(
    new_db: Callable[[], str | Path],
    clock: FakeClock,
    cheap_password_hashing: None,
    make_api: Callable[[RunningServer], Api],
    feeds: Callable[..., FeedThread],
) -> None:
    db = new_db()
    first = start_server(db, clock)
    port = int(first.url.rsplit(":", 1)[1])
    servers = [first]
    stopped: list[RunningServer] = []

    def stop(server: RunningServer) -> None:
        server.stop()
        stopped.append(server)

    try:
        api = make_api(first)
        token = api.open("liuxia", 1)
        for _ in range(5):
            api.issue("jisheng")
        feed = feeds(first.url, clock)
        feed.wait(lambda: feed.feed.model.ready, "the first snapshot")
        api.ok(token, 1, "call-next")
        feed.wait(lambda: feed.said == [("A001", 1, 0)], "the first call")

        stop(first)
        feed.wait(lambda: not feed.feed.online, "the feed to notice the server is gone")
        assert feed.online_changes == [True, False]

        # While the board cannot reach its port, the hall goes on (the same database, another port):
        # a recall and a call that will be 90 s old by the time the board is back, a fresh call and recall.
        elsewhere = start_server(db, clock)
        servers.append(elsewhere)
        other = make_api(elsewhere)
        token = elsewhere.login("liuxia")
        other.ok(token, 1, "recall")
        other.serve(token, 1)
        other.ok(token, 1, "call-next")  # A002
        clock.advance(seconds=90)
        other.serve(token, 1)
        other.ok(token, 1, "call-next")  # A003
        other.ok(token, 1, "recall")
        stop(elsewhere)

        again = start_server(db, clock, port=port)
        servers.append(again)
        api = make_api(again)
        feed.wait(lambda: feed.feed.online, "the feed to come back")
        assert feed.online_changes == [True, False, True]
        token = again.login("liuxia")
        api.serve(token, 1)
        api.ok(token, 1, "call-next")  # A004, live
        assert_same_board(feed, api)
        # The recall of A001 and the call of A002 were 90 s old when the board got them: shown, not said.
        # Everything else is said exactly once.
        assert feed.said == [("A001", 1, 0), ("A003", 1, 0), ("A003", 1, 1), ("A004", 1, 0)]
        recent = [c.number for c in feed.feed.model.recent_calls]
        assert recent == ["A004", "A003", "A003", "A002", "A001", "A001"]
        assert feed.feed.connections >= 2
    finally:
        for running in servers:
            if running not in stopped:
                running.stop()


def test_the_link_is_told_at_once_when_the_server_goes_and_when_it_is_back(
    new_db: Callable[[], str | Path], clock: FakeClock, cheap_password_hashing: None, feeds: Callable[..., FeedThread]
) -> None:
    db = new_db()
    server = start_server(db, clock)
    port = int(server.url.rsplit(":", 1)[1])
    patient = dataclasses.replace(FAST, ping_interval_s=1.0, offline_after_s=8.0)  # a board's grace: 8 s
    feed = feeds(server.url, clock, settings=patient)
    feed.wait(lambda: feed.link_changes == [True], "the first connection")
    server.stop()
    started = time.monotonic()
    feed.wait(lambda: feed.link_changes[-1:] == [False], "the dropped connection", timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert feed.feed.online  # the board's own flag keeps its grace against a blip
    again = start_server(db, clock, port=port)
    try:
        feed.wait(lambda: feed.link_changes[-1:] == [True], "the server back")
        assert feed.online_changes == [True]  # no flicker of the grace-period flag
    finally:
        again.stop()


def test_a_board_clock_that_is_wrong_by_an_hour_still_announces_live_calls(
    new_db: Callable[[], str | Path], cheap_password_hashing: None, make_api: Callable[[RunningServer], Api],
    feeds: Callable[..., FeedThread],
) -> None:  # fmt: skip
    server = start_server(new_db())  # the real clock, so the Date header and `at` agree
    try:
        api = make_api(server)
        token = api.open("liuxia", 1)
        api.issue("jisheng")
        settings = FeedSettings(**{**FAST.__dict__, "trust_server_date": True})
        feed = feeds(server.url, lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), settings=settings)
        feed.wait(lambda: feed.feed.model.ready, "the first snapshot")
        assert 3590 < feed.feed.clock_skew_s < 3610
        api.ok(token, 1, "call-next")
        feed.wait(lambda: feed.said == [("A001", 1, 0)], "the call to be announced")
    finally:
        server.stop()


def test_a_board_of_an_unknown_hall_is_refused_and_keeps_trying_slowly(
    server: RunningServer, clock: FakeClock, feeds: Callable[..., FeedThread]
) -> None:
    feed = feeds(server.url, clock, hall="no-such-hall")
    feed.wait(lambda: feed.feed.last_error is not None, "the refusal")
    assert feed.feed.last_error == "the server refused the board: 4404 no hall 'no-such-hall'"
    assert not feed.feed.online and not feed.feed.model.ready


# --- against a fake server that stops answering -------------------------------------------------


def test_a_server_that_goes_silent_turns_the_feed_offline_and_the_feed_reconnects(
    clock: FakeClock, feeds: Callable[..., FeedThread]
) -> None:
    snapshot = Snapshot(seq=3, board=board_state()).model_dump_json()
    connections: list[str] = []
    ready = threading.Event()
    stop = threading.Event()
    port: list[int] = []

    async def handler(ws: ServerConnection) -> None:
        connections.append(ws.request.path if ws.request else "")
        await ws.send(snapshot)
        await ws.wait_closed()  # and say nothing more: no pong, no event (a hung server)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
            port.append(next(iter(server.sockets)).getsockname()[1])
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            server.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(WAIT_S)
        feed = feeds(f"http://127.0.0.1:{port[0]}", clock)
        feed.wait(lambda: feed.feed.online, "the snapshot")
        feed.wait(lambda: not feed.feed.online, "silence to be noticed")
        feed.wait(lambda: len(connections) >= 2, "a reconnection")
        assert connections[0] == f"/ws/halls/{HALL}/board"
        assert connections[1] == f"/ws/halls/{HALL}/board?since=3"
        feed.wait(lambda: feed.online_changes[:3] == [True, False, True], "online again after the reconnection")
    finally:
        stop.set()
        thread.join(timeout=WAIT_S)


# --- pure parts ---------------------------------------------------------------------------------

AT = dt.datetime(2026, 3, 16, 1, 0, tzinfo=dt.UTC)
QUEUES = [QueueSummary(category="jisheng", prefix="A", waiting=2, wait_s=420)]


def window(number: int = 1, **changes: object) -> WindowView:
    fields: dict[str, object] = {
        "number": number, "name_zh": f"{number}号窗口", "name_en": f"Window {number}", "state": "open", "post": "A",
        "clerk_name": "刘霞", "current_number": None, "current_state": None, "paused_reason": None,
    }  # fmt: skip
    return WindowView.model_validate({**fields, **changes})


def board_state(**changes: object) -> BoardState:
    fields: dict[str, object] = {
        "hall": HALL, "name_zh": "青山镇便民服务中心", "name_en": "Qingshan", "notice_zh": "请排队",
        "notice_en": "Queue", "supervision_phone": "0731-8562 3119", "day": dt.date(2026, 3, 16),
        "windows": [window(1), window(2)], "queues": QUEUES, "recent_calls": [],
    }  # fmt: skip
    return BoardState.model_validate({**fields, **changes})


def call(seq: int, number: str = "A001", window_number: int = 1, recall: int = 0) -> CallMessage:
    return CallMessage(
        seq=seq, at=AT, ticket=TicketRef(number=number, category="jisheng", priority="ordinary"),
        window=window_number, window_name_zh=f"{window_number}号窗口", window_name_en=f"Window {window_number}",
        recall=recall, announcement={"text_zh": f"请{number}号到{window_number}号窗口办理", "text_en": "-"},
        queues=QUEUES,
    )  # fmt: skip


def ticket_event(seq: int, event: str, number: str = "A001", window_number: int | None = 1) -> TicketMessage:
    return TicketMessage.model_validate(
        {"seq": seq, "at": AT, "event": event, "ticket": {"number": number, "category": "jisheng",
         "priority": "ordinary"}, "state": event, "window": window_number, "queues": QUEUES}
    )  # fmt: skip


def test_the_model_applies_each_event_once_and_ignores_what_it_has_seen() -> None:
    model = BoardModel()
    assert not model.apply(call(1)), "an event before any snapshot describes half a board"
    assert model.apply(Snapshot(seq=4, board=board_state()))
    assert not model.apply(call(4)) and not model.apply(call(2)), "seq <= 4 was already in the snapshot"
    assert model.apply(call(5))
    assert not model.apply(call(5)), "the same event twice is applied once"
    assert [c.number for c in model.recent_calls] == ["A001"]
    assert (model.windows[1].current_number, model.windows[1].current_state) == ("A001", "called")
    assert model.apply(ticket_event(6, "started"))
    assert (model.windows[1].current_number, model.windows[1].current_state) == ("A001", "serving")
    assert model.apply(ticket_event(7, "finished"))
    assert (model.windows[1].current_number, model.windows[1].current_state) == (None, None)
    assert model.apply(WindowMessage(seq=8, at=AT, event="paused", window=window(2, state="paused",
                                     paused_reason="午休"), queues=[]))  # fmt: skip
    assert model.windows[2].state == "paused" and model.windows[2].paused_reason == "午休"
    assert model.queues == {}
    assert model.seq == 8


def test_the_model_keeps_the_latest_calls_newest_first_and_takes_the_latest_from_a_snapshot() -> None:
    model = BoardModel(recent_limit=3)
    calls = [CallView(number="A002", window=2, at=AT), CallView(number="A001", window=1, at=AT)]
    model.apply(Snapshot(seq=1, board=board_state(recent_calls=calls)))
    assert model.latest_call is not None
    assert (model.latest_call.number, model.latest_call.window_name_zh) == ("A002", "2号窗口")
    for seq, number in enumerate(["A003", "A004", "A005"], start=2):
        model.apply(call(seq, number, 1))
    assert [c.number for c in model.recent_calls] == ["A005", "A004", "A003"]
    model.apply(call(5, "A005", 1, recall=1))
    assert model.latest_call is not None and model.latest_call.recall == 1


def test_a_snapshot_with_a_lower_seq_means_a_new_server_log_and_replaces_the_board() -> None:
    model = BoardModel()
    model.apply(Snapshot(seq=50, board=board_state()))
    model.apply(call(51))
    assert model.apply(Snapshot(seq=2, board=board_state()))
    assert model.seq == 2 and model.latest_call is None and model.recent_calls == []
    assert model.apply(call(3)), "events after the new snapshot apply"


def test_a_closed_day_closes_the_idle_windows_and_clears_the_calls() -> None:
    model = BoardModel()
    model.apply(Snapshot(seq=1, board=board_state()))
    model.apply(call(2, "A001", 1))
    model.apply(call(3, "A002", 2))
    model.apply(ticket_event(4, "started", "A002", 2))
    model.apply(DayMessage(seq=5, at=AT, day=dt.date(2026, 3, 16), expired=3, queues=QUEUES))
    assert model.windows[1].state == "closed" and model.windows[1].current_number is None
    assert model.windows[2].state == "open" and model.windows[2].current_number == "A002"
    assert model.recent_calls == [] and model.latest_call is None


def test_back_off_grows_exponentially_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (5, 15.0), (60, 15.0)]:
        delays = [backoff_delay(attempt, 0.5, 15.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 4, "jitter spreads the boards out"


@pytest.mark.parametrize(
    ("server", "since", "url"),
    [
        ("http://10.0.0.5:8000", None, f"ws://10.0.0.5:8000/ws/halls/{HALL}/board"),
        ("https://hall.example/", 42, f"wss://hall.example/ws/halls/{HALL}/board?since=42"),
        ("ws://127.0.0.1:9/base", 0, f"ws://127.0.0.1:9/base/ws/halls/{HALL}/board?since=0"),
    ],
)
def test_board_url(server: str, since: int | None, url: str) -> None:
    assert board_url(server, HALL, since) == url


@pytest.mark.parametrize("server", ["10.0.0.5:8000", "ftp://x", "http://"])
def test_a_bad_server_url_is_refused_at_once(server: str) -> None:
    with pytest.raises(ValueError, match="not a server URL"):
        BoardFeed(server, HALL)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="ping_interval_s"):
        FeedSettings(ping_interval_s=5, offline_after_s=3)
    with pytest.raises(ValueError, match="backoff"):
        FeedSettings(backoff_initial_s=20, backoff_max_s=10)


def test_the_announcement_rule_new_events_only_once_and_not_too_old() -> None:
    """Fed message by message (no network): what reaches `calls()` and `on_call`."""
    said: list[str] = []
    now = [AT + dt.timedelta(seconds=5)]
    feed = BoardFeed("http://127.0.0.1:9", HALL, on_call=lambda c: said.append(c.ticket.number), clock=lambda: now[0])

    async def main() -> list[str]:
        stream = feed.calls()
        recent = [CallView(number="A000", window=1, at=AT)]
        feed._handle(Snapshot(seq=4, board=board_state(recent_calls=recent)).model_dump_json())  # history: silent
        feed._handle(call(5, "A001").model_dump_json())
        feed._handle(call(5, "A001").model_dump_json())  # the same event again (an overlapping resume)
        now[0] = AT + dt.timedelta(seconds=61)
        feed._handle(call(6, "A002").model_dump_json())  # 61 s old when it arrives: shown, not said
        feed._handle('{"type": "mystery", "seq": 7}')  # from a newer server: skipped, not fatal
        now[0] = AT
        feed._handle(call(8, "A003", recall=1).model_dump_json())  # a recall is said again
        feed._handle('{"type": "pong", "seq": 8}')
        numbers = [(await asyncio.wait_for(anext(stream), 1)).ticket.number for _ in range(2)]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(stream), 0.05)
        stream.close()
        return numbers

    assert asyncio.run(main()) == ["A001", "A003"]
    assert said == ["A001", "A003"]
    assert [c.number for c in feed.model.recent_calls] == ["A003", "A002", "A001", "A000"]
    assert feed.model.seq == 8
