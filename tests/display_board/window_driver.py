"""Runs the real Kivy board in this (child) process for test_board_window.py, and reports on stdout.

    python -m tests.display_board.window_driver --server URL [--window N] --expect A001 --png out.png
        [--play-wav clip.wav]

The parent sets SDL_VIDEODRIVER, KIVY_NO_ARGS and KIVY_HOME before starting us. Lines we print:
`NO-WINDOW <reason>` (exit 77: no GL driver), `READY` (the first snapshot is on the board: the
parent may now call a number), `RESULT <json>` (what the board showed, after the screenshot).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.kivy_window import chinese_renders, run_driver, say

TIMEOUT_S = 30.0


def labels(widget: Any) -> list[Any]:
    """Every label with text in the widget tree, in drawing order."""
    from kivy.uix.label import Label

    found = [widget] if isinstance(widget, Label) and widget.text else []
    for child in reversed(widget.children):
        found.extend(labels(child))
    return found


def plain(label: Any) -> str:
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", label.text) if label.markup else str(label.text)


def cut_short(label: Any) -> bool:
    """Is the label's text wider than its box (so Kivy shortened it with "…", or it overflows)?"""
    if label.text_size[0] is None or label.markup:
        return bool(label.texture_size[0] > label.width + 1)
    return bool(label._label.get_extents(label.text)[0] > label.text_size[0] + 1)


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    from display_board.app import BoardApp
    from display_board.controller import BoardController, BoardOptions
    from display_board.sound import KivySoundPlayer
    from display_board.voice import AudioUnavailable
    from queue_server.feed import FeedSettings

    app = BoardApp(window_board=args.window is not None)
    options = BoardOptions(
        server=args.server, window=args.window, feed=FeedSettings(ping_interval_s=1, offline_after_s=4)
    )
    controller = BoardController(options, app.show, KivySoundPlayer())
    result: dict[str, Any] = {}

    def shown() -> str | None:
        model = controller.model
        if args.window is not None:
            window = model.windows.get(args.window)
            return window.current_number if window else None
        return model.latest_call.number if model.latest_call else None

    async def script() -> None:
        try:
            deadline = time.monotonic() + TIMEOUT_S
            while not (controller.model.ready and controller.info.known and app.board is not None):
                if time.monotonic() > deadline:
                    raise TimeoutError("no snapshot and catalogue on the board")
                await asyncio.sleep(0.05)
            say("READY")
            while shown() != args.expect:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the board never showed {args.expect}; it shows {shown()}")
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a few frames: the labels have laid out their new text
            assert app.root is not None
            app.root.export_to_png(args.png)
            shown_labels = labels(app.root)
            result.update(texts=[plain(label) for label in shown_labels], online=controller.online,
                          size=list(app.root.size))  # fmt: skip
            result["cut_short"] = [plain(label) for label in shown_labels if cut_short(label)]
            tickers = [w for w in app.root.walk() if type(w).__name__ == "NoticeTicker"]
            result["notice_pages"] = [page for ticker in tickers for page in ticker.pages]
            result["chinese_renders"] = chinese_renders()
            if args.expect_said:  # the live call's audio, fetched from the server and played
                said = (args.expect_said, args.window or 1)
                said_by = time.monotonic() + 20
                while controller.announcer is None or said not in controller.announcer.played:
                    if time.monotonic() > said_by:
                        break
                    await asyncio.sleep(0.05)
            result["said"] = controller.announcer.played if controller.announcer else []
            if args.play_wav:
                try:
                    await asyncio.wait_for(KivySoundPlayer().play(Path(args.play_wav)), 10)
                    result["sound"] = "played"
                except AudioUnavailable as error:
                    result["sound"] = f"unavailable: {error}"
        except Exception as error:  # reported to the parent, which fails the test with it
            result["error"] = f"{type(error).__name__}: {error}"
        finally:
            app.stop()

    feed_task = asyncio.create_task(controller.run())
    script_task = asyncio.create_task(script())
    await app.async_run(async_lib="asyncio")
    await script_task
    feed_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await feed_task
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--window", type=int, default=None)
    parser.add_argument("--expect", required=True)
    parser.add_argument("--png", required=True)
    parser.add_argument("--play-wav", default=None)
    parser.add_argument("--expect-said", default=None)
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from display_board.kivy_setup import prepare_kivy

    return run_driver(lambda: prepare_kivy(1920, 1080), lambda: drive(args))


if __name__ == "__main__":
    sys.exit(main())
