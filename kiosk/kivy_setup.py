"""Settings Kivy reads once, at import: call `prepare_kivy()` before anything imports Kivy.

No Kivy import at module level here, so the CLI can call this first and say clearly when Kivy is missing.
"""

from __future__ import annotations

import os


class KivyMissing(Exception):
    """Kivy is not installed (it is the optional `kiosk` extra)."""


MISSING = "the kiosk needs Kivy, which is not installed: install bianmin[kiosk] (pip install 'bianmin[kiosk]')"


def prepare_kivy(width: int = 1080, height: int = 1920, fullscreen: bool = False) -> None:
    """Leave the command line to click, size the window, and take touch input without double taps."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # click parses our arguments, not Kivy
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # keep Python's own logging usable
    try:
        from kivy.config import Config
    except ImportError as error:
        raise KivyMissing(MISSING) from error
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    # Touch screens report through the platform's touch provider (probesysfs on Linux, wm_touch on
    # Windows, kept as Kivy sets them) *and* as an emulated mouse: the mouse provider stands aside
    # while another device is active, so one touch is one tap. No red multitouch dots on right-click.
    Config.set("input", "mouse", "mouse,disable_multitouch,disable_on_activity")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")  # citizens must not close the kiosk
