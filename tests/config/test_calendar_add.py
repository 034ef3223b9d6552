"""`bianmin calendar add FILE`, and the warning from 60 days before the calendar runs out (config check, serve)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from config.calendar import WARN_DAYS, build_calendar, calendar_notice
from config.cli import config as config_group
from config.loader import load_config
from config.schema import CalendarYear
from queue_server.cli import main
from tests.config.conftest import HallFiles
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
YEAR_2031 = """\
year = 2031

[[holidays]]
name_zh = "国庆节"
name_en = "National Day"
start = 2031-10-01
end = 2031-10-07
makeup_workdays = [2031-09-28, 2031-10-11]
"""


def _year(year: int) -> str:
    """A valid schedule of any year: three days of National Day, no make-up workday (their weekdays vary)."""
    return (
        f'year = {year}\n\n[[holidays]]\nname_zh = "国庆节"\nname_en = "National Day"\n'
        f"start = {year}-10-01\nend = {year}-10-03\n"
    )


def test_notice_starts_sixty_days_before_the_last_day() -> None:
    calendar = build_calendar([CalendarYear(year=2026)])
    assert calendar_notice(calendar, date(2026, 10, 31)) is None  # 61 days left
    notice = calendar_notice(calendar, date(2026, 11, 1))
    assert notice is not None and notice.days_left == WARN_DAYS and notice.year_needed == 2027
    assert "2026-12-31" in notice.message_zh and "2027" in notice.message_en
    ran_out = calendar_notice(calendar, date(2027, 1, 5))
    assert ran_out is not None and ran_out.days_left == -5 and "暂定" in ran_out.message_zh
    assert "provisional" in ran_out.message_en
    assert calendar_notice(build_calendar([]), date(2026, 1, 1)) is not None  # no year at all


def test_add_installs_the_year_into_the_configurations_calendar_folder(hall_files: HallFiles, tmp_path: Path) -> None:
    new = tmp_path / "download" / "2031-holidays.toml"
    new.parent.mkdir()
    new.write_text(YEAR_2031, encoding="utf-8")
    result = CliRunner().invoke(main, ["calendar", "add", str(new), "--config", str(hall_files.main)])
    assert result.exit_code == 0, result.output
    installed = hall_files.root / "calendar" / "2031.toml"
    assert installed.read_text(encoding="utf-8") == YEAR_2031
    assert "the calendar now runs to 2031-12-31" in result.output
    checked = CliRunner().invoke(config_group, ["check", str(hall_files.main)])
    assert "calendar years: 2030, 2031" in checked.output
    again = CliRunner().invoke(main, ["calendar", "add", str(new), "--config", str(hall_files.main)])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_a_bad_file_is_refused_with_its_problems_and_nothing_installed(hall_files: HallFiles, tmp_path: Path) -> None:
    bad = tmp_path / "2031.toml"
    bad.write_text(YEAR_2031.replace("2031-09-28", "2031-09-29"), encoding="utf-8")  # a Monday
    result = CliRunner().invoke(main, ["calendar", "add", str(bad), "--config", str(hall_files.main)])
    assert result.exit_code == 1
    assert "make-up workday (调休上班日) 2031-09-29 is a Monday" in result.output
    assert "nothing was installed" in result.output
    assert not (hall_files.root / "calendar" / "2031.toml").exists()
    misnamed = tmp_path / "2032.toml"
    misnamed.write_text(YEAR_2031, encoding="utf-8")  # a copied file whose year was not edited
    result = CliRunner().invoke(main, ["calendar", "add", str(misnamed), "--config", str(hall_files.main)])
    assert result.exit_code == 1 and "name it 2031.toml" in result.output


def test_another_schedule_of_an_installed_year_needs_replace(hall_files: HallFiles, tmp_path: Path) -> None:
    other = tmp_path / "2030.toml"
    other.write_text(hall_files.root.joinpath("calendar/2030.toml").read_text().replace("10-07", "10-06"), "utf-8")
    result = CliRunner().invoke(main, ["calendar", "add", str(other), "--config", str(hall_files.main)])
    assert result.exit_code == 1 and "--replace" in result.output
    assert "2030-10-07" in (hall_files.root / "calendar" / "2030.toml").read_text()
    result = CliRunner().invoke(main, ["calendar", "add", str(other), "--config", str(hall_files.main), "--replace"])
    assert result.exit_code == 0, result.output
    holidays = load_config(hall_files.main).calendar[0].holidays
    assert holidays[0].end == date(2030, 10, 6)


def test_without_a_calendar_key_the_year_goes_beside_the_main_file_with_the_bundled_years(
    hall_files: HallFiles, tmp_path: Path
) -> None:
    hall_files.edit("hall.toml", 'calendar = ["calendar/*.toml"]\n', "")
    (hall_files.root / "calendar" / "2030.toml").unlink()
    bundled = {year.year for year in load_config(hall_files.main).calendar}
    assert 2026 in bundled and 2031 not in bundled
    new = tmp_path / "new.toml"
    new.write_text(YEAR_2031, encoding="utf-8")
    result = CliRunner().invoke(main, ["calendar", "add", str(new), "--config", str(hall_files.main)])
    assert result.exit_code == 0, result.output
    assert (hall_files.root / "calendar" / "2031.toml").exists()
    assert {year.year for year in load_config(hall_files.main).calendar} == bundled | {2031}


def test_a_configuration_that_lists_files_by_name_is_left_alone(hall_files: HallFiles, tmp_path: Path) -> None:
    hall_files.edit("hall.toml", 'calendar = ["calendar/*.toml"]', 'calendar = ["calendar/2030.toml"]')
    new = tmp_path / "2031.toml"
    new.write_text(YEAR_2031, encoding="utf-8")
    result = CliRunner().invoke(main, ["calendar", "add", str(new), "--config", str(hall_files.main)])
    assert result.exit_code == 1 and "does not read" in result.output
    assert not (hall_files.root / "calendar" / "2031.toml").exists()


def test_config_check_warns_once_the_calendar_has_run_out(hall_files: HallFiles) -> None:
    last_year = date.today().year - 1
    (hall_files.root / "calendar" / "2030.toml").unlink()
    hall_files.write(f"calendar/{last_year}.toml", _year(last_year))
    result = CliRunner().invoke(config_group, ["check", str(hall_files.main)])
    assert result.exit_code == 0, result.output  # a warning, not a problem
    warning = result.output.splitlines()[-1]
    assert warning.startswith(f"warning: 工作日历已于{last_year}-12-31到期")
    assert f"the working-day calendar ended on {last_year}-12-31" in warning


def test_config_check_says_nothing_far_from_the_end(hall_files: HallFiles) -> None:
    result = CliRunner().invoke(config_group, ["check", str(hall_files.main)])  # the test hall runs to 2030
    assert result.exit_code == 0 and "warning" not in result.output


def test_serve_warns_at_its_start(hall_files: HallFiles, tmp_path: Path) -> None:
    last_year = date.today().year - 1
    (hall_files.root / "calendar" / "2030.toml").unlink()
    hall_files.write(f"calendar/{last_year}.toml", _year(last_year))
    port = free_port()
    command = [sys.executable, "-m", "queue_server.cli", "serve", "--config", str(hall_files.main)]
    command += ["--db", str(tmp_path / "hall.db"), "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as child:
        assert child.stdout is not None
        try:
            seen = []
            for line in child.stdout:
                seen.append(line)
                if "Serving" in line or len(seen) > 50:
                    break
        finally:
            child.terminate()
            child.wait(timeout=20)
    assert any(line.startswith(f"warning: 工作日历已于{last_year}-12-31到期") for line in seen), seen
