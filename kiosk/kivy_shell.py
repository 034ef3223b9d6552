"""What the two Kivy shells (kiosk and display board) share: start-up settings, the CJK font, rows.

It lives in `kiosk` because Kivy is the `kiosk` extra; the board imports it. No Kivy import at module
level, so a CLI can import it before `prepare_kivy` and say clearly when Kivy is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from typing import Any

from config.fonts import cjk_font_path


class KivyMissing(Exception):
    """Kivy is not installed (it is the optional `kiosk` extra)."""


def configure_window(who: str, width: int, height: int, fullscreen: bool) -> Any:
    """Leave the command line to click, size the window; return Kivy's Config for the rest.

    `who` ("the kiosk", "the board") names the program in the error raised when Kivy is missing.
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # click parses our arguments, not Kivy
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # keep Python's own logging usable
    try:
        from kivy.config import Config
    except ImportError as error:
        raise KivyMissing(
            f"{who} needs Kivy, which is not installed: install bianmin[kiosk] (pip install 'bianmin[kiosk]')"
        ) from error
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    return Config


def register_cjk_font() -> None:
    """Make the bundled Simplified Chinese font (face 0 of WenQuanYi Micro Hei) Kivy's default."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(DEFAULT_FONT, str(cjk_font_path()))


def hex_colour(text: str) -> list[float]:
    """A Kivy RGBA colour from "#rrggbb"; a neutral grey when the text is not one."""
    value = text.lstrip("#")
    try:
        return [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0]
    except ValueError:
        return [0.33, 0.43, 0.48, 1.0]


def fill(container: Any, rows: tuple[Any, ...], kind: type, set_row: Callable[[Any, Any], None]) -> None:
    """Make `container` hold one `kind` widget per row (reusing those it has) and set each."""
    children = list(reversed(container.children))
    while len(children) < len(rows):
        widget = kind()
        container.add_widget(widget)
        children.append(widget)
    for widget in children[len(rows) :]:
        container.remove_widget(widget)
    for widget, row in zip(children, rows, strict=False):
        set_row(widget, row)


async def run_beside(app: Any, work: Coroutine[Any, Any, None], name: str) -> None:
    """Run a Kivy app and `work` (its controller) in one asyncio loop until the window closes."""
    task = asyncio.create_task(work, name=name)
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
