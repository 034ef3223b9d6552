"""The building blocks of a printed document, shared by the raster and the native renderer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Style = Literal["huge", "title", "heading", "body", "small"]
"""huge: the ticket number; title/heading/body: Chinese text; small: English and fine print."""
Align = Literal["left", "center"]


@dataclass(frozen=True)
class Text:
    """A paragraph, wrapped to the paper; `prefix` starts the first line and later lines hang under it."""

    text: str
    style: Style = "body"
    align: Align = "left"
    bold: bool = False
    prefix: str = ""


@dataclass(frozen=True)
class CheckItem:
    """A tick box followed by a wrapped line, and optional smaller detail under it."""

    text: str
    detail: str = ""


@dataclass(frozen=True)
class Badge:
    """A short centred label printed white on black (green channel, appointment)."""

    text: str


@dataclass(frozen=True)
class Rule:
    """A horizontal separator line."""

    heavy: bool = False


@dataclass(frozen=True)
class Space:
    """Blank paper, in dots (1/203 inch)."""

    dots: int


@dataclass(frozen=True)
class Qr:
    """A QR code of `data`, centred; `scale` shrinks the largest size the paper allows (compact receipts)."""

    data: str
    scale: float = 1.0


Block = Text | CheckItem | Badge | Rule | Space | Qr


@dataclass(frozen=True)
class Document:
    """A printable document: a title (for job lists and previews) and its blocks, top to bottom."""

    title: str
    blocks: tuple[Block, ...]
