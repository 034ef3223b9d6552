"""Sizes on paper: text sizes in dots for raster mode, columns and cells for the printer's own fonts."""

from __future__ import annotations

from dataclasses import dataclass

from printer.layout.blocks import Style
from printer.model import PAPER_PIXELS, Paper


@dataclass(frozen=True)
class RasterMetrics:
    """Raster-mode geometry of one paper width (203 dpi: 8 dots per mm)."""

    width: int
    margin: int
    sizes: dict[Style, int]
    huge_max: int
    qr_max: int

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin


def raster_metrics(paper: Paper) -> RasterMetrics:
    # 24 dots (3 mm) is the height of the printer's own Chinese font: the body stays at least that
    # large on both widths for elderly readers; the number is as large as the paper allows.
    if paper == 58:
        sizes: dict[Style, int] = {"huge": 120, "title": 28, "heading": 25, "body": 24, "small": 18}
        return RasterMetrics(PAPER_PIXELS[58], 4, sizes, huge_max=150, qr_max=220)
    sizes = {"huge": 150, "title": 34, "heading": 28, "body": 26, "small": 20}
    return RasterMetrics(PAPER_PIXELS[80], 8, sizes, huge_max=190, qr_max=260)


@dataclass(frozen=True)
class NativeMetrics:
    """The printer's own fonts: font A cells are 12x24 dots (a hanzi takes two), font B 9x17."""

    width: int
    cell_a: tuple[int, int] = (12, 24)
    cell_b: tuple[int, int] = (9, 17)
    line_spacing: int = 30
    """ESC @ resets the line spacing to about 1/6 inch, 30 dots at 203 dpi (3.75 mm)."""

    @property
    def columns_a(self) -> int:
        return self.width // self.cell_a[0]

    @property
    def columns_b(self) -> int:
        return self.width // self.cell_b[0]


def native_metrics(paper: Paper) -> NativeMetrics:
    """32/42 columns (font A/B) on 58 mm paper, 48/64 on 80 mm."""
    return NativeMetrics(PAPER_PIXELS[paper])
