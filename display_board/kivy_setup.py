"""Settings Kivy reads once, at import: call `prepare_kivy()` before anything imports Kivy.

No Kivy import at module level here, so the CLI can call this first.
"""

from __future__ import annotations

import os


class KivyMissing(Exception):
    """Kivy is not installed (it is the optional `kiosk` extra)."""


def prepare_kivy(width: int = 1920, height: int = 1080, fullscreen: bool = False) -> None:
    """Tell Kivy to leave the command line alone, and set the window before it is created."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # click parses our arguments, not Kivy
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # keep Python's own logging usable
    try:
        from kivy.config import Config
    except ImportError as error:
        raise KivyMissing(
            "the board needs Kivy, which is not installed: install bianmin[kiosk] (pip install 'bianmin[kiosk]')"
        ) from error
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    # A board takes no touch input: drop the probesysfs/mtdev providers (they want libmtdev1 and
    # /dev/input access), keep the mouse for a developer's desktop.
    for option in Config.options("input"):
        Config.remove_option("input", option)
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "1")
