"""`bianmin calendar ...`: add a year's official holiday schedule (放假安排) to a configuration's calendar."""

from __future__ import annotations

import glob
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from config.calendar import build_calendar, config_notice
from config.loader import LOCAL_CALENDAR, ConfigError, check_calendar_file, default_config_path, load_config
from config.schema import CalendarYear, HallConfig


@click.group()
def calendar() -> None:
    """The working-day calendar: the State Council's holiday schedule, one file per year."""


@calendar.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="hall configuration (TOML) whose calendar gets the year; default: the bundled demo hall",
)
@click.option("--replace", is_flag=True, help="replace a different file of the same year already installed")
def add(file: Path, config_file: Path | None, replace: bool) -> None:
    """Check FILE (one year: `year = 2027` and its [[holidays]]) and install it into the configuration's calendar.

    \b
    The file is checked as `bianmin config check` checks a calendar file, then copied as YEAR.toml into the
    folder the configuration's `calendar` patterns name (without `calendar`: the `calendar/` folder beside the
    configuration's main file, whose years take the place of the bundled ones), and the whole configuration
    is checked again. Any problem: nothing is changed, exit 1.
    """
    main = config_file or default_config_path()
    year, problems = check_calendar_file(file)
    if year is None:
        _fail(problems, f"{file} is not a valid calendar file; nothing was installed")
    target = _folder(main) / f"{year.year}.toml"
    text = file.read_bytes()
    before = target.read_bytes() if target.exists() else None
    if before == text:
        click.echo(f"{target} already holds this schedule of {year.year}; nothing to do")
        return
    if before is not None and not replace:
        raise click.ClickException(
            f"{target} already holds a schedule of {year.year} (已有该年日历); give --replace to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    try:
        loaded = load_config(main)
    except ConfigError as error:
        _undo(target, before)
        _fail(error.problems, f"with {target} the configuration {main} fails its check; nothing was installed")
    if not _serves(loaded, year):
        _undo(target, before)
        raise click.ClickException(
            f"the configuration {main} does not read {target}: its `calendar` patterns do not match it, or the "
            "county's calendar gives that year; nothing was installed"
        )
    ends = build_calendar(loaded.calendar).ends()
    click.echo(f"installed {file} as {target}: the calendar now runs to {ends} (工作日历已添加{year.year}年)")
    notice = config_notice(loaded, datetime.now(UTC))
    if notice is not None:
        click.echo(f"warning: {notice}")
    click.echo(
        "a running server uses it after POST /api/v1/config/reload or a restart; "
        "a county publishes it to its townships with `bianmin link publish`"
    )


def _folder(main: Path) -> Path:
    """Where the configuration keeps its calendar files: the folder of its first `calendar` pattern."""
    try:
        with main.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise click.ClickException(f"cannot read {main}: {error} (run `bianmin config check {main}`)") from None
    patterns = data.get("calendar")
    if patterns is None:
        return main.parent / LOCAL_CALENDAR
    for pattern in patterns if isinstance(patterns, list) else []:
        folder = Path(str(pattern)).parent
        if not glob.has_magic(str(folder)):
            return main.parent / folder
    raise click.ClickException(f"{main}: its `calendar` patterns name no plain folder to add a year to")


def _serves(loaded: HallConfig, year: CalendarYear) -> bool:
    return any(given == year for given in loaded.calendar)


def _undo(target: Path, before: bytes | None) -> None:
    if before is None:
        target.unlink()
    else:
        target.write_bytes(before)


def _fail(problems: Sequence[object], summary: str) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    raise click.ClickException(summary)
