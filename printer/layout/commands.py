"""ESC/POS command bytes, written out here rather than through python-escpos's text() encoding rules."""

from __future__ import annotations

from typing import Literal

from PIL import Image

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"

INITIALIZE = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
PARTIAL_CUT = GS + b"V\x01"

# Real-time status requests (DLE EOT n) and the fixed bits every reply byte carries.
STATUS_PRINTER = DLE + EOT + b"\x01"
STATUS_OFFLINE_CAUSE = DLE + EOT + b"\x02"
STATUS_ERROR_CAUSE = DLE + EOT + b"\x03"
STATUS_PAPER = DLE + EOT + b"\x04"
REALTIME_PREFIX = DLE + EOT
"""A printer acts on DLE EOT wherever it meets it, even inside image data: no job we render contains it."""

RESYNC_FILL = 72 * 255
"""NUL bytes that complete any raster band a cut-off job left open (the widest band: 72 bytes x 255 rows).

A printer that got half a job is still inside its GS v 0 image: it takes the next bytes as dots. NULs are
white dots there and are ignored outside an image, so this many bring the printer back to command mode.
"""

QR_EC_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}

_INVERT = bytes(255 - value for value in range(256))


def align(where: Literal["left", "center", "right"]) -> bytes:
    return ESC + b"a" + bytes([{"left": 0, "center": 1, "right": 2}[where]])


def size(width: int, height: int) -> bytes:
    """GS ! : character width and height multipliers, 1–8 each (applies to hanzi too)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError(f"size multipliers must be 1..8, got {width}x{height}")
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def bold(on: bool) -> bytes:
    return ESC + b"E" + (b"\x01" if on else b"\x00")


def font_b(on: bool) -> bytes:
    """ESC M: font B (9x17 dots) for Latin text; font A (12x24) otherwise."""
    return ESC + b"M" + (b"\x01" if on else b"\x00")


def reverse(on: bool) -> bytes:
    """GS B: white on black."""
    return GS + b"B" + (b"\x01" if on else b"\x00")


def feed_dots(dots: int) -> bytes:
    """ESC J: print the buffer and feed the paper by `dots` (1/203 inch each, split above 255)."""
    out = b""
    while dots > 0:
        step = min(dots, 255)
        out += ESC + b"J" + bytes([step])
        dots -= step
    return out


def feed_lines(lines: int) -> bytes:
    return ESC + b"d" + bytes([lines])


def raster(image: Image.Image, band_rows: int = 255) -> bytes:
    """GS v 0 raster bit image(s) of a mode "1" image, in bands of at most band_rows rows.

    In a mode "1" image a set bit is white; on paper a set bit is a burned dot, hence the inversion.
    Bands keep each command within the receive buffer of small printers.
    """
    if image.mode != "1":
        raise ValueError(f"raster() needs a mode '1' image, got {image.mode!r}")
    width, height = image.size
    width_bytes = (width + 7) // 8
    data = image.tobytes().translate(_INVERT)
    if width % 8:
        # Pad bits past the right edge would print as black after inversion: clear them.
        mask = (0xFF << (8 - width % 8)) & 0xFF
        rows = bytearray(data)
        for row in range(height):
            rows[row * width_bytes + width_bytes - 1] &= mask
        data = bytes(rows)
    data = without_realtime(data)
    out = bytearray()
    for top in range(0, height, band_rows):
        rows_here = min(band_rows, height - top)
        out += GS + b"v0\x00" + _low_high(width_bytes) + _low_high(rows_here)
        out += data[top * width_bytes : (top + rows_here) * width_bytes]
    return bytes(out)


def without_realtime(data: bytes) -> bytes:
    """Image bytes with every DLE EOT pair broken by clearing the lone dot of the EOT byte (0x04 -> 0x00).

    0x10 0x04 is one isolated dot, nine dots of white, another isolated dot: only a text outline's
    speck makes it, so the dot is never missed; a QR module is wider than one dot. 0x00 cannot start
    or end a new pair.
    """
    if REALTIME_PREFIX not in data:
        return data
    out = bytearray(data)
    at = out.find(REALTIME_PREFIX)
    while at >= 0:
        out[at + 1] = 0
        at = out.find(REALTIME_PREFIX, at + 2)
    return bytes(out)


def realtime_safe(image: Image.Image) -> Image.Image:
    """The mode "1" image as raster() will print it (DLE EOT pairs broken), so a preview shows every dot."""
    if image.mode != "1" or image.width % 8:
        return image
    printed = image.tobytes().translate(_INVERT)
    safe = without_realtime(printed)
    if safe is printed:
        return image
    return Image.frombytes("1", image.size, safe.translate(_INVERT))


def qr_native(data: str, module: int, ec: Literal["L", "M", "Q", "H"] = "M") -> bytes:
    """GS ( k: a QR code (model 2) drawn by the printer's firmware."""
    if not 1 <= module <= 16:
        raise ValueError(f"QR module size must be 1..16, got {module}")
    payload = data.encode("utf-8")

    def function(fn: int, body: bytes) -> bytes:
        return GS + b"(k" + _low_high(len(body) + 2) + b"1" + bytes([fn]) + body

    return (
        function(65, b"2\x00")  # model 2
        + function(67, bytes([module]))
        + function(69, bytes([QR_EC_LEVELS[ec]]))
        + function(80, b"0" + payload)  # store the data
        + function(81, b"0")  # print it
    )


def _low_high(value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{value} does not fit in two bytes")
    return bytes([value & 0xFF, value >> 8])
