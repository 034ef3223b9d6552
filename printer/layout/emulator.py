"""A small ESC/POS interpreter: draws what a 203-dpi Chinese-mode printer makes of the bytes we send.

It knows the commands this package writes (and skips DLE EOT queries); anything else raises
EmulatorError, so a test notices a byte it did not expect. It gives the preview of native-mode
documents and of the virtual printer, and decodes raster jobs back into images for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw

from config.fonts import cjk_font_path, fallback_fonts
from printer.layout import qr
from printer.layout.fonts import FontChain
from printer.layout.metrics import NativeMetrics

_INVERT = bytes(255 - value for value in range(256))


class EmulatorError(ValueError):
    """The bytes hold a command the emulator does not know, or end inside one."""


@dataclass(frozen=True)
class _Char:
    text: str
    wide: bool
    width: int
    height: int
    bold: bool
    font_b: bool
    reverse: bool


@dataclass
class _State:
    align: int = 0
    width: int = 1
    height: int = 1
    bold: bool = False
    font_b: bool = False
    reverse: bool = False


@dataclass
class Printout:
    """What came out: the paper (mode "1"), how often a line ran past the edge, how many cuts."""

    image: Image.Image
    overflows: int = 0
    cuts: int = 0
    lines: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _chain() -> FontChain:
    # The monospaced face: Latin at half a hanzi, like the printer's ANK font.
    return FontChain([(cjk_font_path(), 1), *fallback_fonts()])


@lru_cache(maxsize=4096)
def _glyph(text: str, wide: bool, font_b: bool, bold: bool) -> Image.Image:
    """One character at 1x, in its printer cell: hanzi 24x24, font A 12x24, font B 9x17."""
    cell = (24, 24) if wide else ((9, 17) if font_b else (12, 24))
    size = 24 if wide else (15 if font_b else 20)
    chain = _chain()
    picture = Image.new("1", cell, 1)
    draw = ImageDraw.Draw(picture)
    face = chain.face_of(text) if text.strip() else 0
    font = chain.font(size, face)
    for shift in (0, 1) if bold else (0,):
        # Bold as printers do it: the glyph struck twice, one dot apart.
        draw.text((cell[0] / 2 + shift, cell[1] / 2), text, font=font, fill=0, anchor="mm")
    return picture


def _inverted(picture: Image.Image) -> Image.Image:
    """Black and white swapped (Image.point and ImageChops.invert do not do this for mode "1")."""
    return Image.frombytes("1", picture.size, picture.tobytes().translate(_INVERT))


class _Paper:
    def __init__(self, metrics: NativeMetrics) -> None:
        self.metrics = metrics
        self.strips: list[Image.Image] = []
        self.line: list[_Char] = []
        self.state = _State()
        self.spacing = metrics.line_spacing
        self.overflows = 0
        self.texts: list[str] = []

    def blank(self, dots: int) -> None:
        if dots > 0:
            self.strips.append(Image.new("1", (self.metrics.width, dots), 1))

    def char_width(self, char: _Char) -> int:
        cell = 24 if char.wide else (9 if char.font_b else 12)
        return cell * char.width

    def add(self, text: str) -> None:
        state = self.state
        char = _Char(text, text >= "\x80", state.width, state.height, state.bold, state.font_b, state.reverse)
        used = sum(self.char_width(c) for c in self.line)
        if used + self.char_width(char) > self.metrics.width:
            self.overflows += 1
            self.print_line(self.spacing)
        self.line.append(char)

    def print_line(self, feed: int | None) -> None:
        """Print the buffered line, then feed `feed` dots (None: no feed beyond the characters)."""
        if not self.line:
            if feed:
                self.blank(feed)
            return
        tallest = max((17 if c.font_b and not c.wide else 24) * c.height for c in self.line)
        used = sum(self.char_width(c) for c in self.line)
        strip_height = tallest if feed is None else max(feed, tallest)
        strip = Image.new("1", (self.metrics.width, strip_height), 1)
        x = {0: 0, 1: (self.metrics.width - used) // 2, 2: self.metrics.width - used}[self.state.align]
        for char in self.line:
            glyph = _glyph(char.text, char.wide, char.font_b, char.bold)
            glyph = glyph.resize((glyph.width * char.width, glyph.height * char.height), Image.Resampling.NEAREST)
            top = tallest - glyph.height  # characters of one line stand on the same bottom edge
            if char.reverse:
                glyph = _inverted(glyph)
            strip.paste(glyph, (x, top))
            x += glyph.width
        self.strips.append(strip)
        self.texts.append("".join(c.text for c in self.line))
        self.line = []

    def picture(self, image: Image.Image, x: int) -> None:
        self.print_line(None)
        strip = Image.new("1", (self.metrics.width, image.height), 1)
        strip.paste(image.crop((0, 0, min(image.width, self.metrics.width - x), image.height)), (x, 0))
        self.strips.append(strip)

    def image(self) -> Image.Image:
        self.print_line(None)
        height = sum(strip.height for strip in self.strips)
        out = Image.new("1", (self.metrics.width, max(height, 1)), 1)
        y = 0
        for strip in self.strips:
            out.paste(strip, (0, y))
            y += strip.height
        return out


def raster_image(width_bytes: int, rows: int, data: bytes) -> Image.Image:
    """The picture of GS v 0 data (a set bit is a black dot) as a mode "1" image."""
    return Image.frombytes("1", (width_bytes * 8, rows), data.translate(_INVERT))


def decode_raster(data: bytes) -> Image.Image:
    """Every GS v 0 image in data, stacked top to bottom (other commands are skipped)."""
    bands: list[Image.Image] = []
    start = 0
    while (found := data.find(b"\x1dv0", start)) >= 0:
        width_bytes = data[found + 4] | data[found + 5] << 8
        rows = data[found + 6] | data[found + 7] << 8
        body = found + 8
        bands.append(raster_image(width_bytes, rows, data[body : body + width_bytes * rows]))
        start = body + width_bytes * rows
    if not bands:
        raise EmulatorError("no GS v 0 image in the data")
    out = Image.new("1", (max(b.width for b in bands), sum(b.height for b in bands)), 1)
    y = 0
    for band in bands:
        out.paste(band, (0, y))
        y += band.height
    return out


def emulate(data: bytes, width: int) -> Printout:
    """Run the bytes through a printer `width` dots wide (384 or 576) and return the paper."""
    paper = _Paper(NativeMetrics(width))
    chinese = False
    stored_qr = ""
    module = 3
    cuts = 0
    pos = 0
    end = len(data)

    def need(count: int) -> bytes:
        if pos + count > end:
            raise EmulatorError(f"the data ends inside a command at byte {pos}")
        return data[pos : pos + count]

    while pos < end:
        byte = data[pos]
        if byte == 0x0A:
            paper.print_line(paper.spacing)
            pos += 1
        elif byte == 0x1B:
            command = need(2)[1:2]
            if command == b"@":
                paper.print_line(None)
                paper.state = _State()
                paper.spacing = paper.metrics.line_spacing
                pos += 2
            elif command in (b"a", b"E", b"M", b"J", b"d", b"3"):
                value = need(3)[2]
                if command == b"a":
                    paper.state.align = value - 48 if value >= 48 else value
                elif command == b"E":
                    paper.state.bold = bool(value & 1)
                elif command == b"M":
                    paper.state.font_b = bool(value & 1)
                elif command == b"J":
                    paper.print_line(value)
                elif command == b"d":
                    paper.print_line(paper.spacing)
                    paper.blank(paper.spacing * (value - 1))
                else:
                    paper.spacing = value
                pos += 3
            elif command == b"2":
                paper.spacing = paper.metrics.line_spacing
                pos += 2
            else:
                raise EmulatorError(f"unknown command ESC {command!r} at byte {pos}")
        elif byte == 0x1D:
            command = need(2)[1:2]
            if command == b"!":
                value = need(3)[2]
                paper.state.width, paper.state.height = (value >> 4) + 1, (value & 0x0F) + 1
                pos += 3
            elif command == b"B":
                paper.state.reverse = bool(need(3)[2] & 1)
                pos += 3
            elif command == b"V":
                mode = need(3)[2]
                pos += 4 if mode in (65, 66, 97, 98, 103, 104) else 3
                paper.print_line(None)
                cuts += 1
            elif command == b"v":
                header = need(8)
                width_bytes = header[4] | header[5] << 8
                rows = header[6] | header[7] << 8
                pos += 8
                body = need(width_bytes * rows)
                paper.picture(raster_image(width_bytes, rows, body), 0)
                pos += width_bytes * rows
            elif command == b"(":
                header = need(5)
                length = header[3] | header[4] << 8
                pos += 5
                body = need(length)
                pos += length
                function = body[1]
                if body[:1] != b"1":
                    raise EmulatorError(f"unknown GS ( {header[2:3]!r} symbol {body[:1]!r}")
                if function == 67:
                    module = body[2]
                elif function == 80:
                    stored_qr = body[3:].decode("utf-8")
                elif function == 81:
                    code = qr.image(stored_qr, module)
                    x = {0: 0, 1: (width - code.width) // 2, 2: width - code.width}[paper.state.align]
                    paper.picture(code, max(0, x))
            else:
                raise EmulatorError(f"unknown command GS {command!r} at byte {pos}")
        elif byte == 0x1C:
            command = need(2)[1:2]
            if command == b"&":
                chinese = True
            elif command == b".":
                chinese = False
            else:
                raise EmulatorError(f"unknown command FS {command!r} at byte {pos}")
            pos += 2
        elif byte == 0x10:
            need(3)  # DLE EOT n: a status query, nothing printed
            pos += 3
        elif byte < 0x20:
            raise EmulatorError(f"unknown control byte {byte:#04x} at byte {pos}")
        elif byte < 0x80 or not chinese:
            paper.add(bytes([byte]).decode("cp437"))
            pos += 1
        else:
            size = 4 if pos + 1 < end and 0x30 <= data[pos + 1] <= 0x39 else 2
            paper.add(need(size).decode("gb18030"))
            pos += size
    image = paper.image()
    return Printout(image=image, overflows=paper.overflows, cuts=cuts, lines=paper.texts)
