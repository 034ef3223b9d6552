"""Helpers of the bridge tests: a hall with a strip and a caller at window 1, the bridge in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config.schema import CallerDevice, HallConfig, LedStripDevice
from queue_server.devices.bridge import Bridge
from queue_server.devices.settings import BridgeSettings
from queue_server.feed import FeedSettings
from tests.support.server import HALL, RunningServer, demo_config

FAST_FEED = FeedSettings(ping_interval_s=0.5, offline_after_s=3.0, backoff_initial_s=0.05, backoff_max_s=0.5)
TIMING = {"heartbeat_s": 0.3, "ack_timeout_s": 1.0, "connect_timeout_s": 1.0, "backoff_initial_s": 0.05,
          "backoff_max_s": 0.3, "report_interval_s": 1.0}  # fmt: skip


def hall_with_devices(config: HallConfig | None = None) -> HallConfig:
    """The demo hall with LED strip strip-1 and caller caller-1 at window 1."""
    config = config or demo_config()
    hall = config.hall(HALL)
    devices = [
        *hall.devices,
        LedStripDevice(kind="led_strip", id="strip-1", name="1号窗口条屏", window=1),
        CallerDevice(kind="caller", id="caller-1", name="1号窗口呼叫器", window=1),
    ]
    halls = [hall.model_copy(update={"devices": devices}) if h.id == HALL else h for h in config.halls]
    return config.model_copy(update={"halls": halls})


def settings(server: RunningServer, folder: Path, strip: dict[str, Any], caller: dict[str, Any]) -> BridgeSettings:
    """The bridge's settings for the two devices, with their tokens registered and written to files."""
    devices = []
    for device, kind, transport in (("strip-1", "led_strip", strip), ("caller-1", "caller", caller)):
        token_file = folder / f"{device}.token"
        token_file.write_text(server.add_device(device) + "\n", encoding="utf-8")
        devices.append({"id": device, "kind": kind, "window": 1, "token_file": token_file, "transport": transport})
    return BridgeSettings.model_validate({"server": server.url, "hall": HALL, "timing": TIMING, "devices": devices})


@contextmanager
def running(bridge_settings: BridgeSettings) -> Iterator[Bridge]:
    """The bridge on an event loop of its own thread, stopped (and its devices reported gone) at the end."""
    loop = asyncio.new_event_loop()
    made: list[Bridge] = []
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        bridge = Bridge(bridge_settings, feed_settings=FAST_FEED)
        made.append(bridge)
        ready.set()
        loop.run_until_complete(bridge.run())

    thread = threading.Thread(target=main, daemon=True, name="bridge")
    thread.start()
    assert ready.wait(10)
    try:
        yield made[0]
    finally:
        loop.call_soon_threadsafe(made[0].stop)
        thread.join(15)
        loop.close()


def eventually(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "") -> Any:
    """check()'s first truthy answer; AssertionError with the last answer after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what} (last: {answer!r})")
        time.sleep(0.02)
