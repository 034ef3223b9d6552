"""Contrast of text on a colour (WCAG 2.x): tiles and buttons carry white text, which must reach 4.5:1."""

from __future__ import annotations

from collections.abc import Sequence

MIN_TEXT_CONTRAST = 4.5
"""WCAG AA for normal-size text; a tile's small lines (the prefix, the wait) are normal-size text."""

WHITE = (1.0, 1.0, 1.0)


def rgb(colour: str) -> tuple[float, float, float]:
    """ "#rrggbb" as three channels from 0 to 1."""
    value = colour.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def luminance(channels: Sequence[float]) -> float:
    """The relative luminance of an sRGB colour (channels 0–1)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in channels[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def ratio(foreground: Sequence[float], background: Sequence[float]) -> float:
    """The contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def white_text_ratio(colour: str) -> float:
    """The contrast of white text on the colour "#rrggbb"."""
    return ratio(WHITE, rgb(colour))
