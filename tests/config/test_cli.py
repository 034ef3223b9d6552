"""`bianmin config check FILE`: a summary and exit 0, or every problem and exit 1."""

from __future__ import annotations

from click.testing import CliRunner

from config.cli import config
from tests.config.conftest import HallFiles


def test_check_a_good_file_prints_a_summary(hall_files: HallFiles) -> None:
    result = CliRunner().invoke(config, ["check", str(hall_files.main)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{hall_files.main}: OK\n"
        "hall test 测试镇便民服务中心:\n"
        "  2 categories, 3 service items, 2 windows\n"
        "  3 devices (1 board, 1 kiosk, 1 printer)\n"
        "calendar years: 2030\n"
    )


def test_check_a_bad_file_prints_every_problem(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'prefix = "C"', 'prefx = "C"')
    hall_files.edit("items/jisheng.toml", "copies = 2", 'copies = "两份"')
    result = CliRunner().invoke(config, ["check", str(hall_files.main)])
    assert result.exit_code == 1
    main, items = hall_files.main, hall_files.root / "items/jisheng.toml"
    assert result.output.splitlines() == [
        f"{main}:26: halls[0].categories[1].prefix: missing: every category needs a prefix letter (票号字母)",
        f'{main}:28: halls[0].categories[1].prefx: unknown field "prefx" in a category (did you mean "prefix"?)',
        f'{items}:30: items[1].materials[0].copies: expected a whole number from 1 to 20, got "两份"',
        "3 problems found",
    ]


def test_check_says_one_problem_in_the_singular(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "number = 2", "number = 1")
    result = CliRunner().invoke(config, ["check", str(hall_files.main)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "1 problem found"


def test_check_a_missing_file(hall_files: HallFiles) -> None:
    missing = hall_files.root / "nothing.toml"
    result = CliRunner().invoke(config, ["check", str(missing)])
    assert result.exit_code == 1
    assert result.output == f"{missing}: file not found\n1 problem found\n"


def test_check_needs_a_file() -> None:
    result = CliRunner().invoke(config, ["check"])
    assert result.exit_code == 2
    assert "Missing argument 'FILE'" in result.output


def test_the_group_has_help() -> None:
    result = CliRunner().invoke(config, ["--help"])
    assert result.exit_code == 0
    assert "check" in result.output
