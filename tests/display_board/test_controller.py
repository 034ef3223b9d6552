"""The board's behaviour without a window: against a real server, views rendered into a list."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from display_board.controller import BoardController, BoardOptions, View
from display_board.viewmodel import HallBoardView, WindowBoardView
from queue_server.feed import FeedSettings
from queue_server.services import accounts
from tests.support.server import HALL, RunningServer, start_server

FAST = FeedSettings(ping_interval_s=0.2, offline_after_s=1.0, backoff_initial_s=0.05, backoff_max_s=0.3)
NOW = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
WAIT_S = 10.0


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a real password"))
    running = start_server(tmp_path / "queue.db")
    yield running
    running.stop()


class Running:
    """A BoardController in its own thread and loop; the views it renders are kept."""

    def __init__(self, options: BoardOptions) -> None:
        self.views: list[View] = []
        self.controller = BoardController(options, self.views.append, player=None, now=lambda: NOW)
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task[None] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        async def main() -> None:
            self.task = asyncio.current_task()
            await self.controller.run()

        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(main())

    def wait(self, predicate: Callable[[View], bool], what: str) -> View:
        deadline = time.monotonic() + WAIT_S
        while not (self.views and predicate(self.views[-1])):
            if time.monotonic() > deadline:
                last = self.views[-1] if self.views else None
                raise AssertionError(f"timed out waiting for {what}; last view: {last}")
            time.sleep(0.02)
        return self.views[-1]

    def stop(self) -> None:
        if self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(timeout=WAIT_S)
        assert not self.thread.is_alive()
        self.loop.close()


@pytest.fixture
def boards() -> Iterator[Callable[[BoardOptions], Running]]:
    started: list[Running] = []

    def start(options: BoardOptions) -> Running:
        started.append(Running(options))
        return started[-1]

    yield start
    for board in started:
        board.stop()


def clerk_call(server: RunningServer) -> None:
    kiosk, clerk = server.add_device(), server.add_staff("liuxia", name="刘霞")
    with httpx.Client(base_url=f"{server.url}/api/v1/halls/{HALL}", timeout=10, trust_env=False) as http:
        for key in ("k1", "k2"):
            headers = {"Authorization": f"Bearer {kiosk}", "Idempotency-Key": key}
            assert http.post("/tickets", json={"category": "jisheng"}, headers=headers).status_code == 201
        staff = {"Authorization": f"Bearer {clerk}"}
        assert http.post("/windows/1/open", json={"post": "A"}, headers=staff).status_code == 200
        assert http.post("/windows/1/call-next", headers=staff).status_code == 200


def test_the_hall_board_finds_the_only_hall_and_shows_a_call(
    server: RunningServer, boards: Callable[[BoardOptions], Running]
) -> None:
    board = boards(BoardOptions(server=server.url, feed=FAST))
    view = board.wait(lambda v: isinstance(v, HallBoardView) and v.online and bool(v.queues[0].name != "A类业务"),
                      "the snapshot and the catalogue")  # fmt: skip
    assert isinstance(view, HallBoardView)
    assert view.title == "青山镇便民服务中心" and view.latest_number == ""
    assert board.controller.hall == HALL
    clerk_call(server)
    view = board.wait(lambda v: isinstance(v, HallBoardView) and v.latest_number == "A001", "the call")
    assert isinstance(view, HallBoardView)
    assert (view.latest_window, view.queues[0].waiting) == ("1号窗口", "1")
    assert view.date_text == "2026年3月16日 星期一"


def test_the_window_board_shows_its_window(server: RunningServer, boards: Callable[[BoardOptions], Running]) -> None:
    board = boards(BoardOptions(server=server.url, hall=HALL, window=1, feed=FAST))
    board.wait(lambda v: v.online, "the snapshot")
    clerk_call(server)
    view = board.wait(lambda v: isinstance(v, WindowBoardView) and v.current_number == "A001", "the call")
    assert isinstance(view, WindowBoardView)
    assert (view.clerk, view.current_status) == ("刘霞", "请A001号到本窗口办理")
    board.wait(lambda v: isinstance(v, WindowBoardView) and v.waiting == "1", "the catalogue: who waits here")


def test_a_wrong_hall_is_shown_on_the_board(server: RunningServer, boards: Callable[[BoardOptions], Running]) -> None:
    board = boards(BoardOptions(server=server.url, hall="nowhere", feed=FAST))
    view = board.wait(lambda v: v.status_text.startswith("配置错误"), "the problem on the board")
    assert view.status_text == "配置错误：the server has no hall 'nowhere'; its halls: qingshan"


def test_a_board_started_before_its_server_waits_for_it(
    tmp_path: Path, boards: Callable[[BoardOptions], Running]
) -> None:
    from tests.support.server import free_port

    port = free_port()
    board = boards(BoardOptions(server=f"http://127.0.0.1:{port}", feed=FAST))
    view = board.wait(lambda v: bool(v.status_text), "a first view")
    assert view.status_text == "正在连接服务器…"
    server = start_server(tmp_path / "queue.db", port=port)
    try:
        board.wait(lambda v: v.online, "the server to come up")  # the first retry comes within ~1.5 s
    finally:
        server.stop()
