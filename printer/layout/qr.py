"""QR codes as 1-bit images (every printer can print these), sized in whole dots per module."""

from __future__ import annotations

from functools import lru_cache

import qrcode
import qrcode.constants
from PIL import Image

QUIET_ZONE = 4
"""Modules of white around the code, as the QR standard asks."""


@lru_cache(maxsize=16)  # each ticket's URL is new: only its receipt and its screen ask for it twice
def matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of a QR code of data (error correction M), without quiet zone; True is dark."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def modules_across(data: str) -> int:
    """The width of the code in modules, quiet zone included."""
    return len(matrix(data)) + 2 * QUIET_ZONE


def image(data: str, module: int) -> Image.Image:
    """A mode "1" image of the code with its quiet zone, `module` dots per module."""
    cells = matrix(data)
    count = len(cells) + 2 * QUIET_ZONE
    small = Image.new("1", (count, count), 1)
    dark = [(x + QUIET_ZONE, y + QUIET_ZONE) for y, row in enumerate(cells) for x, cell in enumerate(row) if cell]
    pixels = small.load()
    assert pixels is not None
    for point in dark:
        pixels[point] = 0
    return small.resize((count * module, count * module), Image.Resampling.NEAREST)


def module_size(data: str, max_width: int) -> int:
    """The largest whole module size (at most 8 dots) whose code, quiet zone included, fits max_width."""
    return max(1, min(8, max_width // modules_across(data)))
