"""Fixtures for the web boards: a real server with short clips, a clock that ticks, and headless Chromium.

The browser is Debian's /usr/bin/chromium driven by Playwright from PyPI (Playwright's own browser
download is never used). Without either, the browser tests skip with the reason, except under
CI=true, where a missing browser is a failure: CI must run them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import os
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from argon2 import PasswordHasher

from config.schema import HallConfig
from queue_server.services import accounts
from queue_server.voice.clips import CLIPS
from queue_server.voice.pcm import CHANNELS, RATE, WIDTH
from tests.support.server import HALL, RunningServer, demo_config, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# As HARDWARE.md says; Playwright adds --headless itself and gives every launch a fresh temporary
# profile (it refuses a --user-data-dir here).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HTTP_TIMEOUT_S = 10.0
CLIP_S = 0.03  # each test clip: a 30 ms tone, so an announcement plays in well under a second
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


def require_browser() -> None:
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole module (a launch costs ~0.5 s; a context per test is cheap)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


class TickingClock:
    """The store's clock: a working Monday at 09:00 in Shanghai when the test starts, then real time.

    The demo hall issues tickets only in its sessions on working days, so tests cannot use the wall
    clock; and the boards judge how old a call is by the server's clock, so it must move. `advance`
    jumps ahead (to make calls old).
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._start = start or dt.datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
        self._t0 = time.monotonic()
        self._jump = dt.timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            elapsed = dt.timedelta(seconds=time.monotonic() - self._t0)
            return (self._start + elapsed + self._jump).astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._jump += dt.timedelta(**delta)


def write_tone(path: Path, seconds: float = CLIP_S, hz: float = 440.0) -> bytes:
    """A short sine tone as a clip-format WAV; returns its frames."""
    count = round(seconds * RATE)
    frames = b"".join(
        round(6000 * math.sin(2 * math.pi * hz * i / RATE)).to_bytes(2, "little", signed=True) for i in range(count)
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(WIDTH)
        wav.setframerate(RATE)
        wav.writeframes(frames)
    return frames


@pytest.fixture(scope="session")
def short_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hall's own clip folder in which every clip is a 30 ms tone: announcements play quickly."""
    folder = tmp_path_factory.mktemp("clips")
    for i, name in enumerate(CLIPS):
        write_tone(folder / f"{name}.wav", hz=300 + 10 * i)
    return folder


@pytest.fixture(scope="session")
def web_config(short_clips: Path) -> HallConfig:
    """The demo hall with the short clips, each call said once."""
    config = demo_config()
    hall = config.halls[0]
    voice = hall.voice.model_copy(update={"clips_dir": str(short_clips), "repeat": 1})
    return config.model_copy(update={"halls": [hall.model_copy(update={"voice": voice})]})


def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest cost: the default costs ~0.2 s a hash."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not a real password"))


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


class LiveHall:
    """A real server on one SQLite file, restartable on the same or another port, and its HTTP API."""

    def __init__(self, db: Path, config: HallConfig, clock: TickingClock) -> None:
        self.db, self.config, self.clock = db, config, clock
        self.port = 0  # the first start takes a free port (the server binds it at once) and keeps it
        self.server: RunningServer | None = None
        self.tokens: dict[str, str] = {}  # login tokens live in the database: they survive a restart
        self.kiosk: str | None = None
        self._keys = 0
        self.start()

    # -- the server ------------------------------------------------------------------------------

    def start(self, port: int | None = None) -> RunningServer:
        assert self.server is None, "stop the running server first (one writer per database)"
        self.server = start_server(self.db, self.clock, self.config, port=port or self.port or None)
        self.port = self.port or int(self.server.url.rsplit(":", 1)[1])
        self.http = httpx.Client(
            base_url=f"{self.server.url}/api/v1/halls/{HALL}", timeout=HTTP_TIMEOUT_S, trust_env=False
        )
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.http.close()
            self.server.stop()
            self.server = None

    @property
    def url(self) -> str:
        """The board's server: always the first port (a board page keeps its URL)."""
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, path: str) -> str:
        return f"{self.url}{path}"

    # -- the API ---------------------------------------------------------------------------------

    def _post(self, path: str, token: str | None, body: dict[str, Any] | None = None, **headers: str) -> Any:
        assert self.server is not None
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(path, json=body, headers={**auth, **headers})
        assert response.status_code in (200, 201), response.text
        return response.json()

    def clerk(self, username: str, name: str | None = None) -> str:
        assert self.server is not None
        if username not in self.tokens:
            self.tokens[username] = self.server.add_staff(username, name=name)
        return self.tokens[username]

    def open(self, window: int, username: str, post: str = "A", name: str | None = None) -> str:
        token = self.clerk(username, name)
        self._post(f"/windows/{window}/open", token, {"post": post})
        return token

    def issue(self, category: str | None, count: int = 1, item_id: str | None = None) -> list[str]:
        assert self.server is not None
        if self.kiosk is None:
            self.kiosk = self.server.add_device("kiosk-1")
        body = {"item_id": item_id} if item_id else {"category": category}
        numbers = []
        for _ in range(count):
            self._keys += 1
            answer = self._post("/tickets", self.kiosk, body, **{"Idempotency-Key": f"k{self._keys}"})
            numbers.append(answer["number"])
        return numbers

    def act(self, token: str, window: int, action: str, body: dict[str, Any] | None = None) -> Any:
        return self._post(f"/windows/{window}/{action}", token, body)

    def call_next(self, token: str, window: int) -> str:
        return str(self.act(token, window, "call-next")["ticket"]["number"])

    def serve(self, token: str, window: int) -> None:
        self.act(token, window, "start")
        self.act(token, window, "finish", {"case_class": "immediate"})


@pytest.fixture
def hall(tmp_path: Path, web_config: HallConfig, cheap_password_hashing: None) -> Iterator[LiveHall]:
    """A fresh hall for each test."""
    running = LiveHall(tmp_path / "queue.db", web_config, TickingClock())
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shared_hall(tmp_path_factory: pytest.TempPathFactory, web_config: HallConfig) -> Iterator[LiveHall]:
    """One hall for a module whose tests only read, or write what no other test looks at."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        cheap_hashing(monkeypatch)
        running = LiveHall(tmp_path_factory.mktemp("db") / "queue.db", web_config, TickingClock())
        yield running
        running.stop()
