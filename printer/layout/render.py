"""Documents to printable output: ESC/POS bytes and a preview image, in raster or native text mode."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from PIL import Image

from printer.layout import commands, native, raster
from printer.layout.blocks import Document, Text
from printer.layout.emulator import emulate
from printer.layout.notice import notice
from printer.layout.receipt import receipt
from printer.layout.supplement import supplement
from printer.layout.testpage import test_page
from printer.model import PAPER_PIXELS, NoticeData, Paper, QrMode, ReceiptData, ReceiptLayout, SupplementData, TextMode

TRAILER = commands.feed_lines(4) + commands.PARTIAL_CUT


@dataclass(frozen=True)
class Rendered:
    """A rendered document: the bytes to send and, on demand, a picture of the printout."""

    title: str
    data: bytes
    paper: Paper
    mode: TextMode
    image: Image.Image | None = field(default=None, repr=False, compare=False)
    """Raster mode with image QR codes: the one image that is printed (the preview is this image)."""

    @cached_property
    def preview(self) -> Image.Image:
        """A mode "1" picture of the printout: in raster mode exactly the printed image."""
        if self.image is not None:
            return self.image
        return emulate(self.data, PAPER_PIXELS[self.paper]).image


def render(document: Document, paper: Paper = 80, mode: TextMode = "raster", qr_mode: QrMode = "image") -> Rendered:
    """ESC/POS bytes of a document for a paper width (58/80 mm) in raster (default) or native text mode."""
    if paper not in PAPER_PIXELS:
        raise ValueError(f"paper must be 58 or 80 (mm), got {paper!r}")
    if mode == "native":
        return Rendered(document.title, native.render(document, paper, qr_mode), paper, mode)
    if mode != "raster":
        raise ValueError(f"mode must be 'raster' or 'native', got {mode!r}")
    segments = raster.render(document, paper, qr_mode)
    out = bytearray(commands.INITIALIZE)
    for segment in segments:
        if isinstance(segment, raster.NativeQr):
            out += commands.align("center") + commands.qr_native(segment.data, segment.module)
            out += commands.align("left")
        else:
            out += commands.raster(segment)
    out += TRAILER
    only = segments[0] if len(segments) == 1 and isinstance(segments[0], Image.Image) else None
    return Rendered(document.title, bytes(out), paper, mode, only)


def render_receipt(
    data: ReceiptData,
    paper: Paper = 80,
    mode: TextMode = "raster",
    qr_mode: QrMode = "image",
    layout: ReceiptLayout = "compact",
) -> Rendered:
    """A ticket receipt, compact (the default) or full."""
    return render(receipt(data, layout), paper, mode, qr_mode)


def render_notice(
    data: NoticeData, paper: Paper = 80, mode: TextMode = "raster", qr_mode: QrMode = "image"
) -> Rendered:
    """A one-time notice (一次性告知单) of a service item."""
    return render(notice(data), paper, mode, qr_mode)


def render_supplement(
    data: SupplementData, paper: Paper = 80, mode: TextMode = "raster", qr_mode: QrMode = "image"
) -> Rendered:
    """A supplement notice (补正告知)."""
    return render(supplement(data), paper, mode, qr_mode)


def render_test_page(
    printer_name: str,
    url: str,
    when: dt.datetime,
    paper: Paper = 80,
    mode: TextMode = "raster",
    qr_mode: QrMode = "image",
) -> Rendered:
    """The printer test page (Chinese, punctuation, ￥, rare characters, a QR code of url)."""
    description = f"{paper}mm {mode}/{qr_mode}"
    return render(test_page(printer_name, description, url, when), paper, mode, qr_mode)


def render_resync(paper: Paper = 80, mode: TextMode = "raster") -> bytes:
    """What the spooler sends before the next job when the printer may hold a cut-off one.

    NULs finish any image the cut-off job left open, then a short line marks that piece void and it is
    cut off, so a part of a receipt (or a whole body whose cut never came) is never taken for a receipt.
    """
    void = Document(
        "void",
        (
            Text("以上打印中断，本张作废", "heading", "center", bold=True),
            Text("VOID: print interrupted", "small", "center"),
        ),
    )
    return bytes(commands.RESYNC_FILL) + render(void, paper, mode).data
