"""The real Kivy board in an offscreen window, against a real server: a call made over HTTP appears.

Each board runs in a child process (tests/display_board/window_driver.py, by way of
tests/support/kivy_window.py), so Kivy never enters the pytest process. Without Kivy or a GL driver
these tests skip, except under CI=true, where they fail: CI must run them.

To refresh the screenshots in docs/screenshots, run them with BIANMIN_SCREENSHOT_DIR=docs/screenshots.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from PIL import Image

from printer.layout.wrap import NO_LINE_END, NO_LINE_START
from queue_server.services import accounts
from tests.support.kivy_window import Driver, keep_screenshots, require_kivy, window_env
from tests.support.server import HALL, RunningServer, start_server

STEP_TIMEOUT_S = 60.0  # Kivy's first start on a slow machine compiles shaders, loads the font...


@pytest.fixture(scope="module")
def kivy_installed() -> None:
    require_kivy()


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # accounts are made by the dozen here
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a real password"))
    running = start_server(tmp_path / "queue.db")  # the real clock: the board compares call times with its own
    yield running
    running.stop()


class Hall:
    """Just enough of the HTTP API to move a hall along: a kiosk and two clerks."""

    def __init__(self, server: RunningServer) -> None:
        self.http = httpx.Client(base_url=f"{server.url}/api/v1/halls/{HALL}", timeout=10, trust_env=False)
        self.kiosk = server.add_device()
        self.clerks = {name: server.add_staff(name, name=display) for name, display in
                       [("liuxia", "刘霞"), ("zhaogang", "赵刚"), ("wangfang", "王芳"), ("hujun", "胡军")]}  # fmt: skip
        self._keys = 0

    def issue(self, category: str, count: int = 1) -> None:
        for _ in range(count):
            self._keys += 1
            headers = {"Authorization": f"Bearer {self.kiosk}", "Idempotency-Key": f"window-test-{self._keys}"}
            response = self.http.post("/tickets", json={"category": category}, headers=headers)
            assert response.status_code == 201, response.text

    def act(self, clerk: str, window: int, action: str, body: dict[str, Any] | None = None) -> None:
        headers = {"Authorization": f"Bearer {self.clerks[clerk]}"}
        response = self.http.post(f"/windows/{window}/{action}", json=body, headers=headers)
        assert response.status_code == 200, f"{action}: {response.text}"

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def hall(server: RunningServer) -> Iterator[Hall]:
    moving = Hall(server)
    # A morning under way: windows 3 and 5 have called C001 and E001 (E001 is being served), window 1
    # has just called A001, window 2 is paused for lunch, people wait.
    moving.issue("jisheng", 4)
    moving.issue("guotu", 2)
    moving.issue("minzheng", 2)
    moving.issue("laobao", 4)
    moving.act("wangfang", 3, "open", {"post": "A"})
    moving.act("wangfang", 3, "call-next")
    moving.act("hujun", 5, "open", {"post": "A"})
    moving.act("hujun", 5, "call-next")
    moving.act("hujun", 5, "start")
    moving.act("liuxia", 1, "open", {"post": "A"})
    moving.act("liuxia", 1, "call-next")
    moving.act("zhaogang", 2, "open", {"post": "A"})
    moving.act("zhaogang", 2, "pause", {"reason": "午休"})
    yield moving
    moving.close()


@dataclass
class BoardRun:
    result: dict[str, Any]
    png: Path
    log: Path


def write_clip(path: Path) -> Path:
    """Half a second of a 440 Hz tone: a stand-in for an announcement clip."""
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16000)
        clip.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                                  for i in range(8000)))  # fmt: skip
    return path


def run_board(
    server: RunningServer, tmp_path: Path, *, expect: str, then: Any, window: int | None = None,
    audio_driver: str = "disk", play_wav: Path | None = None, expect_said: str | None = None,
) -> BoardRun:  # fmt: skip
    """Start the board in a child process; once it shows the first snapshot, run `then()`; collect its RESULT."""
    png = tmp_path / ("kivy-board-window.png" if window else "kivy-board-hall.png")
    log = tmp_path / f"board-{window or 'hall'}.log"
    env = window_env(
        tmp_path,
        KIVY_WINDOW="sdl2",  # no fallback to Kivy's x11 window, which exits the process without an X server
        SDL_AUDIODRIVER=audio_driver,
        SDL_DISKAUDIOFILE=str(tmp_path / "audio-out.raw"),
    )
    arguments = ["--server", server.url, "--expect", expect, "--png", str(png)]
    if window is not None:
        arguments += ["--window", str(window)]
    if play_wav is not None:
        arguments += ["--play-wav", str(play_wav)]
    if expect_said is not None:
        arguments += ["--expect-said", expect_said]
    driver = Driver("board", "tests.display_board.window_driver", arguments, env=env, log=log,
                    timeout_s=STEP_TIMEOUT_S)  # fmt: skip
    with driver:
        while not driver.next_line("READY").startswith("READY"):
            pass
        then()
        while not (line := driver.next_line("RESULT")).startswith("RESULT "):
            pass
        result = driver.result(line)
    driver.check(result)
    keep_screenshots([png])
    return BoardRun(result, png, log)


def serves_audio(server: RunningServer) -> bool:
    """Does this server speak calls (GET .../announcements/{number}/{window}.wav)?"""
    url = f"{server.url}/api/v1/halls/{HALL}/announcements/A001/1.wav"
    return httpx.get(url, timeout=10, trust_env=False).status_code == 200


def assert_screenshot(png: Path) -> None:
    with Image.open(png) as image:
        assert image.size == (1920, 1080)
        # Not a blank frame: the dark ground, amber numbers, white text at least.
        colours = image.convert("RGB").resize((192, 108)).getcolors(maxcolors=192 * 108)
        assert colours is not None and len(colours) > 20


def test_the_hall_board_shows_a_call_made_over_http(
    kivy_installed: None, server: RunningServer, hall: Hall, tmp_path: Path
) -> None:
    def call_the_next_number() -> None:
        hall.act("liuxia", 1, "start")
        hall.act("liuxia", 1, "finish", {"case_class": "immediate"})
        hall.act("liuxia", 1, "call-next")

    speaks = serves_audio(server)
    run = run_board(server, tmp_path, expect="A002", then=call_the_next_number,
                    play_wav=write_clip(tmp_path / "clip.wav"), expect_said="A002" if speaks else None)  # fmt: skip
    texts: list[str] = run.result["texts"]
    assert run.result["size"] == [1920, 1080]
    assert run.result["online"] is True
    assert run.result["cut_short"] == [], "these texts do not fit their boxes"
    assert run.result["chinese_renders"] is True, "hanzi render as the missing-glyph box: the CJK font is not used"
    # The latest call, large; the one before it among the recent calls; every window; the queues; the notice.
    assert texts[texts.index("当前叫号") + 1 : texts.index("当前叫号") + 4] == ["A002", "请到 1号窗口", "计生服务窗口"]
    recent = texts[texts.index("最近叫号") + 1 : texts.index("窗口")]
    assert recent == ["A001  → 1号窗口", "E001  → 5号窗口", "C001  → 3号窗口"]

    def after(first: str, count: int) -> list[str]:
        return texts[texts.index(first) : texts.index(first) + count]

    assert after("1号", 4) == ["1号", "计生服务窗口", "A002", "请到窗口"]
    assert after("2号", 4) == ["2号", "国土建设窗口", "—", "暂停：午休"]
    assert after("5号", 4) == ["5号", "劳保医保窗口", "E001", "办理中"]
    assert after("A  计生服务", 2) == ["A  计生服务", "等候 2 人"]
    assert after("E  劳保医保", 2) == ["E  劳保医保", "等候 3 人"]
    assert after("D  司法信访", 3) == ["D  司法信访", "等候 0 人", "暂无窗口办理"]
    # The notice, a line at a time (no frame-hungry scrolling), broken by the rules of printed Chinese.
    pages = run.result["notice_pages"]
    assert len(pages) > 1 and pages[0] in texts
    assert "监督电话：0731-8562 3119" in "".join(pages)
    assert all(page[:1] not in NO_LINE_START and page[-1:] not in NO_LINE_END for page in pages[1:])
    assert texts[0] == "青山镇便民服务中心" and "● 实时" in texts
    assert_screenshot(run.png)
    # Voice: through Kivy's SDL2 mixer into SDL's "disk" audio device. The live call is said (when the
    # server serves announcement audio); the calls that came in the first snapshot are not.
    assert run.result["said"] == ([["A002", 1]] if speaks else [])
    assert run.result["sound"] == "played"
    assert (tmp_path / "audio-out.raw").stat().st_size > 0


def test_the_window_board_shows_its_window_clerk_number_and_queue(
    kivy_installed: None, server: RunningServer, hall: Hall, tmp_path: Path
) -> None:
    def call_the_next_number() -> None:
        hall.act("liuxia", 1, "no-show")
        hall.act("liuxia", 1, "call-next")

    # No audio device at all: the board must still work, silently.
    run = run_board(server, tmp_path, expect="A002", then=call_the_next_number, window=1,
                    audio_driver="no-such-audio-driver", play_wav=write_clip(tmp_path / "clip.wav"))  # fmt: skip
    texts = run.result["texts"]
    assert texts[:2] == ["1号窗口", "计生服务窗口"]
    assert texts[texts.index("当前号码") + 1 : texts.index("当前号码") + 3] == ["A002", "请A002号到本窗口办理"]
    assert texts[texts.index("当班工作人员") + 1 : texts.index("当班工作人员") + 3] == ["刘霞", "A岗（主岗）"]
    assert "办理业务：计生服务 · 综合服务" in texts
    assert "本窗口等候 2 人" in texts  # A003, A004 of 计生服务; nobody waits for 综合服务
    assert run.result["chinese_renders"] is True
    assert run.result["cut_short"] == [], "these texts do not fit their boxes"
    assert run.result["sound"].startswith("unavailable: ")
    assert run.result["said"] == []
    assert_screenshot(run.png)
