"""Native text mode: exact bytes, GB18030 for every character, display-width wrapping."""

from __future__ import annotations

import datetime as dt

import pytest
from escpos.printer import Dummy

from printer.layout import commands, native
from printer.layout.blocks import Document, Text
from printer.layout.emulator import emulate
from printer.layout.render import render, render_notice, render_receipt, render_supplement
from printer.model import PAPER_PIXELS, ReceiptData, WindowRef
from tests.printer.conftest import SHANGHAI, sample_notice, sample_receipt, sample_supplement

SMALL = ReceiptData(
    hall_name_zh="青山镇",
    hall_name_en="Qingshan",
    supervision_phone="12345",
    number="A1",
    category_zh="综合",
    category_en="General",
    item_zh=None,
    item_en=None,
    windows=(WindowRef(1, "综合窗口", "General"),),
    ahead=0,
    estimated_wait_s=None,
    issued_at=dt.datetime(2025, 3, 4, 9, 15, tzinfo=SHANGHAI),
    priority="ordinary",
    track_url="http://q/t/1",
    no_show_rule_zh="过号请重新取号。",
    no_show_rule_en="Missed? Re-queue.",
)

# The whole job, command by command. Hanzi are GB18030 (= GB2312 here): 青 C7E0, 山 C9BD, 镇 D5F2 ...
GOLDEN_58_NATIVE_QR = b"".join(
    [
        b"\x1b@",  # ESC @ initialise
        b"\x1c&",  # FS & Chinese mode on
        b"\x1ba\x01\x1d!\x01\x1bE\x01",  # centre, double height, bold
        b"\xc7\xe0\xc9\xbd\xd5\xf2\n",  # 青山镇
        b"\x1d!\x00\x1bE\x00\x1bM\x01",  # normal size, bold off, font B (English)
        b"Qingshan\n",
        b"\x1ba\x00\x1bM\x00",  # left, font A
        b"=" * 32 + b"\n",  # heavy rule: 32 columns on 58 mm
        b"\x1ba\x01\x1bM\x01",  # centre, font B
        b"\xc4\xfa\xb5\xc4\xc5\xc5\xb6\xd3\xba\xc5 Your number\n",  # 您的排队号 Your number
        b"\x1d!\x55\x1bE\x01\x1bM\x00",  # 6x6, bold, font A
        b"A1\n",
        b"\x1d!\x00",  # normal size (still bold, centred)
        b"\xd7\xdb\xba\xcf\n",  # 综合
        b"\x1bE\x00\x1bM\x01",
        b"General\n",
        b"\x1ba\x00\x1bM\x00",
        b"-" * 32 + b"\n",
        # 办理窗口：1号 综合窗口
        b"\xb0\xec\xc0\xed\xb4\xb0\xbf\xda\xa3\xba1\xba\xc5 \xd7\xdb\xba\xcf\xb4\xb0\xbf\xda\n",
        b"\x1bM\x01Window: 1 General\n",
        b"\x1bM\x00\xc7\xb0\xc3\xe6\xc3\xbb\xd3\xd0\xc8\xcb\xb5\xc8\xba\xf2\n",  # 前面没有人等候
        b"\xd4\xa4\xbc\xc6\xb5\xc8\xba\xf2\xa3\xba\xd4\xdd\xce\xde\xb7\xa8\xb9\xc0\xbc\xc6\n",  # 预计等候：暂无法估计
        b"\x1bM\x01You are next; estimated wait not available\n",
        b"\x1bM\x00\xc8\xa1\xba\xc5\xca\xb1\xbc\xe4\xa3\xba2025-03-04 09:15\n",  # 取号时间：
        b"\x1bJ\x08",  # ESC J 8: 8 dots of paper
        b"\x1ba\x01",  # centre the QR code
        b"\x1d(k\x04\x001A2\x00",  # GS ( k: model 2
        b"\x1d(k\x03\x001C\x07",  # module 7 dots
        b"\x1d(k\x03\x001E1",  # error correction M
        b"\x1d(k\x0f\x001P0http://q/t/1",  # store the data
        b"\x1d(k\x03\x001Q0",  # print it
        b"\xc9\xa8\xc2\xeb\xb2\xe9\xbf\xb4\xc5\xc5\xb6\xd3\xbd\xf8\xb6\xc8\n",  # 扫码查看排队进度
        b"\x1bM\x01Scan to follow your place in the queue\n",
        b"\x1ba\x00\x1bM\x00",
        b"-" * 32 + b"\n",
        b"\xb9\xfd\xba\xc5\xc7\xeb\xd6\xd8\xd0\xc2\xc8\xa1\xba\xc5\xa1\xa3\n",  # 过号请重新取号。
        b"\x1bM\x01Missed? Re-queue.\n",
        b"\x1bM\x00\xbc\xe0\xb6\xbd\xb5\xe7\xbb\xb0\xa3\xba12345\n",  # 监督电话：12345
        b"\x1bM\x01Supervision phone: 12345\n",
        b"\x1bM\x00",
        b"\x1c.",  # FS . Chinese mode off
        b"\x1bd\x04",  # feed 4 lines
        b"\x1dV\x01",  # partial cut
    ]
)


