"""The bridge: follows the hall's board websocket for the strips, turns caller keys into window actions.

- The strips: one `BoardFeed` (queue_server/feed.py) keeps a `BoardModel` of the hall; each strip shows
  its window's current number (or its idle text) and is sent again on every call of its window (a recall
  too) and after every reconnect.
- The callers: a key becomes the window action's HTTP request (`POST /api/v1/halls/{hall}/windows/{n}/...`)
  with the caller's own device token: the same route and service as the clerk console's button, which act
  as the clerk who opened the window, only while that clerk is signed in (queue_server/api/deps.py
  `window_actor`). There is no other way in.
- The links: each device's connected / disconnected state is reported to the server with the device's
  token (`POST .../devices/me/status`) when it changes and every `report_interval_s`: the manager's wall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from queue_server.board_model import BoardModel
from queue_server.devices.links import CallerLink, Link, Shown, StripLink
from queue_server.devices.settings import BridgeSettings, CallerSettings, StripSettings
from queue_server.feed import BoardFeed, FeedSettings
from queue_server.protocol import CallMessage, ServerMessage

log = logging.getLogger(__name__)


class Bridge:
    def __init__(self, settings: BridgeSettings, *, feed_settings: FeedSettings | None = None) -> None:
        self.settings = settings
        self.tokens = {d.id: d.token_file.read_text(encoding="utf-8").strip() for d in settings.devices}
        self.feed = BoardFeed(settings.server, settings.hall, settings=feed_settings, on_change=self._changed)
        self._calls: dict[int, int] = {}  # calls seen per window: a recall of the same number is shown again
        self.links: dict[str, Link] = {}
        for device in settings.devices:
            if isinstance(device, StripSettings):
                self.links[device.id] = StripLink(device, settings.timing, self._state, self._wanted(device))
            else:
                self.links[device.id] = CallerLink(device, settings.timing, self._state, self._actor(device))
        self._dirty: set[str] = set()
        self._report = asyncio.Event()
        self._stopping = asyncio.Event()
        self.http: httpx.AsyncClient | None = None

    def stop(self) -> None:
        self._stopping.set()
        self.feed.stop()

    async def run(self) -> None:
        timeout = self.settings.timing.http_timeout_s
        async with httpx.AsyncClient(base_url=self.settings.server, timeout=timeout, trust_env=False) as http:
            self.http = http
            tasks = [asyncio.create_task(self.feed.run(), name="board-feed"),
                     asyncio.create_task(self._reporter(), name="reporter")]  # fmt: skip
            tasks += [asyncio.create_task(link.run(self._stopping), name=key) for key, link in self.links.items()]
            try:
                await self._stopping.wait()
            finally:
                self.feed.stop()
                await asyncio.wait(tasks, timeout=5)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await self._send_reports(set(self.links))  # a stopped bridge says its devices are gone

    # -- strips -------------------------------------------------------------------------------------

    def _changed(self, model: BoardModel, message: ServerMessage) -> None:
        if isinstance(message, CallMessage):
            self._calls[message.window] = self._calls.get(message.window, 0) + 1
        for link in self.links.values():
            if isinstance(link, StripLink):
                link.wake()

    def _wanted(self, strip: StripSettings) -> Any:
        def wanted() -> Shown | None:
            model = self.feed.model
            if not model.ready:
                return None
            window = model.windows.get(strip.window)
            name = window.name_zh if window is not None else ""
            number = window.current_number if window is not None else None
            template = strip.text if number else strip.idle_text
            text = template.format(number=number or "", window=strip.window, window_name=name)
            return number, text, self._calls.get(strip.window, 0) if number else 0

        return wanted

    # -- callers ------------------------------------------------------------------------------------

    def _actor(self, caller: CallerSettings) -> Any:
        async def act(action: str) -> tuple[str, str | None]:
            return await self.window_action(caller, action)

        return act

    async def window_action(self, caller: CallerSettings, action: str) -> tuple[str, str | None]:
        """One key's action through the window route, as the clerk console does it; (result, number shown)."""
        assert self.http is not None
        body: dict[str, str] | None = None
        if action == "finish":
            body = {"case_class": "immediate"}
        elif action == "pause":
            body = {"reason": caller.pause_reason}
        path = f"/api/v1/halls/{self.settings.hall}/windows/{caller.window}/{action.replace('_', '-')}"
        try:
            answer = await self.http.post(
                path, json=body, headers={"Authorization": f"Bearer {self.tokens[caller.id]}"}
            )
        except httpx.HTTPError as error:
            log.warning("caller %s: %s not sent: %s", caller.id, action, error)
            return "ERROR", None
        if answer.status_code == 204:
            log.info("caller %s: %s: nobody waits", caller.id, action)
            return "NONE", None
        if answer.status_code == 200:
            window = answer.json().get("window") or {}
            number = window.get("current_number")
            log.info("caller %s: %s at window %d: %s", caller.id, action, caller.window, number or "-")
            return "OK", number
        message = _error_message(answer)
        if 400 <= answer.status_code < 500:
            log.warning("caller %s: %s refused (%d): %s", caller.id, action, answer.status_code, message)
            return "REFUSED", None
        log.warning("caller %s: %s failed (%d): %s", caller.id, action, answer.status_code, message)
        return "ERROR", None

    # -- reports ------------------------------------------------------------------------------------

    def _state(self, device: str, connected: bool, detail: str) -> None:
        self._dirty.add(device)
        self._report.set()

    async def _reporter(self) -> None:
        loop = asyncio.get_running_loop()
        next_all = loop.time()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_all - loop.time())):
                    await self._report.wait()
            self._report.clear()
            due = set(self._dirty)
            if loop.time() >= next_all:
                due, next_all = set(self.links), loop.time() + self.settings.timing.report_interval_s
            self._dirty -= due
            failed = await self._send_reports(due)
            self._dirty |= failed

    async def _send_reports(self, devices: set[str]) -> set[str]:
        failed = set()
        for device in sorted(devices):
            link = self.links[device]
            body = {"link": "connected" if link.connected and not self._stopping.is_set() else "disconnected",
                    "detail": ("" if link.connected else link.detail)[:200]}  # fmt: skip
            if self._stopping.is_set():
                body["detail"] = "the bridge stopped (bianmin devices)"
            try:
                assert self.http is not None
                answer = await self.http.post(
                    f"/api/v1/halls/{self.settings.hall}/devices/me/status",
                    json=body,
                    headers={"Authorization": f"Bearer {self.tokens[device]}"},
                )
            except httpx.HTTPError as error:
                log.info("device %s: link not reported: %s", device, error)
                failed.add(device)
                continue
            if answer.status_code != 204:
                log.error("device %s: the server refused its report (%d): %s", device, answer.status_code,
                          _error_message(answer))  # fmt: skip
        return failed


def _error_message(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return answer.text[:200]
