"""Every colour the kiosk puts white text on, and every text colour on its light grounds, reaches 4.5:1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.contrast import MIN_TEXT_CONTRAST, ratio, white_text_ratio
from kiosk.kivy_shell import hex_colour
from kiosk.theme import PALETTE
from tests.support.server import demo_config

KV = (Path(__file__).resolve().parents[2] / "kiosk" / "kiosk.kv").read_text(encoding="utf-8")
TONES = sorted(set(re.findall(r'tone: "([a-z_]+)"', KV)) | set(re.findall(r'"([a-z_]+)" if root\.ready', KV)))
HALL = demo_config().hall("qingshan")


def test_the_kv_file_names_the_tones_of_its_buttons() -> None:
    assert {"primary", "secondary", "green", "teal", "grey", "key"} <= set(TONES)


@pytest.mark.parametrize("tone", [t for tone in TONES for t in (tone, tone + "_down")])
def test_white_text_on_every_button_tone(tone: str) -> None:
    assert ratio(PALETTE["bar_text"], PALETTE[tone]) >= MIN_TEXT_CONTRAST, tone


@pytest.mark.parametrize("category", HALL.categories, ids=lambda c: c.name_zh)
def test_white_text_on_every_category_tile_as_drawn(category: object) -> None:
    drawn = hex_colour(category.colour)  # type: ignore[attr-defined]
    pressed = [c * 0.75 for c in drawn[:3]]  # kiosk.kv: the tile while a finger is on it
    assert ratio((1, 1, 1), drawn) >= MIN_TEXT_CONTRAST
    assert ratio((1, 1, 1), pressed) >= MIN_TEXT_CONTRAST


@pytest.mark.parametrize("text", ["text", "dim", "number", "ok", "warn", "secondary", "green"])
@pytest.mark.parametrize("ground", ["panel", "background"])
def test_coloured_text_on_the_light_grounds(text: str, ground: str) -> None:
    assert ratio(PALETTE[text], PALETTE[ground]) >= MIN_TEXT_CONTRAST, (text, ground)


def test_the_colours_the_issue_measured() -> None:
    """民政 3.7, 财政 3.5, 农林 3.3 and 绿色通道 4.3 before; the contrast function agrees with those figures."""
    assert round(white_text_ratio("#1E88E5"), 1) == 3.7
    assert round(white_text_ratio("#F4511E"), 1) == 3.5
    assert round(white_text_ratio("#43A047"), 1) == 3.3
    assert round(ratio((1, 1, 1), (0.12, 0.55, 0.24)), 1) == 4.3
    names = {c.code: c.colour for c in HALL.categories}
    for code in ("minzheng", "caizheng", "nonglin"):
        assert white_text_ratio(names[code]) >= MIN_TEXT_CONTRAST
