"""`bianmin config ...`: commands for a hall administrator's configuration files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click

from config.calendar import config_notice
from config.loader import ConfigError, load_config
from config.schema import HallConfig


@click.group()
def config() -> None:
    """Check the hall configuration files."""


@config.command()
@click.argument("file", type=click.Path(path_type=Path))
def check(file: Path) -> None:
    """Check FILE (a hall's main TOML file) and every file it names; list every problem found."""
    try:
        loaded = load_config(file)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(str(problem))
        count = len(error.problems)
        click.echo(f"{count} problem{'' if count == 1 else 's'} found")
        raise click.exceptions.Exit(1) from None
    click.echo(summary(file, loaded))
    notice = config_notice(loaded, datetime.now(UTC))
    if notice is not None:  # a warning, not a problem: the configuration still serves
        click.echo(f"warning: {notice}")


def summary(file: Path, loaded: HallConfig) -> str:
    """What the configuration holds, hall by hall, so the administrator sees it is the one they meant."""
    lines = [f"{file}: OK"]
    for hall in loaded.halls:
        kinds = Counter(device.kind for device in hall.devices)
        devices = ", ".join(f"{count} {kind}{'' if count == 1 else 's'}" for kind, count in sorted(kinds.items()))
        lines += [
            f"hall {hall.id} {hall.name_zh}:",
            f"  {_plural(len(hall.categories), 'category', 'categories')}, {_plural(len(hall.items), 'service item')}, "
            f"{_plural(len(hall.windows), 'window')}",
            f"  {_plural(len(hall.devices), 'device')}" + (f" ({devices})" if devices else ""),
        ]
        if hall.agent_points:
            sit_in = sum(point.sit_in for point in hall.agent_points)
            lines.append(
                f"  {_plural(len(hall.agent_points), 'village agent point')}"
                + (f" ({sit_in} sit-in)" if sit_in else "")
            )
    if loaded.city is not None:
        counties = _plural(len(loaded.counties), "county", "counties")
        lines.append(
            f"city {loaded.city.id} {loaded.city.name_zh}: {counties}, {_plural(len(loaded.townships), 'hall')}"
        )
        lines += [f"  county {c.id} {c.name_zh}: {', '.join(c.halls)}" for c in loaded.counties]
    elif loaded.townships:
        lines.append(f"townships reporting here: {', '.join(hall.id for hall in loaded.townships)}")
    if loaded.county is not None and loaded.county.link is not None:
        lines.append(f"relays every hall to the city at {loaded.county.link.url}")
    years = ", ".join(str(year.year) for year in sorted(loaded.calendar, key=lambda year: year.year))
    lines.append(f"calendar years: {years or 'none (only weekends are days off)'}")
    for document in loaded.documents:  # link down: what the county published, in use here
        replaced = f", in the place of {len(document.replaced)} local" if document.replaced else ""
        lines.append(f"county {document.kind} version {document.version} ({document.file}{replaced})")
    return "\n".join(lines)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
