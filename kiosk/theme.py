"""The kiosk's colours, in one place (no Kivy here: kiosk.kv and the contrast test import it)."""

from __future__ import annotations

# A light, high-contrast theme (RGBA): dark text on white, strong colours for what can be touched.
# Buttons carry white text (bar_text): each tone reaches 4.5:1 with it (tests/kiosk/test_contrast.py);
# the category tiles take the hall's colours, which the configuration checks the same way.
PALETTE: dict[str, tuple[float, float, float, float]] = {
    "background": (0.94, 0.95, 0.97, 1),
    "bar": (0.70, 0.09, 0.09, 1),  # 政务红 top bar
    "bar_text": (1, 1, 1, 1),
    "panel": (1, 1, 1, 1),
    "text": (0.1, 0.1, 0.12, 1),
    "dim": (0.35, 0.37, 0.42, 1),
    "primary": (0.78, 0.12, 0.12, 1),
    "primary_down": (0.55, 0.06, 0.06, 1),
    "secondary": (0.13, 0.38, 0.68, 1),
    "secondary_down": (0.07, 0.25, 0.5, 1),
    "green": (0.12, 0.44, 0.2, 1),  # 绿色通道: white text at 6:1 (WCAG AA asks 4.5:1)
    "green_down": (0.06, 0.3, 0.12, 1),
    "teal": (0.0, 0.47, 0.47, 1),
    "teal_down": (0.0, 0.32, 0.32, 1),
    "key": (0.18, 0.22, 0.3, 1),  # the keys of the 预约签到 keypad
    "key_down": (0.08, 0.1, 0.16, 1),
    "grey": (0.38, 0.4, 0.43, 1),
    "grey_down": (0.25, 0.27, 0.3, 1),
    "number": (0.75, 0.08, 0.08, 1),
    "ok": (0.1, 0.45, 0.2, 1),
    "warn": (0.78, 0.25, 0.0, 1),
    "banner": (1.0, 0.87, 0.55, 1),
    "border": (0.78, 0.8, 0.85, 1),
    "overlay": (0, 0, 0, 0.55),
}
