"""The print-test and print-preview commands."""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from click.testing import CliRunner
from PIL import Image

from config.loader import default_config_path
from printer.cli import SAMPLE_TRACK_PATH, print_preview, print_test


def test_preview_of_an_item_notice(tmp_path: Path) -> None:
    out = tmp_path / "notice.png"
    result = CliRunner().invoke(
        print_preview,
        ["--item", "laobao-pension-enrolment", "--paper", "58", "--out", str(out), "--bin", str(tmp_path / "n.bin")],
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as picture:
        assert picture.width == 384
    assert (tmp_path / "n.bin").read_bytes().startswith(b"\x1b@")
    assert "一次性告知单" in result.output


def test_preview_of_a_sample_ticket_in_native_mode(tmp_path: Path) -> None:
    out = tmp_path / "ticket.png"
    result = CliRunner().invoke(print_preview, ["--ticket", "e012", "--mode", "native", "--out", str(out)])
    assert result.exit_code == 0, result.output
    picture = Image.open(out)
    assert picture.width == 576
    assert [r.text for r in zxingcpp.read_barcodes(picture.convert("L"))] == [
        "http://localhost:8000" + SAMPLE_TRACK_PATH
    ]


def test_preview_needs_exactly_one_subject(tmp_path: Path) -> None:
    result = CliRunner().invoke(print_preview, ["--out", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "exactly one" in result.output
    result = CliRunner().invoke(print_preview, ["--item", "nope", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "no service item 'nope'" in result.output
    result = CliRunner().invoke(print_preview, ["--ticket", "Q1", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "prefix 'Q'" in result.output


def test_print_test_to_the_virtual_printer(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        print_test, ["--config", str(default_config_path()), "--printer", "printer-1", "--virtual-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "printer status: online" in result.output
    assert sorted(p.name for p in (tmp_path / "printer-1").iterdir()) == ["1.bin", "1.png"]


def test_print_test_names_the_printers_there_are(tmp_path: Path) -> None:
    result = CliRunner().invoke(print_test, ["--printer", "nope", "--virtual-dir", str(tmp_path)])
    assert result.exit_code == 2 and "printer-1" in result.output
