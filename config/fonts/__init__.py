"""The bundled CJK font (WenQuanYi Micro Hei) and optional system fallbacks for rare characters.

WenQuanYi Micro Hei (Apache-2.0 or GPLv3 with the font exception, see the licence files beside
it) covers every GBK hanzi (U+4E00–U+9FC3) but not CJK Extension A/B, where rare name characters
such as 䶮 (U+4DAE), 㛃 (U+36C3) and 𠮷 (U+20BB7) live. Those are drawn from a system font that
has them, when one is installed (see FALLBACK_CANDIDATES).
"""

from __future__ import annotations

from pathlib import Path

CJK_FONT_FILE = "wqy-microhei.ttc"
CJK_FONT_INDEX = 0
"""Face 0 of the collection is the Simplified Chinese proportional face (face 1 is Mono)."""

FALLBACK_CANDIDATES: tuple[tuple[str, int], ...] = (
    # Debian fonts-hanazono: HanaMinA has Extension A (and some B), HanaMinB the rest of plane 2.
    ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", 0),
    ("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", 0),
    # Debian fonts-babelstone-han: every unified ideograph in one file.
    ("/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf", 0),
    # Debian fonts-noto-cjk: face 2 of the collection is Simplified Chinese.
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    # Windows hall PCs: SimSun-ExtB has plane 2; SimSun has Extension A.
    ("C:/Windows/Fonts/simsun.ttc", 0),
    ("C:/Windows/Fonts/simsunb.ttf", 0),
)


def cjk_font_path() -> Path:
    """The path of the bundled WenQuanYi Micro Hei collection; use face CJK_FONT_INDEX (0)."""
    return Path(__file__).resolve().parent / CJK_FONT_FILE


def fallback_fonts() -> list[tuple[Path, int]]:
    """Installed system fonts (path, face index) that cover characters the bundled font lacks."""
    return [(Path(name), index) for name, index in FALLBACK_CANDIDATES if Path(name).is_file()]
