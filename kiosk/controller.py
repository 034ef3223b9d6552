"""The kiosk without its window: start up, keep the live queue tiles, drive the printer, tick the clock.

No Kivy here. The app hands in `render` (draw a view) and `post` (run a callable on the UI thread,
from any thread: `Clock.schedule_once` in the shell); everything else runs in one asyncio loop,
the loop Kivy runs in under `App.async_run`, so the view-model is only ever touched on that thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kiosk.case_lookup import get_case
from kiosk.client import Issued, KioskClient, KioskError, KioskSetup, NotRegistered, RetryPolicy
from kiosk.idcard.reader import IdCard, IdReader
from kiosk.idcard.watch import CardWatcher, make_reader
from kiosk.printing import KioskPrinter
from kiosk.return_visit import post_return_visit
from kiosk.viewmodel import IDLE_TIMEOUT_S, KioskViewModel, utc_now
from kiosk.views import KioskView
from printer.spooler import RetryPolicy as PrintRetry
from printer.transports import DEFAULT_VIRTUAL_ROOT
from queue_server.feed import BoardFeed, FeedSettings, backoff_delay
from queue_server.protocol import IssueRequest, PublicCase

log = logging.getLogger(__name__)

START_RETRY_INITIAL_S = 1.0
START_RETRY_MAX_S = 30.0
KIOSK_FEED = FeedSettings(ping_interval_s=1.0, offline_after_s=3.0, backoff_initial_s=0.25, backoff_max_s=2.0)
"""The live feed of a kiosk: a hung server is noticed within 3 s (a killed one at once, its socket closes),
and a restarted one within ~2 s; a board's gentler defaults would leave a citizen tapping for seconds."""

Post = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class KioskOptions:
    server: str
    device: str
    token: str
    hall: str | None = None
    idle_timeout_s: float = IDLE_TIMEOUT_S
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    feed: FeedSettings = KIOSK_FEED
    print_retry: PrintRetry = field(default_factory=PrintRetry)
    printer_poll_s: float = 15.0
    report_interval_s: float = 30.0  # how often the printer's spooler is reported to the server (its /metrics)
    virtual_root: Path = DEFAULT_VIRTUAL_ROOT
    data_dir: Path | None = None
    """Where the kiosk keeps its print journal (None: the queue lives in memory only, for tests)."""


