"""Native mode: text sent as GB18030 in the printer's Chinese mode (FS & … FS .), for China-market printers.

Bytes are written here, not through python-escpos's text(), whose encoding rules turn full-width
punctuation without hanzi into '?'. GB18030 encodes every Unicode character, so nothing is lost; the
few characters that GBK-only printer fonts lack but have a GBK look-alike are swapped first (¥ → ￥).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from printer.layout import commands, qr
from printer.layout.blocks import Align, Badge, CheckItem, Document, Qr, Rule, Space, Text
from printer.layout.metrics import NativeMetrics, native_metrics, raster_metrics
from printer.layout.wrap import clean, wrap
from printer.model import Paper, QrMode

SUBSTITUTES = str.maketrans(
    {
        "¥": "￥",  # U+00A5 is a 4-byte GB18030 code that GBK printers misprint; U+FFE5 is A3A4
        "☐": "□",  # U+2610 is outside GBK; □ is A1F5
        "☑": "√",
        "✓": "√",
        "✔": "√",
        "\u00a0": " ",
        "–": "-",
        "•": "·",
    }
)

TICK_BOX = "□ "


def prepare(text: str) -> str:
    """Text as it will be sent: control characters dropped, GBK look-alikes swapped in."""
    return clean(text).translate(SUBSTITUTES)


def encode(text: str) -> bytes:
    """GB18030 bytes of prepared text (never '?': GB18030 maps every Unicode character)."""
    return text.encode("gb18030")


@dataclass(frozen=True)
class _Style:
    width: int = 1
    height: int = 1
    bold: bool = False
    font_b: bool = False
    reverse: bool = False
    align: Align = "left"


class _Writer:
    """Emits only the setting commands that change, then the line's bytes and LF."""

    def __init__(self, metrics: NativeMetrics) -> None:
        self.metrics = metrics
        self.out = bytearray()
        self.style = _Style()

    def dots(self, text: str, style: _Style) -> int:
        """Printed width: ASCII in font A/B cells, everything else a 24-dot hanzi cell; times the width factor."""
        cell = self.metrics.cell_b[0] if style.font_b else self.metrics.cell_a[0]
        return sum(cell if char < "\x80" else 2 * self.metrics.cell_a[0] for char in text) * style.width

    def apply(self, style: _Style) -> None:
        old = self.style
        if style.align != old.align:
            self.out += commands.align(style.align)
        if (style.width, style.height) != (old.width, old.height):
            self.out += commands.size(style.width, style.height)
        if style.bold != old.bold:
            self.out += commands.bold(style.bold)
        if style.font_b != old.font_b:
            self.out += commands.font_b(style.font_b)
        if style.reverse != old.reverse:
            self.out += commands.reverse(style.reverse)
        self.style = style

    def line(self, text: str, style: _Style) -> None:
        self.apply(style)
        self.out += encode(text) + commands.LF

    def paragraph(
        self, text: str, style: _Style, prefix: str = "", indent_dots: int | None = None, margin: str = ""
    ) -> None:
        """Wrapped text; later lines hang under the prefix (padded with spaces of the line's font).

        `margin` goes on both sides of every line (the white-on-black badge's padding).
        """
        text, prefix = prepare(text), prepare(prefix)
        space = self.dots(" ", style)
        hang = self.dots(prefix, style) if indent_dots is None else indent_dots
        pad = math.ceil(hang / space) if hang else 0
        available = self.metrics.width - pad * space - 2 * self.dots(margin, style)

        def measure(piece: str) -> float:
            return self.dots(piece, style)

        for number, line in enumerate(wrap(text, available, available, measure)):
            lead = prefix + " " * (pad - self.dots(prefix, style) // space) if number == 0 else " " * pad
            self.line(margin + lead + line + margin, style)


_STYLES = {
    "title": _Style(height=2, bold=True),
    "heading": _Style(bold=True),
    "body": _Style(),
    "small": _Style(font_b=True),
}


def _text(writer: _Writer, block: Text) -> None:
    if block.style == "huge":
        text = prepare(block.text).replace("\n", " ")
        one = writer.dots(text, _Style())
        factor = max(1, min(6, writer.metrics.width // one)) if one else 1
        writer.paragraph(text, _Style(width=factor, height=factor, bold=True, align="center"))
        return
    style = _STYLES[block.style]
    style = _Style(style.width, style.height, style.bold or block.bold, style.font_b, False, block.align)
    writer.paragraph(block.text, style, block.prefix)


def _check(writer: _Writer, block: CheckItem) -> None:
    writer.paragraph(block.text, _Style(), TICK_BOX)
    if block.detail:
        writer.paragraph(block.detail, _Style(font_b=True), indent_dots=writer.dots(TICK_BOX, _Style()))


def _qr(writer: _Writer, block: Qr, qr_mode: QrMode, paper: Paper) -> None:
    limit = round(raster_metrics(paper).qr_max * block.scale)
    module = qr.module_size(block.data, limit)
    if qr_mode == "native":
        writer.apply(_Style(align="center"))
        writer.out += commands.qr_native(block.data, module)
        return
    # An image is centred by padding its left edge: not every printer applies ESC a to images.
    code = qr.image(block.data, module)
    left = (writer.metrics.width - code.width) // 2
    padded = Image.new("1", (left + code.width, code.height), 1)
    padded.paste(code, (left, 0))
    writer.apply(_Style())
    writer.out += commands.raster(padded)


def render(document: Document, paper: Paper, qr_mode: QrMode = "image") -> bytes:
    """The document as ESC/POS bytes in Chinese mode: initialise, FS &, the lines, FS ., feed and cut."""
    metrics = native_metrics(paper)
    writer = _Writer(metrics)
    writer.out += commands.INITIALIZE + commands.CHINESE_ON
    for block in document.blocks:
        if isinstance(block, Text):
            _text(writer, block)
        elif isinstance(block, CheckItem):
            _check(writer, block)
        elif isinstance(block, Badge):
            writer.paragraph(block.text, _Style(bold=True, reverse=True, align="center"), margin=" ")
        elif isinstance(block, Rule):
            writer.line(("=" if block.heavy else "-") * metrics.columns_a, _Style())
        elif isinstance(block, Space):
            writer.apply(_Style())
            writer.out += commands.feed_dots(block.dots)
        elif isinstance(block, Qr):
            _qr(writer, block, qr_mode, paper)
    writer.apply(_Style())
    writer.out += commands.CHINESE_OFF + commands.feed_lines(4) + commands.PARTIAL_CUT
    return bytes(writer.out)
