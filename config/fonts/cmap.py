"""Which characters a TrueType/OpenType font (or one face of a collection) has glyphs for.

Pillow draws a missing glyph as a box without saying so; reading the font's cmap table is the
reliable way to know, so a renderer can pick a fallback font per character.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path


class FontFormatError(ValueError):
    """The file is not a TrueType/OpenType font or collection this reader understands."""


@lru_cache(maxsize=16)
def codepoints(path: Path, index: int = 0) -> frozenset[int]:
    """Every code point that maps to a real glyph (not .notdef) in face `index` of the font at path."""
    data = path.read_bytes()
    offset = _face_offset(data, index)
    cmap = _table(data, offset, b"cmap")
    return frozenset(_read_cmap(data, cmap))


def _face_offset(data: bytes, index: int) -> int:
    if data[:4] == b"ttcf":
        (count,) = struct.unpack_from(">I", data, 8)
        if not 0 <= index < count:
            raise FontFormatError(f"the collection has {count} faces, not face {index}")
        (face,) = struct.unpack_from(">I", data, 12 + 4 * index)
        return int(face)
    if index != 0:
        raise FontFormatError(f"a single font has face 0 only, not face {index}")
    return 0


def _table(data: bytes, face: int, tag: bytes) -> int:
    (count,) = struct.unpack_from(">H", data, face + 4)
    for record in range(count):
        name, _checksum, offset, _length = struct.unpack_from(">4sIII", data, face + 12 + 16 * record)
        if name == tag:
            return int(offset)
    raise FontFormatError(f"the font has no {tag.decode()} table")


def _read_cmap(data: bytes, cmap: int) -> set[int]:
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables: dict[tuple[int, int], int] = {}
    for record in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * record)
        subtables[(platform, encoding)] = cmap + offset
    # Full-repertoire (format 12) tables first, then the BMP-only Unicode tables.
    for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):
        start = subtables.get(key)
        if start is None:
            continue
        (fmt,) = struct.unpack_from(">H", data, start)
        if fmt == 12:
            return _format12(data, start)
        if fmt == 4:
            return _format4(data, start)
    raise FontFormatError("the font has no Unicode cmap of format 4 or 12")


def _format12(data: bytes, start: int) -> set[int]:
    (groups,) = struct.unpack_from(">I", data, start + 12)
    found: set[int] = set()
    for group in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * group)
        # A group starting at glyph 0 maps its first code point to .notdef.
        found.update(range(first + (1 if glyph == 0 else 0), last + 1))
    return found


def _format4(data: bytes, start: int) -> set[int]:
    (seg_x2,) = struct.unpack_from(">H", data, start + 6)
    segments = seg_x2 // 2
    ends_at = start + 14
    starts_at = ends_at + seg_x2 + 2
    deltas_at = starts_at + seg_x2
    ranges_at = deltas_at + seg_x2
    ends = struct.unpack_from(f">{segments}H", data, ends_at)
    starts = struct.unpack_from(f">{segments}H", data, starts_at)
    deltas = struct.unpack_from(f">{segments}h", data, deltas_at)
    range_offsets = struct.unpack_from(f">{segments}H", data, ranges_at)
    found: set[int] = set()
    for seg in range(segments):
        first, last, delta, range_offset = starts[seg], ends[seg], deltas[seg], range_offsets[seg]
        if first == 0xFFFF:
            continue
        if range_offset == 0:
            found.update(code for code in range(first, last + 1) if (code + delta) & 0xFFFF)
            continue
        # idRangeOffset counts bytes from its own position in the idRangeOffset array.
        base = ranges_at + 2 * seg + range_offset
        for code in range(first, last + 1):
            (glyph,) = struct.unpack_from(">H", data, base + 2 * (code - first))
            if glyph and (glyph + delta) & 0xFFFF:
                found.add(code)
    return found