class KioskController:
    def __init__(
        self,
        options: KioskOptions,
        render: Callable[[KioskView], None],
        post: Post | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options
        self._post = post
        self.client = KioskClient(options.server, options.token, retry=options.retry, transport=http_transport)
        self.vm = KioskViewModel(
            self._issue,
            render=render,
            clock=clock,
            now=now,
            idle_timeout_s=options.idle_timeout_s,
            check_in=self._check_in,
        )
        self.vm.return_visit_call = self._return_visit  # 补办 (kiosk/return_visit.py)
        self.vm.case_lookup_call = self._look_up  # 办件查询 (kiosk/case_lookup.py)
        self.setup: KioskSetup | None = None
        self.id_reader: IdReader | None = None
        self.printer: KioskPrinter | None = None
        self.feed: BoardFeed | None = None
        self._rng = random.Random()

    def _attempts(self) -> int | None:
        """One try while the live feed says the server is gone: the citizen hears so at once, not after retries."""
        return None if self.vm.state.online else 1

    async def _issue(self, request: IssueRequest, key: str) -> Issued:
        assert self.setup is not None
        return await self.client.issue(self.setup.hall.id, request, key, attempts=self._attempts())

    async def _return_visit(self, code: str, key: str) -> Issued:
        assert self.setup is not None
        return await post_return_visit(self.client, self.setup.hall.id, code, key)

    async def _look_up(self, code: str) -> PublicCase:
        assert self.setup is not None
        return await get_case(self.client, self.setup.hall.id, code, attempts=self._attempts())

    async def _check_in(self, code: str) -> Issued:
        assert self.setup is not None
        return await self.client.check_in(self.setup.hall.id, code, attempts=self._attempts())

    async def run(self) -> None:
        """Run until cancelled."""
        loop = asyncio.get_running_loop()

        def post_soon(callback: Callable[[], None]) -> None:
            loop.call_soon_threadsafe(callback)

        post = self._post or post_soon
        tasks: list[asyncio.Task[None]] = []
        try:
            self.vm.tick()
            tasks.append(asyncio.create_task(self._tick(), name="kiosk-clock"))
            setup = self.setup = await self._start()
            if setup.printer is not None:
                self.printer = KioskPrinter(
                    setup.hall,
                    setup.printer,
                    post=post,
                    on_progress=self.vm.print_progress,
                    on_state=self.vm.set_printer_state,
                    virtual_root=self.options.virtual_root,
                    retry=self.options.print_retry,
                    poll_interval_s=self.options.printer_poll_s,
                    data_dir=self.options.data_dir,
                )
                self.vm.printer = self.printer
            self.vm.start(setup)
            self.feed = BoardFeed(
                self.options.server,
                setup.hall.id,
                settings=self.options.feed,
                on_change=lambda model, _message: self.vm.set_queues(model.queues.values()),
                on_online=self.vm.set_online,
                on_link=self.vm.set_online,  # a dropped connection is said at once, not after the feed's grace
            )
            tasks.append(asyncio.create_task(self.feed.run(), name="kiosk-feed"))
            if self.printer is not None:
                tasks.append(asyncio.create_task(self._report(), name="kiosk-report"))
            if setup.device.id_reader is not None:
                tasks.append(asyncio.create_task(self._watch_cards(setup), name="kiosk-id-reader"))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.printer is not None:
                await asyncio.to_thread(self.printer.close)
            await self.client.aclose()

    async def _watch_cards(self, setup: KioskSetup) -> None:
        """The ID card reader (kiosk/idcard/): the hall's key first (retried), then each card to the view-model."""
        assert setup.device.id_reader is not None
        while self.vm.id_card_key is None:
            try:
                self.vm.id_card_key = await self.client.id_card_key(setup.hall.id)
            except KioskError as error:
                log.warning("kiosk: no ID card key yet (%s): retrying", error)
                await asyncio.sleep(5.0)
        cards: set[asyncio.Task[None]] = set()

        def on_card(card: IdCard) -> None:
            task = asyncio.ensure_future(self.vm.card_read(card))
            cards.add(task)
            task.add_done_callback(cards.discard)

        self.id_reader = make_reader(setup.device.id_reader)  # kept: a demo or a test puts a card on a simulated one
        await CardWatcher(self.id_reader, on_card, self.vm.set_reader).run()

    async def _report(self) -> None:
        """Report the spooler to the server now and then; a failed report is only logged (the next one follows)."""
        assert self.setup is not None and self.printer is not None
        while True:
            snapshot = self.printer.snapshot()
            try:
                await self.client.report_status(
                    self.setup.hall.id, snapshot.state.value, snapshot.queued, snapshot.failed
                )
            except (KioskError, httpx.HTTPError) as error:
                log.debug("kiosk: the spooler report did not reach the server: %r", error)
            await asyncio.sleep(self.options.report_interval_s)

    async def _start(self) -> KioskSetup:
        """The hall's settings and catalogue; retried until the server answers (a kiosk may boot first)."""
        attempt = 0
        while True:
            try:
                return await self.client.setup(self.options.device, self.options.hall)
            except NotRegistered as error:
                log.error("kiosk: the server refuses this kiosk: %s", error)
                self.vm.starting_failed(refused=True)
            except (KioskError, ValueError) as error:
                log.info("kiosk: the server does not answer yet (%s)", error)
                self.vm.starting_failed()
            await asyncio.sleep(backoff_delay(attempt, START_RETRY_INITIAL_S, START_RETRY_MAX_S, self._rng))
            attempt += 1

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0 - (time.time() % 1.0) + 0.01)
            self.vm.tick()
