"""Raster mode: the printed GS v 0 images are the preview, the QR codes decode, text wraps by pixels."""

from __future__ import annotations

import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image, ImageChops

from printer.layout import commands, raster
from printer.layout.blocks import CheckItem, Document, Qr, Text
from printer.layout.emulator import decode_raster, emulate
from printer.layout.fonts import default_chain
from printer.layout.metrics import raster_metrics
from printer.layout.render import render, render_notice, render_receipt, render_supplement, render_test_page
from printer.layout.wrap import wrap
from printer.model import PAPER_PIXELS
from tests.printer.conftest import TRACK_URL, sample_notice, sample_receipt, sample_supplement

PROFILES = {58: "POS-5890", 80: "TM-T20II"}  # python-escpos profiles with media.width.pixels 384 / 576


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def decoded(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image.convert("L"))]


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("document", ["receipt", "notice", "supplement"])
def test_printed_image_is_the_preview_pixel_for_pixel(paper: int, document: str) -> None:
    rendered = {
        "receipt": lambda: render_receipt(sample_receipt(), paper),
        "notice": lambda: render_notice(sample_notice(), paper),
        "supplement": lambda: render_supplement(sample_supplement(), paper),
    }[document]()
    assert rendered.mode == "raster"
    assert rendered.preview.mode == "1"
    assert rendered.preview.width == PAPER_PIXELS[paper]
    assert same_pixels(decode_raster(rendered.data), rendered.preview)


@pytest.mark.parametrize("paper", [58, 80])
def test_raster_bytes_are_what_python_escpos_sends_for_the_same_image(paper: int) -> None:
    rendered = render_receipt(sample_receipt(), paper)
    dummy = Dummy(profile=PROFILES[paper])
    assert dummy.profile.profile_data["media"]["width"]["pixels"] == PAPER_PIXELS[paper]
    dummy.image(rendered.preview, fragment_height=255)
    assert rendered.data == commands.INITIALIZE + dummy.output + commands.feed_lines(4) + commands.PARTIAL_CUT


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("mode", ["raster", "native"])
def test_ticket_qr_decodes_to_the_tracking_url(paper: int, mode: str) -> None:
    rendered = render_receipt(sample_receipt(), paper, mode)  # type: ignore[arg-type]
    # Decoded from what the printer would print, not from the layout's own picture.
    printed = decode_raster(rendered.data) if mode == "raster" else emulate(rendered.data, PAPER_PIXELS[paper]).image
    assert decoded(printed) == [TRACK_URL]


def test_native_qr_in_raster_mode_splits_the_image_around_the_firmware_code() -> None:
    rendered = render_receipt(sample_receipt(), 80, "raster", "native")
    assert rendered.image is None
    assert rendered.data.count(b"\x1dv0") >= 2
    assert b"\x1d(k" in rendered.data and TRACK_URL.encode() in rendered.data
    assert decoded(rendered.preview) == [TRACK_URL]


def test_notice_qr_decodes_to_the_guide_url() -> None:
    notice = sample_notice()
    assert decoded(render_notice(notice, 58).preview) == [notice.guide_url]


def test_notice_without_guide_url_has_no_qr() -> None:
    rendered = render_notice(sample_notice(guide_url=None), 80)
    assert decoded(rendered.preview) == []


def test_ticket_number_is_very_large() -> None:
    segments = raster.render(Document("t", (Text("A012", "huge"),)), 80)
    (image,) = segments
    assert isinstance(image, Image.Image)
    box = ImageChops.invert(image.convert("L")).getbbox()
    assert box is not None
    assert box[3] - box[1] >= 100  # over 12 mm tall on 80 mm paper
    assert box[2] - box[0] <= raster_metrics(80).inner


@pytest.mark.parametrize("paper", [58, 80])
def test_long_text_wraps_within_the_paper_by_measured_width(paper: int) -> None:
    long = "申请人需提交《农村宅基地和建房（规划许可）申请表》原件，以及Supercalifragilisticexpialidocious" * 3
    rendered = render(Document("t", (Text(long, prefix="说明："), CheckItem(long, long))), paper)
    picture = rendered.preview
    box = ImageChops.invert(picture.convert("L")).getbbox()
    assert box is not None
    metrics = raster_metrics(paper)
    assert box[0] >= metrics.margin and box[2] <= metrics.width - metrics.margin


def test_wrapped_lines_keep_every_character_and_fit() -> None:
    chain = default_chain()
    text = "办理条件：年满16周岁（不含在校学生），且不属于国家机关、事业单位工作人员。Please bring the ID card."

    def measure(piece: str) -> float:
        return chain.length(piece, 24)

    lines = wrap(text, 300, 300, measure)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(chain.font(24, 0).getlength(line) <= 300 for line in lines)
    assert all(not line.startswith(("，", "。", "）")) for line in lines)


def test_rare_name_characters_are_drawn_when_a_fallback_font_is_installed() -> None:
    document = Document("t", (Text("王䶮 李㛃 𠮷田"),))
    if raster.missing_glyphs(document):
        pytest.skip("no font with CJK Extension A/B installed (Debian: fonts-hanazono)")
    chain = default_chain()
    assert {chain.face_of(char) for char in "䶮㛃𠮷"} != {0}
    assert chain.face_of("王") == 0


def test_missing_glyphs_names_what_no_font_has() -> None:
    # U+10FFFD is a private-use code point that no font of the chain maps.
    assert raster.missing_glyphs(Document("t", (Text("中\U0010fffd"),))) == "\U0010fffd"


def test_test_page_renders_in_every_mode() -> None:
    import datetime as dt

    when = dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.UTC)
    for paper in (58, 80):
        for mode in ("raster", "native"):
            rendered = render_test_page("printer-1", "https://q.example/x", when, paper, mode)  # type: ignore[arg-type]
            assert decoded(rendered.preview) == ["https://q.example/x"]


def test_qr_block_alone() -> None:
    rendered = render(Document("t", (Qr("https://q.example/1"),)), 58)
    assert decoded(rendered.preview) == ["https://q.example/1"]


def test_receipts_with_new_numbers_keep_the_drawn_lines_bounded() -> None:
    """Each receipt's own lines (its huge number, its 前面还有N人) made a kiosk grow ~80 KB a ticket."""
    raster.clear_caches()
    render_receipt(sample_receipt(number="A000"))
    after_one = raster._line_mask.cache_info().currsize
    for n in range(1, 60):
        render_receipt(sample_receipt(number=f"A{n:03d}"))
    assert raster._line_mask.cache_info().currsize == after_one  # the huge number (60 KB of mask) is not kept
    for n in range(300):
        render_receipt(sample_receipt(number=f"B{n:03d}", ahead=n))
    info = raster._line_mask.cache_info()
    assert info.currsize == info.maxsize == raster.LINE_CACHE_SIZE <= 256
    hits = info.hits
    render_receipt(sample_receipt(number="C001", ahead=3))
    assert raster._line_mask.cache_info().hits - hits >= after_one - 3  # the repeated lines stayed drawn
