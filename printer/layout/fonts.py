"""A chain of fonts for raster text: the bundled CJK font first, system fallbacks for what it lacks."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from config.fonts import CJK_FONT_INDEX, cjk_font_path, fallback_fonts
from config.fonts.cmap import codepoints

Face = tuple[Path, int]


class FontChain:
    """Fonts tried in order for each character; measuring and run-splitting are cached per chain."""

    def __init__(self, faces: Sequence[Face]) -> None:
        if not faces:
            raise ValueError("a font chain needs at least one font")
        self.faces = tuple(faces)
        self._coverage = [codepoints(path, index) for path, index in self.faces]
        self._face_of: dict[str, int] = {}
        self.font = lru_cache(maxsize=64)(self._load)
        self.length = lru_cache(maxsize=8192)(self._length)
        self.runs = lru_cache(maxsize=4096)(self._runs)

    def face_of(self, char: str) -> int:
        """The index of the first face that has a glyph for char (0, the primary, when none has)."""
        found = self._face_of.get(char)
        if found is None:
            code = ord(char[0])
            found = next((i for i, cover in enumerate(self._coverage) if code in cover), 0)
            self._face_of[char] = found
        return found

    def missing(self, text: str) -> str:
        """The characters of text that no font of the chain can draw (spaces and controls aside)."""
        seen: dict[str, None] = {}
        for char in text:
            visible = not char.isspace() and unicodedata.category(char) not in ("Cc", "Cf", "Cs")
            if visible and all(ord(char) not in cover for cover in self._coverage):
                seen[char] = None
        return "".join(seen)

    def _load(self, size: int, face: int) -> ImageFont.FreeTypeFont:
        path, index = self.faces[face]
        # BASIC layout: the same advances on every machine, with or without libraqm.
        return ImageFont.truetype(str(path), size, index=index, layout_engine=ImageFont.Layout.BASIC)

    def _runs(self, text: str) -> tuple[tuple[int, str], ...]:
        """text cut into runs of characters drawn from the same face."""
        runs: list[tuple[int, str]] = []
        for char in text:
            face = 0 if char == " " else self.face_of(char)
            if runs and runs[-1][0] == face:
                runs[-1] = (face, runs[-1][1] + char)
            else:
                runs.append((face, char))
        return tuple(runs)

    def _length(self, text: str, size: int) -> float:
        return sum(self.font(size, face).getlength(run) for face, run in self.runs(text))


@lru_cache(maxsize=1)
def default_chain() -> FontChain:
    """The bundled WenQuanYi Micro Hei, then any installed fallback font for rare characters."""
    return FontChain([(cjk_font_path(), CJK_FONT_INDEX), *fallback_fonts()])