def test_small_receipt_is_exactly_these_bytes() -> None:
    assert render_receipt(SMALL, 58, "native", "native", "full").data == GOLDEN_58_NATIVE_QR


def test_native_qr_matches_python_escpos() -> None:
    dummy = Dummy(profile="POS-5890")
    dummy.qr("http://q/t/1", ec=1, size=7, native=True)
    assert commands.qr_native("http://q/t/1", 7, "M") == dummy.output


@pytest.mark.parametrize(
    "text",
    [
        "Queue：A001",  # full-width colon without hanzi: python-escpos's text() prints '?'
        "「」，。；！？",
        "￥12.50",
        "䶮 㛃 𠮷",  # rare name characters: Extension A (2- and 4-byte codes) and B (4 bytes)
        "王䶮、李㛃、𠮷田",
    ],
)
def test_every_character_is_sent_as_gb18030_never_as_question_mark(text: str) -> None:
    data = render(Document("t", (Text(text),)), 58, "native").data
    assert text.encode("gb18030") in data
    assert b"?" not in data
    assert emulate(data, 384).lines[0] == text


def test_rare_characters_have_their_gb18030_codes() -> None:
    data = render(Document("t", (Text("䶮㛃𠮷"),)), 80, "native").data
    assert b"\xfe\x9f" + b"\x82\x30\xb7\x31" + b"\x95\x34\xb2\x35" in data


def test_half_width_yen_becomes_the_full_width_sign_gbk_printers_know() -> None:
    data = render(Document("t", (Text("¥8"),)), 58, "native").data
    assert b"\xa3\xa48" in data  # ￥ is A3A4
    assert "¥".encode("gb18030") not in data


def test_control_characters_in_text_cannot_become_printer_commands() -> None:
    data = render(Document("t", (Text("A\x1b@B\x1dV\x00C"),)), 58, "native").data
    assert b"A@BVC\n" in data
    assert data.count(b"\x1b@") == 1


@pytest.mark.parametrize(("paper", "columns"), [(58, 32), (80, 48)])
def test_wrapping_counts_a_hanzi_as_two_columns(paper: int, columns: int) -> None:
    text = "一" * columns  # twice as wide as a line
    printout = emulate(render(Document("t", (Text(text),)), paper, "native").data, PAPER_PIXELS[paper])
    assert printout.lines == ["一" * (columns // 2), "一" * (columns // 2)]
    assert printout.overflows == 0


@pytest.mark.parametrize("paper", [58, 80])
def test_mixed_text_lines_never_exceed_the_paper(paper: int) -> None:
    text = "申请人Zhang San（张三）需携带ID card原件，手机号13800138000，费用￥12.50。" * 4
    printout = emulate(render(Document("t", (Text(text, prefix="材料："),)), paper, "native").data, PAPER_PIXELS[paper])
    assert printout.overflows == 0
    assert "".join(line.strip() for line in printout.lines).replace(" ", "") == ("材料：" + text).replace(" ", "")


@pytest.mark.parametrize("paper", [58, 80])
def test_documents_fit_the_paper(paper: int) -> None:
    for rendered in (
        render_receipt(sample_receipt(), paper, "native"),
        render_notice(sample_notice(), paper, "native"),
        render_supplement(sample_supplement(), paper, "native"),
    ):
        printout = emulate(rendered.data, PAPER_PIXELS[paper])
        assert printout.overflows == 0
        assert printout.cuts == 1
        assert rendered.data.startswith(b"\x1b@\x1c&")


def test_tick_boxes_use_the_gbk_box() -> None:
    data = render_notice(sample_notice(), 80, "native").data
    assert "□".encode("gb18030") in data  # A1F5
    assert "☐".encode("gb18030") not in data


def test_substitutes_leave_other_text_alone() -> None:
    assert native.prepare("☐ ¥ 中文：") == "□ ￥ 中文："
