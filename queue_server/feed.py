"""A resilient client of the board websocket: keeps a `BoardModel` current and reports new calls to announce.

Used by the display board (and later the kiosk). No FastAPI, no Kivy: `websockets` and the typed
protocol only. Run `BoardFeed.run()` in an asyncio loop; everything it awaits has a timeout.

Connection: `/ws/halls/{hall}/board`, then `?since=<last seq>` on every reconnect, so the server
sends exactly the events missed during a drop (or a fresh snapshot when too far behind). Drops are
retried forever with capped exponential back-off and jitter (a hall's boards must not reconnect in
lock-step after a server restart). Every `ping_interval_s` the feed sends `{"type":"ping"}`; a
connection that stays silent for `offline_after_s` (no pong, no event) is dropped and reopened.

`online` is True while messages arrive, and turns False once nothing has been heard from the
server for `offline_after_s` seconds, whether or not a TCP connection is still open; a blip
shorter than that does not flicker the board.
`on_link` is told at once, without that grace: True when a connection's first message arrives,
False when a connection ends or cannot be opened. A kiosk uses it to know within milliseconds that
a killed server is gone (its socket closes) and that it is back, rather than seconds later.

Which calls are announced (said aloud), the rule:
- A call is announced only when it is *applied*: its seq is beyond the last seq applied, so a
  call is never announced twice, even if the server repeats it on a resume.
- Calls that arrive as events are announced: live ones, and ones missed during a blip and
  delivered when the feed resumes with `?since=` (the citizen may still be waiting for them).
- Calls that only appear inside a snapshot (the first connection, or a resume from too far behind)
  are shown in the list of recent calls but never announced: they are history.
- A call older than `announce_max_age_s` (60 s by default) when it arrives is shown but not
  announced. Its age is measured with the board's clock, corrected by the server's clock (the
  `Date` header of the websocket handshake) when the two differ by more than 2 s, so a board PC
  whose clock is wrong still speaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI, WebSocketException

from queue_server.board_model import BoardModel
from queue_server.protocol import CallMessage, Pong, ServerMessage, Snapshot, parse_server_message

log = logging.getLogger(__name__)

PING = '{"type":"ping"}'
CLOCK_TOLERANCE_S = 2.0  # the Date header has a resolution of one second, plus latency
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # a snapshot of a large hall is well under this
# Close codes after which retrying soon is pointless: the board's configuration is wrong.
PERMANENT_CLOSE_CODES = {4400: "bad request", 4404: "no such hall"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class FeedSettings:
    """Timings of the feed; the defaults suit a hall LAN."""

    ping_interval_s: float = 3.0
    offline_after_s: float = 8.0
    open_timeout_s: float = 5.0
    close_timeout_s: float = 2.0
    send_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 15.0
    announce_max_age_s: float = 60.0
    trust_server_date: bool = True  # correct the board's clock by the server's Date header

    def __post_init__(self) -> None:
        if not 0 < self.ping_interval_s < self.offline_after_s:
            raise ValueError("ping_interval_s must be positive and shorter than offline_after_s")
        if not 0 < self.backoff_initial_s <= self.backoff_max_s:
            raise ValueError("backoff_initial_s must be positive and at most backoff_max_s")


def backoff_delay(attempt: int, initial_s: float, cap_s: float, rng: random.Random) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0, 1, ...): exponential, capped, "equal jitter".

    Half of the delay is fixed (so a dead server is not hammered) and half random (so boards
    spread out after a restart).
    """
    ceiling = min(cap_s, initial_s * float(2 ** min(attempt, 32)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def board_url(server: str, hall: str, since: int | None) -> str:
    """The websocket URL of a hall's board stream, from the server's http(s):// or ws(s):// base URL."""
    parts = urlsplit(server)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not a server URL: {server!r} (expected http://host:port)")
    path = parts.path.rstrip("/") + f"/ws/halls/{quote(hall, safe='')}/board"
    return urlunsplit((scheme, parts.netloc, path, f"since={since}" if since is not None else "", ""))


class _Silent(Exception):
    """The server said nothing for too long: the connection is presumed dead."""


class _Behind(Exception):
    """The server's pong says it sent something we never applied: resume from our seq."""


class CallStream:
    """New calls to announce, as an async iterator; created by `BoardFeed.calls()`."""

    def __init__(self, feed: BoardFeed) -> None:
        self._feed = feed
        self._queue: asyncio.Queue[CallMessage] = asyncio.Queue()

    def put(self, call: CallMessage) -> None:
        self._queue.put_nowait(call)

    def __aiter__(self) -> CallStream:
        return self

    async def __anext__(self) -> CallMessage:
        return await self._queue.get()

    def close(self) -> None:
        self._feed.discard(self)


def _raise_if_cancelled() -> None:
    """Python 3.11's asyncio.wait_for returns the result and drops a cancellation that arrives in the same turn
    of the loop: the feed would read on for ever and a kiosk or board told to stop would hang. The request
    stays counted on the task (`cancelling()`), so raise it here. (asyncio.timeout lets it through, but
    closed the connection differently on cancellation; the feed keeps wait_for.)"""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class BoardFeed:
    """Keeps `model` in step with a hall's board websocket; tells listeners about changes and new calls.

    Callbacks run in the feed's event loop; an exception in one is logged and does not stop the feed.
    - `on_change(model, message)`: after every message that changed the model;
    - `on_call(call)`: a call to announce (see the module's rule);
    - `on_online(online)`: when `online` changes.
    """

    def __init__(
        self,
        server: str,
        hall: str,
        *,
        model: BoardModel | None = None,
        settings: FeedSettings | None = None,
        on_change: Callable[[BoardModel, ServerMessage], None] | None = None,
        on_call: Callable[[CallMessage], None] | None = None,
        on_online: Callable[[bool], None] | None = None,
        on_link: Callable[[bool], None] | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        board_url(server, hall, None)  # a bad URL is an error now, not a reconnect loop later
        self.server, self.hall = server, hall
        self.model = model if model is not None else BoardModel()
        self.settings = settings or FeedSettings()
        self.on_change, self.on_call, self.on_online = on_change, on_call, on_online
        self.on_link = on_link
        self._clock = clock
        self._rng = rng or random.Random()
        self.online = False
        self.connections = 0  # connections opened (the first, then each reconnect)
        self.last_error: str | None = None
        self.clock_skew_s = 0.0  # the board's clock minus the server's, when it matters
        self._last_heard = time.monotonic()
        self._streams: list[CallStream] = []
        self._skipped_seq = -1  # the highest seq of a message skipped as not understood
        self._stopping = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._closing: asyncio.Future[None] | None = None

    # -- public ------------------------------------------------------------------------------

    @property
    def seq(self) -> int | None:
        return self.model.seq

    def calls(self) -> CallStream:
        """An async iterator of the calls to announce from now on (registered at once)."""
        stream = CallStream(self)
        self._streams.append(stream)
        return stream

    def discard(self, stream: CallStream) -> None:
        with contextlib.suppress(ValueError):
            self._streams.remove(stream)

    def stop(self) -> None:
        """Ask `run()` to return soon (within close_timeout_s). Call it from the feed's loop."""
        self._stopping.set()
        if self._ws is not None:
            self._closing = asyncio.ensure_future(self._ws.close())

    async def run(self) -> None:
        """Connect, keep the model current, reconnect on any failure; return after `stop()`."""
        watchdog = asyncio.create_task(self._watch_silence())
        attempt = 0
        try:
            while not self._stopping.is_set():
                heard_before = self._last_heard
                try:
                    await self._session()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # every failure of a session means: reconnect
                    permanent = self._note_failure(error)
                else:
                    permanent = False
                if self._stopping.is_set():
                    break
                self._notify(self.on_link, False)
                attempt = 0 if self._last_heard != heard_before else attempt + 1
                delay = backoff_delay(attempt, self.settings.backoff_initial_s, self.settings.backoff_max_s, self._rng)
                if permanent:  # a wrong hall will not fix itself in a second
                    delay = self.settings.backoff_max_s
                log.debug("board feed: reconnecting in %.2f s (attempt %d)", delay, attempt + 1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                _raise_if_cancelled()
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            self._set_online(False)

    # -- one connection ----------------------------------------------------------------------

    async def _session(self) -> None:
        settings = self.settings
        url = board_url(self.server, self.hall, self.model.seq)
        log.debug("board feed: connecting to %s", url)
        async with connect(
            url,
            open_timeout=settings.open_timeout_s,
            close_timeout=settings.close_timeout_s,
            ping_interval=None,  # the application-level ping below also proves the server's loop is alive
            proxy=None,  # a hall LAN: never through a proxy from the environment
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
        ) as ws:
            self._ws = ws
            self.connections += 1
            self._note_server_date(ws.response.headers.get("Date") if ws.response else None)
            opened = time.monotonic()
            next_ping = opened + settings.ping_interval_s
            heard = opened
            linked = False
            try:
                while not self._stopping.is_set():
                    now = time.monotonic()
                    if now - heard >= settings.offline_after_s:
                        raise _Silent(f"nothing from the server for {now - heard:.1f} s")
                    if now >= next_ping:
                        await asyncio.wait_for(ws.send(PING), settings.send_timeout_s)
                        next_ping = now + settings.ping_interval_s
                    wait = max(0.0, min(next_ping, heard + settings.offline_after_s) - now)
                    try:
                        text = await asyncio.wait_for(ws.recv(), wait)
                    except TimeoutError:
                        continue
                    finally:
                        _raise_if_cancelled()
                    heard = self._last_heard = time.monotonic()
                    self.last_error = None
                    self._set_online(True)
                    if not linked:
                        linked = True
                        self._notify(self.on_link, True)
                    self._handle(text)
            finally:
                self._ws = None

    def _handle(self, text: str | bytes) -> None:
        try:
            message = parse_server_message(text)
        except ValidationError as error:
            # A newer server may send a message this client does not know: skip it, keep the rest.
            log.warning("board feed: skipped a message this client does not understand: %s", error)
            self._skipped_seq = max(self._skipped_seq, _loose_seq(text))
            return
        if isinstance(message, Pong):
            if self.model.seq is not None and message.seq > max(self.model.seq, self._skipped_seq):
                raise _Behind(f"the server is at seq {message.seq}, the board at {self.model.seq}")
            return
        call_to_announce = isinstance(message, CallMessage) and self.model.is_new(message)
        if not self.model.apply(message):
            log.debug("board feed: seq %d already applied", message.seq)
            return
        if isinstance(message, Snapshot):
            log.info("board feed: snapshot of %s at seq %d", message.board.hall, message.seq)
        self._notify(self.on_change, self.model, message)
        if call_to_announce:
            assert isinstance(message, CallMessage)
            self._announce(message)

    def _announce(self, call: CallMessage) -> None:
        age = self.call_age_s(call.at)
        if age > self.settings.announce_max_age_s:
            log.info("board feed: %s → window %d is %.0f s old: shown, not announced", call.ticket.number,
                     call.window, age)  # fmt: skip
            return
        self._notify(self.on_call, call)
        for stream in list(self._streams):
            stream.put(call)

    def call_age_s(self, at: dt.datetime) -> float:
        """How old a call is by the server's clock (the board's clock minus the skew)."""
        return (self._clock() - at).total_seconds() - self.clock_skew_s

    # -- bookkeeping -------------------------------------------------------------------------

    def _note_server_date(self, header: str | None) -> None:
        if not self.settings.trust_server_date or not header:
            return
        try:
            server_now = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        skew = (self._clock() - server_now).total_seconds()
        if abs(skew) <= CLOCK_TOLERANCE_S:
            self.clock_skew_s = 0.0
            return
        if abs(skew - self.clock_skew_s) > CLOCK_TOLERANCE_S:
            log.warning("board feed: this board's clock is %+.0f s off the server's; using the server's", skew)
        self.clock_skew_s = skew

    def _note_failure(self, error: BaseException) -> bool:
        """Log why a session ended and keep it in `last_error`; True when retrying soon is pointless."""
        if isinstance(error, ConnectionClosed) and error.rcvd is not None:
            code, reason = error.rcvd.code, error.rcvd.reason
            if code in PERMANENT_CLOSE_CODES:
                self.last_error = f"the server refused the board: {code} {reason or PERMANENT_CLOSE_CODES[code]}"
                log.error("board feed: %s", self.last_error)
                return True
            self.last_error = f"connection closed ({code} {reason})".replace(" )", ")")
        elif isinstance(error, InvalidURI):
            self.last_error = str(error)
            log.error("board feed: %s", self.last_error)
            return True
        elif isinstance(error, _Silent | _Behind | InvalidHandshake | WebSocketException | OSError | TimeoutError):
            self.last_error = f"{type(error).__name__}: {error}".rstrip(": ")
        else:  # a bug: still reconnect, a board must keep going
            self.last_error = f"{type(error).__name__}: {error}"
            log.error("board feed: unexpected error", exc_info=error)
            return False
        log.info("board feed: %s", self.last_error)
        return False

    async def _watch_silence(self) -> None:
        """Turn `online` off once nothing has been heard for offline_after_s, even with no connection."""
        while True:
            await asyncio.sleep(min(0.25, self.settings.offline_after_s / 4))
            if self.online and time.monotonic() - self._last_heard >= self.settings.offline_after_s:
                self._set_online(False)

    def _set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            log.info("board feed: %s", "online" if online else "offline")
            self._notify(self.on_online, online)

    @staticmethod
    def _notify(callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("board feed: a listener failed (the feed goes on)")


def _loose_seq(text: str | bytes) -> int:
    """The seq of a message this client cannot parse, if it has one (else -1)."""
    try:
        seq = json.loads(text).get("seq")
    except (ValueError, AttributeError):
        return -1
    return seq if isinstance(seq, int) else -1
