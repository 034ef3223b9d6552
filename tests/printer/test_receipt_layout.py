"""The compact receipt (the default): 8-10 cm at 80 mm, every fact kept; the full one stays an option (point 5)."""

from __future__ import annotations

import pytest
import zxingcpp

from config.schema import PrinterDevice
from printer.layout.emulator import emulate
from printer.layout.render import render_notice, render_receipt
from printer.model import PAPER_PIXELS
from tests.printer.conftest import TRACK_URL, sample_notice, sample_receipt

DOTS_PER_MM = 8  # 203 dpi


def length_mm(paper: int, mode: str, layout: str) -> float:
    rendered = render_receipt(sample_receipt(), paper, mode, layout=layout)  # type: ignore[arg-type]
    return rendered.preview.height / DOTS_PER_MM


def test_compact_is_the_default_everywhere() -> None:
    assert PrinterDevice(kind="printer", id="p", name="打印机").receipt_layout == "compact"
    assert render_receipt(sample_receipt()).data == render_receipt(sample_receipt(), layout="compact").data


@pytest.mark.parametrize("mode", ["raster", "native"])
def test_the_compact_ticket_is_8_to_10_cm_at_80_mm_and_much_shorter_than_the_full(mode: str) -> None:
    compact, full = length_mm(80, mode, "compact"), length_mm(80, mode, "full")
    assert 80 <= compact <= 100, compact
    assert full >= 140 and compact <= 0.7 * full
    assert length_mm(58, mode, "compact") <= 0.75 * length_mm(58, mode, "full")
    assert length_mm(58, "raster", "compact") <= 100


@pytest.mark.parametrize("paper", [58, 80])
def test_the_compact_ticket_keeps_every_fact_and_its_qr_reads(paper: int) -> None:
    data = sample_receipt()
    raster = render_receipt(data, paper)  # type: ignore[arg-type]
    assert [code.text for code in zxingcpp.read_barcodes(raster.preview.convert("L"))] == [TRACK_URL]
    lines = "".join(emulate(render_receipt(data, paper, "native").data, PAPER_PIXELS[paper]).lines)  # type: ignore[arg-type]
    text = lines.replace(" ", "")
    for fact in ("A012", data.hall_name_zh, "计生服务·生育登记", "1号", "10号", "前面还有3人等候", "约21分钟",
                 "2025-03-0409:15", "过号", "0731-85623119", "Window1/10", "Scantofollow", "绿色通道"):  # fmt: skip
        assert fact in text, fact
    assert text.index(data.hall_name_zh) < text.index("A012") < text.index("计生服务")  # Chinese first


def test_the_notice_checklist_is_complete() -> None:
    notice = sample_notice()
    lines = "".join(emulate(render_notice(notice, 58, "native").data, PAPER_PIXELS[58]).lines).replace(" ", "")
    for material in notice.materials:
        assert material.name.replace(" ", "") in lines
    for part in (*notice.conditions, *notice.procedure, notice.department, notice.fee_basis):
        assert part.replace(" ", "")[:10] in lines
