"""Sending the notices committed by the writer: off the writer, each on its own task, retried with back-off.

The writer hands notices over after the commit that claimed them (one process, once: see
services/reminders.py) and never waits: a slow or dead gateway delays nobody's call. A notice that still
fails after the hall's `notify.attempts` tries is given up and logged, by its id (never the phone).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from config.schema import Notify
from queue_server.notify.message import Notice, Notifier
from queue_server.notify.webhook import WebhookNotifier

log = logging.getLogger(__name__)

MAX_PENDING = 5_000  # notices on their way at once; more are dropped (a gateway down for long in a county hall)
Settings = Callable[[str], Notify | None]  # the hall's [halls.notify] now (the configuration may be reloaded)
Factory = Callable[[Notify], Notifier]


class Sender:
    """Delivers notices on the event loop; `submit` may be called from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, settings: Settings, factory: Factory = WebhookNotifier) -> None:
        self._loop, self._settings, self._factory = loop, settings, factory
        self._notifiers: dict[str, tuple[Notify, Notifier]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.given_up = 0

    def submit(self, notices: list[Notice]) -> None:
        """Hand notices over (the writer thread, after commit): returns at once."""
        self._loop.call_soon_threadsafe(self._start, notices)

    def _start(self, notices: list[Notice]) -> None:
        for notice in notices:
            if len(self._tasks) >= MAX_PENDING:
                log.warning("phone notice %s dropped: %d already on their way", notice.id, len(self._tasks))
                continue
            task = self._loop.create_task(self._deliver(notice))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _notifier(self, hall: str) -> tuple[Notify, Notifier] | None:
        settings = self._settings(hall)
        if settings is None:
            return None
        known = self._notifiers.get(hall)
        if known is None or known[0] != settings:  # new, or the configuration was reloaded
            if known is not None:
                self._tasks_close(known[1])
            known = self._notifiers[hall] = (settings, self._factory(settings))
        return known

    def _tasks_close(self, notifier: Notifier) -> None:
        task = self._loop.create_task(notifier.aclose())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, notice: Notice) -> None:
        wait = None
        attempts = 1
        tried = 0
        while tried < attempts:
            tried += 1
            try:
                found = self._notifier(notice.hall)
                if found is None:
                    log.info("phone notice %s not sent: hall %s has no [halls.notify] now", notice.id, notice.hall)
                    return
                settings, notifier = found
                attempts = settings.attempts
                wait = settings.retry_min_s if wait is None else min(wait * 2, settings.retry_max_s)
                await notifier.send(notice)
            except Exception as error:  # the message only: it never holds the phone
                log.warning("phone notice %s, try %d of %d: %s", notice.id, tried, attempts, error)
                if tried < attempts and wait is not None:
                    await asyncio.sleep(wait)
                continue
            self.delivered += 1
            return
        self.given_up += 1
        log.error("phone notice %s given up after %d tries", notice.id, tried)

    async def close(self) -> None:
        """Stop sending (at shutdown): notices still on their way are dropped."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for _, notifier in self._notifiers.values():
            await notifier.aclose()
        self._notifiers.clear()
