"""Every service item of the bundled catalogue prints its one-time notice on both paper widths."""

from __future__ import annotations

import datetime as dt

import pytest

from config.loader import default_config_path, load_config
from printer.layout.emulator import decode_raster, emulate
from printer.layout.render import render_notice
from printer.model import PAPER_PIXELS, notice_data

HALL = load_config(default_config_path()).halls[0]
BASE = "https://bianmin.example.cn/guide"


def test_the_catalogue_is_there() -> None:
    assert len(HALL.items) >= 80


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("item_id", [item.id for item in HALL.items])
def test_notice_renders(item_id: str, paper: int) -> None:
    data = notice_data(HALL.item(item_id), HALL, dt.date(2025, 3, 4), guide_base_url=BASE)
    raster = render_notice(data, paper)  # type: ignore[arg-type]
    assert decode_raster(raster.data).size == raster.preview.size
    printout = emulate(render_notice(data, paper, "native").data, PAPER_PIXELS[paper])  # type: ignore[arg-type]
    assert printout.overflows == 0
    assert any(data.item_name_zh[:4] in line for line in printout.lines)
