"""Settings Kivy reads once, at import: call `prepare_kivy()` before anything imports Kivy.

No Kivy import at module level here, so the CLI can call this first.
"""

from __future__ import annotations

from kiosk.kivy_shell import KivyMissing, configure_window

__all__ = ["KivyMissing", "prepare_kivy"]


def prepare_kivy(width: int = 1920, height: int = 1080, fullscreen: bool = False) -> None:
    """Tell Kivy to leave the command line alone, and set the window before it is created."""
    config = configure_window("the board", width, height, fullscreen)
    # A board takes no touch input: drop the probesysfs/mtdev providers (they want libmtdev1 and
    # /dev/input access), keep the mouse for a developer's desktop.
    for option in config.options("input"):
        config.remove_option("input", option)
    config.set("input", "mouse", "mouse,disable_multitouch")
    config.set("kivy", "exit_on_escape", "1")
