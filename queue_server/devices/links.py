"""One device's link: connect, talk its protocol, notice when it goes away, reconnect with back-off.

A link is up from the moment its port opens until a read says the device went away, a write fails or a
frame stays unacknowledged for `ack_timeout_s` (heartbeats make a silent RS485 device show up as gone).
It then waits (capped exponential back-off with jitter, as the board feed) and tries again, forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable

from queue_server.devices.protocol import PROTOCOLS, Ack, DeviceProtocol, Key
from queue_server.devices.settings import CallerSettings, StripSettings, Timing
from queue_server.devices.transports import Connection, DeviceGone, open_connection
from queue_server.feed import backoff_delay

log = logging.getLogger(__name__)

MAX_PENDING_KEYS = 4  # a keypad that floods: the keys beyond these wait for nobody and are dropped

Shown = tuple[str | None, str, int]  # (number, text, version): what a strip should show
OnState = Callable[[str, bool, str], None]  # (device id, connected, detail)


class Link:
    """The connection loop shared by strips and callers; `session` says what to do while connected."""

    def __init__(self, device: StripSettings | CallerSettings, timing: Timing, on_state: OnState,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        self.device, self.timing, self.on_state = device, timing, on_state
        self.connected = False
        self.detail = "not connected yet"
        self.connections = 0
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._acks: deque[Ack] = deque()
        self._gone: str | None = None
        self.protocol: DeviceProtocol | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        attempt = 0
        while not stopping.is_set():
            try:
                connection = await open_connection(self.device.transport, self.timing.connect_timeout_s)
            except DeviceGone as error:
                self._set(False, str(error))
            else:
                attempt = 0
                await self._connected(connection, stopping)
            if stopping.is_set():
                break
            delay = backoff_delay(attempt, self.timing.backoff_initial_s, self.timing.backoff_max_s, self._rng)
            attempt += 1
            log.debug("device %s: reconnecting in %.2f s", self.device.id, delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stopping.wait()

    async def _connected(self, connection: Connection, stopping: asyncio.Event) -> None:
        self.protocol = PROTOCOLS[self.device.protocol](encoding=self.device.encoding, device=self.device.id)
        self._gone, self._acks = None, deque()
        self.connections += 1
        self._set(True, "")
        reader = asyncio.create_task(self._read(connection))
        stopper = asyncio.create_task(stopping.wait())
        session = asyncio.create_task(self.session(connection))
        try:
            await asyncio.wait({session, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if session.done() and not session.cancelled():
                error = session.exception()
                self._set(False, str(error) if error else "closed")
        finally:
            for task in (reader, stopper, session):
                task.cancel()
            await asyncio.gather(reader, stopper, session, return_exceptions=True)
            await connection.close()
            if self.connected:
                self._set(False, "stopped")

    async def _read(self, connection: Connection) -> None:
        assert self.protocol is not None
        try:
            while True:
                data = await connection.read()
                if not data:
                    self._gone = "the device closed the connection"
                    break
                for message in self.protocol.feed(data):
                    if isinstance(message, Ack):
                        self._acks.append(message)
                    else:
                        self.key(message)
                self._wake.set()
        except (OSError, DeviceGone) as error:
            self._gone = f"read failed: {error}"
        self._wake.set()

    def key(self, key: Key) -> None:
        log.warning("device %s: a key %r from a device that has no keys: ignored", self.device.id, key.key)

    async def session(self, connection: Connection) -> None:
        raise NotImplementedError

    async def wait(self) -> bool:
        """Wait for something to do; True when the heartbeat is due. DeviceGone when the device went away."""
        try:
            async with asyncio.timeout(self.timing.heartbeat_s):
                await self._wake.wait()
            due = False
        except TimeoutError:
            due = True
        self._wake.clear()
        self._check()
        return due

    def _check(self) -> None:
        if self._gone is not None:
            raise DeviceGone(self._gone)

    async def send(self, connection: Connection, data: bytes | None) -> None:
        """Write a frame; with a protocol that acknowledges, wait for the answer (none in time: the link is down)."""
        if data is None:
            return
        assert self.protocol is not None
        self._acks.clear()
        try:
            await connection.write(data)
        except (OSError, TimeoutError) as error:
            raise DeviceGone(f"write failed: {error}") from error
        if not self.protocol.acknowledges:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timing.ack_timeout_s
        while not self._acks:
            self._check()
            left = deadline - loop.time()
            if left <= 0:
                raise DeviceGone(f"no acknowledgement within {self.timing.ack_timeout_s:g} s")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._wake.wait()
            self._wake.clear()
        ack = self._acks.popleft()
        if not ack.ok:
            log.warning("device %s refused a frame: %s", self.device.id, ack.reason or "no reason given")
        self._wake.set()  # whatever else woke us meanwhile is looked at by the session

    def _set(self, connected: bool, detail: str) -> None:
        changed = connected != self.connected or detail != self.detail
        self.connected, self.detail = connected, detail
        if changed:
            if connected:
                log.info("device %s: connected", self.device.id)
            else:
                log.warning("device %s: disconnected: %s", self.device.id, detail)
            self.on_state(self.device.id, connected, detail)


class StripLink(Link):
    """An LED strip: shows what `wanted()` says (sent again after every reconnect and on every change)."""

    def __init__(self, device: StripSettings, timing: Timing, on_state: OnState,
                 wanted: Callable[[], Shown | None], rng: random.Random | None = None) -> None:  # fmt: skip
        super().__init__(device, timing, on_state, rng)
        self.strip = device
        self.wanted = wanted

    async def session(self, connection: Connection) -> None:
        assert self.protocol is not None
        shown: Shown | None = None
        heartbeat = False
        while True:
            wanted = self.wanted()
            if wanted is not None and wanted != shown:
                number, text, _ = wanted
                await self.send(connection, self.protocol.show(self.strip.window, number, text))
                shown = wanted
            elif heartbeat:
                await self.send(connection, self.protocol.ping())
            heartbeat = await self.wait()


class CallerLink(Link):
    """A caller keypad: each key known to its map becomes a window action through `act`, answered to the keypad."""

    def __init__(self, device: CallerSettings, timing: Timing, on_state: OnState,
                 act: Callable[[str], Awaitable[tuple[str, str | None]]],
                 rng: random.Random | None = None) -> None:  # fmt: skip
        super().__init__(device, timing, on_state, rng)
        self.caller = device
        self.act = act
        self._keys: deque[str] = deque()

    def key(self, key: Key) -> None:
        action = self.caller.keys.get(key.key)
        if action is None:
            log.warning("device %s: key %r is not in its key map: ignored", self.device.id, key.key)
        elif len(self._keys) >= MAX_PENDING_KEYS:
            log.warning("device %s: key %r dropped: %d keys already wait", self.device.id, key.key, len(self._keys))
        else:
            self._keys.append(key.key)

    async def session(self, connection: Connection) -> None:
        assert self.protocol is not None
        self._keys.clear()
        heartbeat = False
        while True:
            if self._keys:
                key = self._keys.popleft()
                result, number = await self.act(self.caller.keys[key])
                await self.send(connection, self.protocol.answer(key, result, number))
                continue
            if heartbeat:
                await self.send(connection, self.protocol.ping())
            heartbeat = await self.wait()
