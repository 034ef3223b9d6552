"""Voice calling on the board: the audio of each new call is played in turn, never overlapping.

The queue is plain asyncio; sound comes from a `Player` (Kivy's SoundLoader on the board, a dummy
in tests). A board without an audio device, or a server without audio for a call, stays silent and
logs why: it never stops showing calls for lack of sound.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import httpx

from display_board.catalog import api_base
from queue_server.protocol import CallMessage

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 5.0
PLAY_TIMEOUT_S = 30.0  # a clip longer than this is cut short
GAP_S = 0.6  # silence between two announcements (and between repeats)
MAX_QUEUE = 30  # a backlog longer than this is not worth saying any more
MAX_REPEAT = 3
KEEP_CLIPS = 40  # clips kept on disk (a recall plays the same clip again)


class AudioUnavailable(Exception):
    """The board cannot play sound (no audio provider, no device)."""


class Player(Protocol):
    async def play(self, path: Path) -> None:
        """Play the clip and return when it has finished; raise AudioUnavailable if sound is impossible."""


Fetch = Callable[[str], Awaitable[Path]]


class Announcer:
    """Plays calls' audio one after another.

    `announce()` only queues (it never blocks the board); `run()` plays. A call that has become
    older than `is_stale` allows by the time its turn comes is dropped: a citizen called a minute
    ago has already been shown the number.
    """

    def __init__(
        self,
        fetch: Fetch,
        player: Player | None,
        is_stale: Callable[[CallMessage], bool] = lambda _call: False,
        gap_s: float = GAP_S,
    ) -> None:
        self._fetch, self._player, self._is_stale, self._gap_s = fetch, player, is_stale, gap_s
        self._queue: asyncio.Queue[CallMessage] = asyncio.Queue(MAX_QUEUE)
        self.played: list[tuple[str, int]] = []  # (number, window) of each announcement played, for the logs and tests
        self._silent_reason: str | None = None if player is not None else "sound is switched off"

    @property
    def silent_reason(self) -> str | None:
        """Why the board is not speaking (None while it can)."""
        return self._silent_reason

    def announce(self, call: CallMessage) -> None:
        try:
            self._queue.put_nowait(call)
        except asyncio.QueueFull:
            log.warning("voice: %d announcements waiting; %s is shown but not said", MAX_QUEUE, call.ticket.number)

    async def run(self) -> None:
        while True:
            call = await self._queue.get()
            try:
                await self._say(call)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("voice: announcing %s failed (the board goes on)", call.ticket.number)

    async def _say(self, call: CallMessage) -> None:
        what = f"{call.ticket.number} → window {call.window}"
        if self._player is None:
            log.info("voice: %s not said: %s", what, self._silent_reason)
            return
        if self._is_stale(call):
            log.info("voice: %s is too old by now: not said", what)
            return
        url = call.announcement.audio_url
        if not url:
            log.info("voice: the server sent no audio for %s", what)
            return
        try:
            async with asyncio.timeout(FETCH_TIMEOUT_S):
                path = await self._fetch(url)
        except (httpx.HTTPError, OSError, TimeoutError) as error:
            log.warning("voice: could not fetch the audio of %s: %s", what, error or type(error).__name__)
            return
        for _ in range(max(1, min(call.announcement.repeat, MAX_REPEAT))):
            try:
                async with asyncio.timeout(PLAY_TIMEOUT_S):
                    await self._player.play(path)
            except AudioUnavailable as error:
                self._silent_reason = str(error)
                log.warning("voice: no sound on this board (%s); calls are shown, not said", error)
                self._player = None
                return
            except TimeoutError:
                log.warning("voice: playing %s took over %.0f s: cut short", what, PLAY_TIMEOUT_S)
            await asyncio.sleep(self._gap_s)
        self.played.append((call.ticket.number, call.window))


class AudioCache:
    """Fetches announcement clips over HTTP into a temporary folder (SoundLoader needs a file)."""

    def __init__(self, client: httpx.AsyncClient, server: str, folder: Path | None = None) -> None:
        self._client, self._base = client, api_base(server)
        self._folder = folder or Path(tempfile.mkdtemp(prefix="bianmin-board-audio-"))

    async def fetch(self, url: str) -> Path:
        absolute = url if "://" in url else f"{self._base}/{url.lstrip('/')}"
        name = hashlib.sha256(absolute.encode()).hexdigest()[:24] + (Path(url.split("?")[0]).suffix or ".wav")
        path = self._folder / name
        if not path.exists():
            response = await self._client.get(absolute, timeout=FETCH_TIMEOUT_S)
            response.raise_for_status()
            partial = path.with_suffix(".part")
            partial.write_bytes(response.content)
            partial.replace(path)
            self._prune()
        return path

    def _prune(self) -> None:
        clips = sorted(self._folder.glob("*.*"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in clips[KEEP_CLIPS:]:
            with contextlib.suppress(OSError):
                old.unlink()

    def clear(self) -> None:
        for path in self._folder.glob("*"):
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            self._folder.rmdir()
