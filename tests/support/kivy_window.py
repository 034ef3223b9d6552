"""Both ends of a Kivy window test: a driver in a child process, and the test that starts and reads it.

A driver runs the real Kivy app offscreen in its own process (so that Kivy's global state and log
handlers never enter pytest's) and prints lines: `NO-WINDOW <reason>` (exit NO_WINDOW: no GL
driver), its own progress lines, and `RESULT <json>` last. Without Kivy or a GL driver the tests
skip, except under CI=true, where they fail: CI must run them.
"""

from __future__ import annotations

import asyncio
import faulthandler
import importlib.util
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_WINDOW = 77  # the driver's exit code when Kivy finds no window provider
GL_PACKAGES = "libgl1 libegl1 libgl1-mesa-dri libegl-mesa0"

# -- the driver's end (in the child process) ------------------------------------------------------


def say(line: str) -> None:
    print(line, flush=True)


def chinese_renders() -> bool:
    """Does the default font draw 请 as itself, not as the box of a missing glyph?"""
    from kivy.core.text import Label as CoreLabel

    def pixels(text: str) -> bytes:
        label = CoreLabel(text=text, font_size=48)
        label.refresh()
        return bytes(label.texture.pixels)

    missing = pixels("\U000f0000")  # a private-use character no font here has
    return pixels("请") != missing and pixels("窗") != missing and pixels("请") != pixels("窗")


def run_driver(prepare_kivy: Callable[[], None], drive: Callable[[], Coroutine[Any, Any, dict[str, Any]]]) -> int:
    """Set Kivy up, open the window (or say there is none), drive the app and print its RESULT."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the parent asks for every stack when we are silent
    prepare_kivy()
    from kivy.core.window import Window

    if Window is None:
        say("NO-WINDOW Kivy found no window provider (is there a GL driver? see HARDWARE.md)")
        return NO_WINDOW
    result = asyncio.run(drive())
    say("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0 if "error" not in result else 1


# -- the test's end (in pytest) -------------------------------------------------------------------


def not_possible(reason: str) -> None:
    """Skip, or fail under CI=true: CI is where these tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the window tests must run in CI)")
    pytest.skip(reason)


def require_kivy() -> None:
    if importlib.util.find_spec("kivy") is None:  # looks for Kivy without importing it
        not_possible("Kivy is not installed: pip install -e '.[kiosk]'")


def window_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a driver: an offscreen SDL window, Kivy off our arguments and its own home."""
    return {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(tmp_path / "kivy-home"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


class Driver:
    """A driver module run in a child process: its stdout read line by line, its stderr in `log`."""

    def __init__(
        self, name: str, module: str, arguments: list[str], *, env: dict[str, str], log: Path, timeout_s: float,
        stdin: bool = False,
    ) -> None:  # fmt: skip
        self.name, self.log, self.timeout_s = name, log, timeout_s
        with log.open("w") as err:
            self.child = subprocess.Popen(
                [sys.executable, "-m", module, *arguments], cwd=ROOT, env=env,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
            )  # fmt: skip
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.started, self.last_line = time.monotonic(), "(nothing yet)"
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_line(self, what: str) -> str:
        """The driver's next line; skips the test if it found no window, fails it if it exits."""
        try:
            line = self._lines.get(timeout=self.timeout_s)
        except queue.Empty:
            raise AssertionError(self._silent(what)) from None
        if line is None:
            code = self.child.wait(timeout=10)
            if code == NO_WINDOW:
                not_possible(f"Kivy found no window provider: no GL driver? (Debian: {GL_PACKAGES})")
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the {self.name} exited with {code} before {what}:\n{tail}")
        self.last_line = f"{line[:200]} (at {time.monotonic() - self.started:.1f} s)"
        return line

    def _silent(self, what: str) -> str:
        """What to say of a driver silent too long: its last line, and every stack of it (from its log)."""
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGUSR1)  # faulthandler prints every thread's stack to the log
            time.sleep(1.0)
        tail = self.log.read_text(errors="replace")[-6000:]
        return (
            f"the {self.name} did not report {what} in {self.timeout_s:.0f} s; its last line: {self.last_line}; "
            f"its log ({self.log}) ends:\n{tail}"
        )

    def tell(self, line: str) -> None:
        assert self.child.stdin is not None
        self.child.stdin.write(line + "\n")
        self.child.stdin.flush()

    def result(self, line: str) -> dict[str, Any]:
        """The driver's RESULT line, once it has exited as that result says it should."""
        result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
        assert self.child.wait(timeout=self.timeout_s) == (1 if "error" in result else 0)
        return result

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait(timeout=10)
        self._reader.join(timeout=10)
        for stream in (self.child.stdout, self.child.stdin):
            if stream is not None:
                stream.close()

    def check(self, result: dict[str, Any]) -> None:
        assert "error" not in result, f"{result['error']}; see the {self.name}'s log:\n{self.log.read_text()[-3000:]}"


def keep_screenshots(pngs: Iterable[Path]) -> None:
    """Copy the screenshots to BIANMIN_SCREENSHOT_DIR, when it is set (docs/screenshots)."""
    keep = os.environ.get("BIANMIN_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in pngs:
            shutil.copy(png, Path(keep) / png.name)
