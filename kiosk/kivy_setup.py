"""Settings Kivy reads once, at import: call `prepare_kivy()` before anything imports Kivy.

No Kivy import at module level here, so the CLI can call this first and say clearly when Kivy is missing.
"""

from __future__ import annotations

from kiosk.kivy_shell import KivyMissing, configure_window

__all__ = ["KivyMissing", "prepare_kivy"]


def prepare_kivy(width: int = 1080, height: int = 1920, fullscreen: bool = False) -> None:
    """Leave the command line to click, size the window, and take touch input without double taps."""
    config = configure_window("the kiosk", width, height, fullscreen)
    # Touch screens report through the platform's touch provider (probesysfs on Linux, wm_touch on
    # Windows, kept as Kivy sets them) *and* as an emulated mouse: the mouse provider stands aside
    # while another device is active, so one touch is one tap. No red multitouch dots on right-click.
    config.set("input", "mouse", "mouse,disable_multitouch,disable_on_activity")
    config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")  # citizens must not close the kiosk
