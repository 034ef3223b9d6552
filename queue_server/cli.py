"""The `bianmin` command and its sub-commands."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from config.calendar import config_notice
from config.calendar_cli import calendar as calendar_group
from config.cli import config as config_group
from config.loader import ConfigError, default_config_path, load_config
from config.schema import TOKEN_DEVICES, HallConfig
from display_board.cli import board as board_command
from kiosk.cli import kiosk as kiosk_command
from printer.cli import print_preview, print_test
from queue_server.demo.cli import demo as demo_group
from queue_server.devices.cli import devices as devices_command
from queue_server.link.cli import link as link_group
from queue_server.simulation.cli import simulate
from queue_server.store.cli import db as db_group

DEFAULT_DB = Path("var") / "bianmin.db"


def _load(config_file: Path | None) -> HallConfig:
    path = config_file or default_config_path()
    try:
        return load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"the configuration {path} has {len(error.problems)} problem(s); nothing was started "
            f"(run `bianmin config check {path}`)"
        ) from None


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="hall configuration (TOML); default: the bundled demo hall",
)
db_option = click.option(
    "--db", default=str(DEFAULT_DB), show_default=True, help="SQLite file path, or a database URL (postgresql://...)"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bianmin")
def main() -> None:
    """便民 Bianmin: kiosk and queue management for government-service halls."""


main.add_command(config_group)
main.add_command(calendar_group)
main.add_command(simulate)
main.add_command(board_command)
main.add_command(kiosk_command)
main.add_command(print_test)
main.add_command(print_preview)
main.add_command(db_group)
main.add_command(link_group)  # bianmin link add HALL (a county's township tokens)
main.add_command(demo_group)  # bianmin demo county
main.add_command(devices_command)  # bianmin devices: LED strips and caller keypads


@main.command()
@config_option
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (0.0.0.0 for the hall LAN)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="server processes sharing the port and the database (a county center on PostgreSQL: 2 or more)",
)
def serve(config_file: Path | None, db: str, host: str, port: int, workers: int) -> None:
    """Run the queue server (HTTP API, websockets, documentation at /docs)."""
    from queue_server.server import open_store, run, run_workers, seed_demo, switch_interval

    loaded = _load(config_file)
    try:
        switch_interval()
    except ValueError as error:
        raise click.ClickException(f"{error}; nothing was started") from None
    from sqlalchemy.exc import OperationalError

    notice = config_notice(loaded, datetime.now(UTC))
    if notice is not None:  # from 60 days before the working-day calendar runs out: say so at every start
        click.echo(f"warning: {notice}", err=True)

    try:
        store = open_store(loaded, db)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except OperationalError as error:  # the database cannot be reached or opened: say so, without a traceback
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        raise click.ClickException(f"cannot open the database (无法连接数据库): {reason}") from None
    if config_file is None:
        db_dir = Path(db).parent if "://" not in db else Path("var")
        for line in seed_demo(store, db_dir / "demo-accounts.txt"):
            click.echo(line)
    halls = ", ".join(f"{h.id} ({h.name_zh})" for h in loaded.halls)
    processes = f" with {workers} processes" if workers > 1 else ""
    click.echo(f"Serving {halls} on http://{host}:{port}{processes}  (API docs: http://{host}:{port}/docs)")
    if workers == 1:
        run(store, host, port, config_file)
        return
    store.close()
    run_workers(config_file, db, host, port, workers)


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="the name shown on boards and in reports, e.g. 张丽")
@click.option(
    "--role",
    type=click.Choice(["clerk", "manager", "admin", "county_manager", "city_manager", "agent"]),
    default="clerk",
    show_default=True,
)
@click.option(
    "--hall",
    "halls",
    multiple=True,
    help="a hall the account belongs to (repeat for several); default: the configuration's only hall,"
    " or every hall for an admin",
)
@click.option("--county", help="a county manager's county: the configuration's [county] id (its dashboard /county/ID)")
@click.option("--city", help="a city manager's city: the configuration's [city] id (its rollup /city/ID)")
@click.option("--point", help="a village agent's point: one of its hall's agent_points (its page /agent/HALL)")
@config_option
@db_option
def user_add(
    username: str,
    display_name: str,
    role: str,
    halls: tuple[str, ...],
    county: str | None,
    city: str | None,
    point: str | None,
    config_file: Path | None,
    db: str,
) -> None:
    """Add a staff account; the password is read from standard input (one line)."""
    from queue_server.errors import ServiceError
    from queue_server.server import open_store
    from queue_server.services import accounts, staff_audit
    from queue_server.store.writer import to_us

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password on standard input")
    loaded = _load(config_file)
    if role == "county_manager" or county is not None:
        scope: frozenset[str] | None = _county_manager_scope(loaded, role, county, halls)
    elif role == "city_manager" or city is not None:
        scope = _city_manager_scope(loaded, role, city, halls)
    elif role == "agent" or point is not None:
        if role != "agent":
            raise click.ClickException("--point goes with --role agent, and a village agent needs --point")
        known = [h.id for h in loaded.halls]
        points = {h.id: [p.id for p in h.agent_points] for h in loaded.halls}
        try:
            scope = accounts.agent_hall(points, halls or (known if len(known) == 1 else ()), point)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    else:
        try:
            scope = accounts.default_halls(accounts.Role(role), halls, [h.id for h in loaded.halls])
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    store = open_store(loaded, db)

    def add(conn: Any, now: Any) -> None:
        accounts.add_user(
            conn, to_us(now), username, display_name, accounts.Role(role), password, scope, county, city, point
        )
        details = {"role": role, "display_name": display_name, **({"point": point} if point else {})}
        staff_audit.record(conn, to_us(now), "staff.added", actor=_cli_actor(), subject=username, halls=scope,
                           details=details)  # fmt: skip

    try:
        store.run_global_sync(add)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
    if county is not None:
        click.echo(f"added {role} {username} ({display_name}) of county {county}: its dashboard is /county/{county}")
        return
    if city is not None:
        click.echo(f"added {role} {username} ({display_name}) of city {city}: its rollup is /city/{city}")
        return
    if point is not None:
        click.echo(f"added agent {username} ({display_name}) of point {point} in {', '.join(sorted(scope or ()))}:"
                   f" its page is /agent/{next(iter(scope or ()), '')}")  # fmt: skip
        return
    click.echo(f"added {role} {username} ({display_name}) of {', '.join(sorted(scope)) if scope else 'every hall'}")


def _county_manager_scope(loaded: HallConfig, role: str, county: str | None, halls: tuple[str, ...]) -> frozenset[str]:
    """A county manager's (empty) halls, once its --county is the configuration's county."""
    if role != "county_manager" or county is None:
        raise click.ClickException("--county goes with --role county_manager, and a county manager needs --county")
    if halls:
        raise click.ClickException("a county manager belongs to no hall (--hall): it sees the county's dashboard")
    if loaded.county is None or loaded.county.id != county:
        known = loaded.county.id if loaded.county else "none: the configuration has no [county]"
        raise click.ClickException(f"no county {county!r} in the configuration (its county: {known})")
    return frozenset()


def _city_manager_scope(loaded: HallConfig, role: str, city: str | None, halls: tuple[str, ...]) -> frozenset[str]:
    """A city manager's (empty) halls, once its --city is the configuration's city."""
    if role != "city_manager" or city is None:
        raise click.ClickException("--city goes with --role city_manager, and a city manager needs --city")
    if halls:
        raise click.ClickException("a city manager belongs to no hall (--hall): it sees the city's rollup")
    if loaded.city is None or loaded.city.id != city:
        known = loaded.city.id if loaded.city else "none: the configuration has no [city]"
        raise click.ClickException(f"no city {city!r} in the configuration (its city: {known})")
    return frozenset()


@main.group()
def device() -> None:
    """Device tokens: kiosks, LED strips and caller keypads."""


@device.command("add")
@click.argument("hall")
@click.argument("device_id")
@config_option
@db_option
def device_add(hall: str, device_id: str, config_file: Path | None, db: str) -> None:
    """Register a kiosk, LED strip, caller keypad or evaluator pad of HALL (named in the configuration) and print its
    new token."""
    from queue_server.server import open_store
    from queue_server.services import accounts, staff_audit
    from queue_server.store.writer import to_us

    loaded = _load(config_file)
    try:
        hall_config = loaded.hall(hall)
    except KeyError:
        raise click.ClickException(f"no hall {hall!r} in the configuration") from None
    kiosks = [d.id for d in hall_config.devices if isinstance(d, TOKEN_DEVICES)]
    if device_id not in kiosks:
        raise click.ClickException(
            f"{device_id!r} is not a kiosk, LED strip, caller or evaluator pad of hall {hall}; "
            f"they are: {', '.join(kiosks) or 'none'}"
        )
    store = open_store(loaded, db)

    def add(conn: Any, now: Any) -> str:
        staff_audit.record(conn, to_us(now), "device.added", actor=_cli_actor(), subject=device_id, halls=[hall])
        return accounts.add_device(conn, to_us(now), hall, device_id)

    try:
        token = store.run_global_sync(add)
    finally:
        store.close()
    click.echo(token)


@device.command("revoke")
@click.argument("hall")
@click.argument("device_id")
@config_option
@db_option
def device_revoke(hall: str, device_id: str, config_file: Path | None, db: str) -> None:
    """Revoke the token of device DEVICE_ID of HALL: every server on the database refuses it within a second."""
    from queue_server.errors import ServiceError
    from queue_server.server import open_store
    from queue_server.services import accounts, staff_audit
    from queue_server.store.writer import to_us

    store = open_store(_load(config_file), db)

    def revoke(conn: Any, now: Any) -> None:
        accounts.revoke_device(conn, hall, device_id)
        staff_audit.record(conn, to_us(now), "device.revoked", actor=_cli_actor(), subject=device_id, halls=[hall])

    try:
        store.run_global_sync(revoke)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
    click.echo(f"revoked {device_id} of {hall} (已吊销)")


def _cli_actor() -> str:
    """Who ran the command, for the staff audit: the operating system's user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


if __name__ == "__main__":  # pragma: no cover
    main()
