"""Raster mode: the whole document drawn as 1-bit images with the CJK font, printed with GS v 0."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from printer.layout import commands, qr
from printer.layout.blocks import Badge, Block, CheckItem, Document, Qr, Rule, Space, Text
from printer.layout.fonts import FontChain, default_chain
from printer.layout.metrics import RasterMetrics, raster_metrics
from printer.layout.wrap import clean, wrap
from printer.model import Paper, QrMode

BLACK = 0
WHITE = 1
_THRESHOLD = [0] * 128 + [255] * 128


@dataclass(frozen=True)
class NativeQr:
    """A QR code left to the printer's firmware (GS ( k) between two raster images."""

    data: str
    module: int


Segment = Image.Image | NativeQr


@dataclass(frozen=True)
class _Run:
    x: float
    baseline: int
    text: str
    size: int
    stroke: int
    fill: int
    bold: bool = False


@dataclass
class _Canvas:
    """Draw operations laid out top to bottom; the image is made once the height is known."""

    metrics: RasterMetrics
    chain: FontChain
    y: int = 0
    runs: list[_Run] = field(default_factory=list)
    rects: list[tuple[tuple[int, int, int, int], int | None, int]] = field(default_factory=list)
    images: list[tuple[int, int, Image.Image]] = field(default_factory=list)

    def ascent_descent(self, size: int) -> tuple[int, int]:
        ascent, descent = self.chain.font(size, 0).getmetrics()
        return ascent, descent

    def line_height(self, size: int) -> int:
        ascent, descent = self.ascent_descent(size)
        return ascent + descent + max(2, size // 6)

    def measure(self, size: int, extra: int = 0) -> _Measure:
        return _Measure(self.chain, size, extra)

    def image(self) -> Image.Image:
        height = max(self.y, 1)
        canvas = Image.new("1", (self.metrics.width, height), WHITE)
        draw = ImageDraw.Draw(canvas)
        for box, fill, outline_width in self.rects:
            draw.rectangle(box, fill=fill, outline=BLACK if fill is None else None, width=outline_width)
        for left, top, picture in self.images:
            canvas.paste(picture, (left, top))
        for run in self.runs:
            x: float = run.x
            for face, piece in self.chain.runs(run.text):
                font = self.chain.font(run.size, face)
                draw_mask = _line_mask if run.stroke == 0 else _draw_mask  # a huge number is never drawn twice
                mask, (left, top) = draw_mask(font, piece, run.stroke, run.bold)
                canvas.paste(run.fill, (round(x) + left, run.baseline + top), mask)
                x += font.getlength(piece)
        return canvas


LINE_CACHE_SIZE = 256
"""Lines kept drawn. A mode "1" image takes a byte per dot, and every receipt adds lines of its own
(its "前面还有N人" line, ~10 KB each): with 2,048 kept, a kiosk grew ~80 KB a ticket for its first
800 tickets. A receipt's repeated lines (hall, labels) are a few dozen, and stay, being used each time."""


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _line_mask(font: ImageFont.FreeTypeFont, text: str, stroke: int, bold: bool) -> tuple[Image.Image, tuple[int, int]]:
    """A line of text as a paste mask, drawn once for the lines that repeat (see _draw_mask)."""
    return _draw_mask(font, text, stroke, bold)


def _draw_mask(font: ImageFont.FreeTypeFont, text: str, stroke: int, bold: bool) -> tuple[Image.Image, tuple[int, int]]:
    """A line of text as a paste mask, and its offset from the left end of its baseline.

    Receipts repeat most of their lines (hall, labels, rules), and FreeType's hinted monochrome
    rendering is the slowest step of a raster receipt, so each distinct line is drawn once (_line_mask);
    the huge ticket number (60 KB of mask, new on every receipt) is drawn each time.
    Bold is the glyph struck twice one dot apart: a stroke would fill the small hanzi.
    """
    left, top, right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    left, top = math.floor(left), math.floor(top)
    width = max(1, math.ceil(right) - left + (1 if bold else 0))
    grey = Image.new("L", (width, max(1, math.ceil(bottom) - top)), 0)
    draw = ImageDraw.Draw(grey)
    for shift in (0, 1) if bold else (0,):
        draw.text((shift - left, -top), text, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255)
    # Anti-aliased outlines cut at half grey: cleaner strokes than FreeType's monochrome hinting, and
    # several times faster with this font. A thermal head prints dots or none, so the cut is final.
    return grey.point(_THRESHOLD, "1"), (left, top)


@dataclass(frozen=True)
class _Measure:
    chain: FontChain
    size: int
    extra: int
    """Dots added by bold (1) or a stroke (twice its width)."""

    def __call__(self, text: str) -> float:
        return self.chain.length(text, self.size) + self.extra if text else 0.0


HUGE_STROKE = 3


def _text(canvas: _Canvas, block: Text) -> None:
    metrics = canvas.metrics
    size = metrics.sizes[block.style]
    if block.style == "huge":
        _huge(canvas, clean(block.text).replace("\n", " "), HUGE_STROKE)
        return
    bold = block.bold
    measure = canvas.measure(size, int(bold))
    indent = math.ceil(measure(block.prefix)) if block.prefix else 0
    available = metrics.inner - indent
    ascent, _ = canvas.ascent_descent(size)
    step = canvas.line_height(size)
    for number, line in enumerate(wrap(block.text, available, available, measure)):
        width = measure(line)
        x = (metrics.width - width - indent) / 2 + indent if block.align == "center" else metrics.margin + indent
        if number == 0 and block.prefix:
            canvas.runs.append(_Run(x - indent, canvas.y + ascent, block.prefix, size, 0, BLACK, bold))
        canvas.runs.append(_Run(x, canvas.y + ascent, line, size, 0, BLACK, bold))
        canvas.y += step


def _huge(canvas: _Canvas, text: str, stroke: int) -> None:
    """The ticket number: one line, as large as fits the paper (up to huge_max dots)."""
    metrics = canvas.metrics
    probe = 100
    width_at_probe = canvas.chain.length(text, probe)
    size = metrics.sizes["huge"]
    if width_at_probe > 0:
        size = min(metrics.huge_max, math.floor(probe * (metrics.inner - 2 * stroke) / width_at_probe))
    # Whole steps of 8 dots: each size is a font to load, and every ticket number differs in width.
    size = max(size - size % 8, metrics.sizes["title"])
    font = canvas.chain.font(size, 0)
    _left, top, _right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    width = canvas.chain.length(text, size)
    pad = size // 10
    baseline = canvas.y + pad - math.floor(top)
    canvas.runs.append(_Run((metrics.width - width - 2 * stroke) / 2 + stroke, baseline, text, size, stroke, BLACK))
    canvas.y = baseline + math.ceil(bottom) + pad


def _check(canvas: _Canvas, block: CheckItem) -> None:
    metrics = canvas.metrics
    size = metrics.sizes["body"]
    box = round(size * 0.8)
    indent = box + round(size * 0.45)
    ascent, descent = canvas.ascent_descent(size)
    step = canvas.line_height(size)
    measure = canvas.measure(size)
    x = metrics.margin + indent
    for number, line in enumerate(wrap(block.text, metrics.inner - indent, metrics.inner - indent, measure)):
        if number == 0:
            # The box sits on the middle of the first line's hanzi (from the baseline up by about 0.4 em).
            middle = canvas.y + ascent - round(size * 0.38)
            top = middle - box // 2
            canvas.rects.append(((metrics.margin, top, metrics.margin + box - 1, top + box - 1), None, 2))
        canvas.runs.append(_Run(x, canvas.y + ascent, line, size, 0, BLACK))
        canvas.y += step
    if block.detail:
        small = metrics.sizes["small"]
        small_ascent, _ = canvas.ascent_descent(small)
        small_measure = canvas.measure(small)
        for line in wrap(block.detail, metrics.inner - indent, metrics.inner - indent, small_measure):
            canvas.runs.append(_Run(x, canvas.y + small_ascent, line, small, 0, BLACK))
            canvas.y += canvas.line_height(small)
    del descent


def _badge(canvas: _Canvas, block: Badge) -> None:
    metrics = canvas.metrics
    size = metrics.sizes["heading"]
    measure = canvas.measure(size, 1)
    ascent, descent = canvas.ascent_descent(size)
    pad_x, pad_y = size // 2, size // 6
    for line in wrap(block.text, metrics.inner - 2 * pad_x, metrics.inner - 2 * pad_x, measure):
        width = measure(line)
        left = round((metrics.width - width) / 2) - pad_x
        right = round((metrics.width + width) / 2) + pad_x
        bottom = canvas.y + ascent + descent + 2 * pad_y
        canvas.rects.append(((left, canvas.y, right - 1, bottom - 1), BLACK, 0))
        canvas.runs.append(_Run(left + pad_x, canvas.y + pad_y + ascent, line, size, 0, WHITE, True))
        canvas.y = bottom + 2


def _rule(canvas: _Canvas, block: Rule) -> None:
    metrics = canvas.metrics
    canvas.y += 6
    if block.heavy:
        canvas.rects.append(((metrics.margin, canvas.y, metrics.width - metrics.margin - 1, canvas.y + 2), BLACK, 0))
        canvas.y += 3
    else:
        for left in range(metrics.margin, metrics.width - metrics.margin, 12):
            right = min(left + 7, metrics.width - metrics.margin - 1)
            canvas.rects.append(((left, canvas.y, right, canvas.y + 1), BLACK, 0))
        canvas.y += 2
    canvas.y += 8


def _qr_image(canvas: _Canvas, block: Qr) -> None:
    module = qr.module_size(block.data, round(canvas.metrics.qr_max * block.scale))
    picture = qr.image(block.data, module)
    canvas.images.append(((canvas.metrics.width - picture.width) // 2, canvas.y, picture))
    canvas.y += picture.height


def _place(canvas: _Canvas, block: Block) -> None:
    if isinstance(block, Text):
        _text(canvas, block)
    elif isinstance(block, CheckItem):
        _check(canvas, block)
    elif isinstance(block, Badge):
        _badge(canvas, block)
    elif isinstance(block, Rule):
        _rule(canvas, block)
    elif isinstance(block, Space):
        canvas.y += block.dots
    elif isinstance(block, Qr):
        _qr_image(canvas, block)


def render(
    document: Document, paper: Paper, qr_mode: QrMode = "image", chain: FontChain | None = None
) -> list[Segment]:
    """The document as 1-bit images (and, with qr_mode "native", firmware QR codes between them)."""
    metrics = raster_metrics(paper)
    fonts = chain or default_chain()
    segments: list[Segment] = []
    canvas = _Canvas(metrics, fonts)
    for block in document.blocks:
        if isinstance(block, Qr) and qr_mode == "native":
            if canvas.y:
                segments.append(commands.realtime_safe(canvas.image()))
            segments.append(NativeQr(block.data, qr.module_size(block.data, round(metrics.qr_max * block.scale))))
            canvas = _Canvas(metrics, fonts)
            continue
        _place(canvas, block)
    if canvas.y or not segments:
        segments.append(commands.realtime_safe(canvas.image()))
    return segments


def missing_glyphs(document: Document, chain: FontChain | None = None) -> str:
    """Characters of the document that no available font can draw (they would print as boxes)."""
    fonts = chain or default_chain()
    text = "".join(
        block.text + block.prefix if isinstance(block, Text) else block.text + block.detail
        for block in document.blocks
        if isinstance(block, Text | CheckItem)
    ) + "".join(block.text for block in document.blocks if isinstance(block, Badge))
    return fonts.missing(clean(text))


def clear_caches() -> None:
    """Forget the drawn lines (for benchmarks of a first render, and to free memory)."""
    _line_mask.cache_clear()
