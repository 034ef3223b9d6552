"""`bianmin devices --config FILE`: drive the hall's LED strips and caller keypads (docs/devices.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import click


@click.command("devices")
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the bridge's TOML file: the server, the hall, and each device's window, port and token file",
)
@click.option("--check", is_flag=True, help="validate the file and the token files, print the devices, and exit")
@click.option("-v", "--verbose", is_flag=True, help="log every frame decision (debug)")
def devices(config_file: Path, check: bool, verbose: bool) -> None:
    """Drive window LED strips (条屏) and caller keypads (呼叫器) over serial, RS485 or TCP.

    The strips follow the hall's board websocket and show each window's current number; a caller's keys
    call next, recall, start, finish (即办件) or pause its window through the server's window routes with
    the caller's device token (`bianmin device add HALL ID`), acting as the clerk who opened the window
    while that clerk is signed in. A device that goes away is reported on the manager's wall and
    reconnected with back-off. Exit code 2: a bad configuration (every problem printed).
    """
    from queue_server.devices.settings import SettingsError, load_settings

    try:
        settings = load_settings(config_file)
    except SettingsError as error:
        click.echo(f"error: the device configuration is not valid:\n{error}", err=True)
        raise SystemExit(2) from None
    for device in settings.devices:
        transport = device.transport
        where = f"tcp {transport.host}:{transport.port}" if transport.type == "tcp" else f"serial {transport.port}"
        click.echo(f"{device.kind} {device.id}: window {device.window}, {where}, {device.protocol} ({device.encoding})")
    if check:
        return
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    asyncio.run(_run(settings))


async def _run(settings: object) -> None:
    from queue_server.devices.bridge import Bridge

    bridge = Bridge(settings)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, bridge.stop)
    await bridge.run()
