"""The board's behaviour without its window: find the hall, run the feed, speak new calls, render views.

No Kivy here: the app hands in a `render` callback and a sound player, so all of this runs (and is
tested) in a plain asyncio loop. Everything runs in one loop, so `render` is called on the loop's
thread — the Kivy main thread when the app runs under `App.async_run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx

from display_board.catalog import HallChoiceError, HallInfo, fetch_catalog, resolve_hall
from display_board.viewmodel import HallBoardView, WindowBoardView, hall_view, window_board_view
from display_board.voice import Announcer, AudioCache, Player
from queue_server.board_model import BoardModel
from queue_server.feed import BoardFeed, FeedSettings, backoff_delay
from queue_server.protocol import CallMessage

log = logging.getLogger(__name__)

View = HallBoardView | WindowBoardView
RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 30.0


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass(frozen=True)
class BoardOptions:
    server: str
    hall: str | None = None
    window: int | None = None  # a window-top board for this window; None: the hall board
    sound: bool = True
    feed: FeedSettings = field(default_factory=FeedSettings)


class BoardController:
    def __init__(
        self,
        options: BoardOptions,
        render: Callable[[View], None],
        player: Player | None,
        now: Callable[[], dt.datetime] = local_now,
    ) -> None:
        self.options = options
        self._render, self._now = render, now
        self._player = player if options.sound else None
        self.model = BoardModel()
        self.info = HallInfo()
        self.hall: str | None = options.hall
        self.feed: BoardFeed | None = None
        self.announcer: Announcer | None = None
        self.problem: str | None = None  # shown on the board when it cannot start (a wrong --hall, ...)
        self._rng = random.Random()

    @property
    def online(self) -> bool:
        return self.feed is not None and self.feed.online

    def view(self) -> View:
        now = self._now()
        if self.options.window is not None:
            view: View = window_board_view(self.model, self.info, self.options.window, now, self.online)
        else:
            view = hall_view(self.model, self.info, now, self.online)
        if self.problem and not self.model.ready:
            view = replace(view, status_text=self.problem)
        return view

    def refresh(self) -> None:
        try:
            self._render(self.view())
        except Exception:  # a drawing bug must not stop the feed
            log.exception("board: rendering failed")

    async def run(self) -> None:
        """Run until cancelled."""
        async with httpx.AsyncClient(trust_env=False) as client:
            self.refresh()
            hall = await self._resolve(client)
            audio = AudioCache(client, self.options.server)
            self.feed = BoardFeed(
                self.options.server,
                hall,
                model=self.model,
                settings=self.options.feed,
                on_change=lambda _model, _message: self.refresh(),
                on_call=self._on_call,
                on_online=lambda _online: self.refresh(),
            )
            feed = self.feed
            self.announcer = Announcer(
                audio.fetch,
                self._player,
                is_stale=lambda call: feed.call_age_s(call.at) > self.options.feed.announce_max_age_s,
            )
            tasks = [
                asyncio.create_task(self.feed.run(), name="board-feed"),
                asyncio.create_task(self.announcer.run(), name="board-voice"),
                asyncio.create_task(self._load_catalog(client, hall), name="board-catalog"),
                asyncio.create_task(self._tick(), name="board-clock"),
            ]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                audio.clear()

    def _on_call(self, call: CallMessage) -> None:
        if self.announcer is not None:
            self.announcer.announce(call)

    async def _resolve(self, client: httpx.AsyncClient) -> str:
        """The hall to show; retried until the server answers (boards often boot before the server)."""
        attempt = 0
        while True:
            try:
                hall = await resolve_hall(client, self.options.server, self.options.hall)
            except HallChoiceError as error:
                self.problem = f"配置错误：{error}"
                log.error("board: %s", error)
            except (httpx.HTTPError, ValueError) as error:
                self.problem = None
                log.info("board: the server does not answer yet (%s)", error or type(error).__name__)
            else:
                self.problem, self.hall = None, hall
                return hall
            self.refresh()
            await asyncio.sleep(backoff_delay(attempt, RETRY_INITIAL_S, RETRY_MAX_S, self._rng))
            attempt += 1

    async def _load_catalog(self, client: httpx.AsyncClient, hall: str) -> None:
        """Category names and the windows' categories; until they come the board shows letters."""
        attempt = 0
        while True:
            try:
                self.info = await fetch_catalog(client, self.options.server, hall)
            except (httpx.HTTPError, ValueError, KeyError) as error:
                log.info("board: the catalogue is not available yet (%s)", error or type(error).__name__)
                await asyncio.sleep(backoff_delay(attempt, RETRY_INITIAL_S, RETRY_MAX_S, self._rng))
                attempt += 1
            else:
                self.refresh()
                return

    async def _tick(self) -> None:
        """Redraw every second for the clock (the rest changes with the feed)."""
        while True:
            now = self._now()
            await asyncio.sleep(1.0 - now.microsecond / 1e6 + 0.01)
            self.refresh()
