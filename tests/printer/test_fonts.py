"""The bundled CJK font and the cmap reader."""

from __future__ import annotations

from pathlib import Path

from PIL import ImageFont

from config.fonts import CJK_FONT_INDEX, cjk_font_path, fallback_fonts
from config.fonts.cmap import codepoints


def test_bundled_font_is_wenquanyi_micro_hei_face_0() -> None:
    path = cjk_font_path()
    assert path.is_file() and path.suffix == ".ttc"
    font = ImageFont.truetype(str(path), 24, index=CJK_FONT_INDEX)
    assert font.getname() == ("WenQuanYi Micro Hei", "Regular")


def test_licence_files_ship_beside_the_font() -> None:
    folder = cjk_font_path().parent
    assert "Apache License" in (folder / "LICENSE-Apache-2.0.txt").read_text()
    assert "font embedding exception" in (folder / "README-wqy-microhei.txt").read_text()
    assert "GPL-3+ with Font exception" in (folder / "COPYRIGHT-wqy-microhei.txt").read_text()


def test_cmap_knows_what_the_font_has() -> None:
    covered = codepoints(cjk_font_path(), 0)
    for char in "中文便民服务，。：￥□ABC123":
        assert ord(char) in covered, char
    for char in "䶮㛃𠮷☐":  # CJK Extension A/B and the ballot box are not in WenQuanYi
        assert ord(char) not in covered, char


def test_fallback_fonts_exist_when_listed() -> None:
    for path, index in fallback_fonts():
        assert isinstance(path, Path) and path.is_file() and index >= 0
