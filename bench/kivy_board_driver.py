"""The child of bench/kivy_board_frame.py: the real Kivy hall board, offscreen; says when each call is on screen.

    python bench/kivy_board_driver.py --server URL

Prints `READY` once the first snapshot and the catalogue are on the board, then `SHOWN <number> <ns>` at
the end of the first frame drawn after the number was set on the board's big label (CLOCK_MONOTONIC ns,
comparable with the parent's), and `FRAME <ms>` for each frame's cost. Runs until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def say(line: str) -> None:
    print(line, flush=True)


async def drive(server: str) -> None:
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    from display_board.app import BoardApp
    from display_board.controller import BoardController, BoardOptions

    app = BoardApp(window_board=False)
    controller = BoardController(BoardOptions(server=server, sound=False), app.show, None)
    pending: list[str] = []
    last_flip = [time.perf_counter()]

    def flipped(*_args: Any) -> None:
        glFinish()  # offscreen Mesa queues frames: finish each as a display's swap would (tests/kiosk/window_driver.py)
        now = time.perf_counter()
        say(f"FRAME {(now - last_flip[0]) * 1000:.1f}")
        last_flip[0] = now
        for number in pending:
            say(f"SHOWN {number} {time.monotonic_ns()}")
        pending.clear()

    def number_set(_board: Any, number: str) -> None:
        if number:
            pending.append(number)

    Window.bind(on_flip=flipped)

    async def script() -> None:
        while not (controller.model.ready and controller.info.known and app.board is not None):
            await asyncio.sleep(0.05)
        app.board.bind(latest_number=number_set)
        say("READY")
        await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
        app.stop()

    feed = asyncio.create_task(controller.run())
    task = asyncio.create_task(script())
    await app.async_run(async_lib="asyncio")
    task.cancel()
    feed.cancel()
    for waiting in (task, feed):
        with contextlib.suppress(asyncio.CancelledError):
            await waiting


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    from display_board.kivy_setup import prepare_kivy

    prepare_kivy(width, height)
    asyncio.run(drive(args.server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
