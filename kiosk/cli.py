"""`bianmin kiosk`: the touch-screen ticket machine at the hall's door.

The kiosk needs three things: the server's URL, its device id, and its device token (from
`bianmin device add HALL DEVICE`). Everything else — the hall, its printer — it reads from the
server (`GET /api/v1/halls/{hall}/devices/me`). The token is a secret: it is read from a file
(`--token-file`, readable by the kiosk's user only) or from the environment variable
BIANMIN_DEVICE_TOKEN, never from the command line, where every user of the machine could read it
in the process list.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path

import click

TOKEN_ENV = "BIANMIN_DEVICE_TOKEN"


def _size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter("expected WIDTHxHEIGHT, e.g. 1080x1920") from None
    if not (320 <= width <= 7680 and 240 <= height <= 7680):
        raise click.BadParameter("the size must be between 320x240 and 7680x7680")
    return width, height


def read_token(token_file: Path | None, environ: dict[str, str]) -> str:
    """The device token from the file, else from BIANMIN_DEVICE_TOKEN; a clear error when there is none."""
    if token_file is not None:
        mode = token_file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            click.echo(f"warning: {token_file} can be read by other users; chmod 600 it", err=True)
        token = token_file.read_text(encoding="utf-8").strip()
        if not token:
            raise click.BadParameter(f"{token_file} is empty", param_hint="--token-file")
        return token
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise click.UsageError(
            f"no device token: put it in a file given with --token-file (chmod 600), or in the environment "
            f"variable {TOKEN_ENV}. A new kiosk gets its token from `bianmin device add HALL DEVICE` on the server."
        )
    return token


@click.command("kiosk")
@click.option("--server", required=True, help="the queue server, e.g. http://192.168.1.10:8000")
@click.option(
    "--device", "device_id", required=True, help="this kiosk's device id in the hall configuration, e.g. kiosk-1"
)
@click.option("--hall", default=None, help="hall id; default: the server's only hall, or the one that knows this kiosk")
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=f"file holding the device token (default: the environment variable {TOKEN_ENV})",
)
@click.option("--fullscreen", is_flag=True, help="fill the screen, hide the pointer, ignore Escape (a kiosk)")
@click.option("--size", default="1080x1920", show_default=True, callback=_size, help="window size when not fullscreen")
@click.option(
    "--idle-timeout", type=click.FloatRange(10, 3600), default=60.0, show_default=True,
    help="seconds without a touch after which the kiosk goes back to its home screen",
)  # fmt: skip
@click.option(
    "--virtual-printer-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var") / "printer",
    show_default=True,
    help="where a printer configured as virtual writes its jobs",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var") / "kiosk",
    show_default=True,
    help="where the kiosk keeps its print queue (spool-<printer>.sqlite3), so a restart prints each receipt once",
)
def kiosk(
    server: str,
    device_id: str,
    hall: str | None,
    token_file: Path | None,
    fullscreen: bool,
    size: tuple[int, int],
    idle_timeout: float,
    virtual_printer_dir: Path,
    data_dir: Path,
) -> None:
    """Run the touch-screen ticket kiosk (Kivy): categories, items, tickets, and the receipt printer."""
    from kiosk.client import api_base

    try:
        api_base(server)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--server") from None
    token = read_token(token_file, dict(os.environ))
    from kiosk.kivy_setup import KivyMissing, prepare_kivy

    try:
        prepare_kivy(*size, fullscreen=fullscreen)
    except KivyMissing as error:
        raise click.ClickException(str(error)) from None
    # Kivy is imported from here on (after prepare_kivy, so it leaves our arguments alone).
    from kiosk.app import run_kiosk
    from kiosk.controller import KioskOptions

    options = KioskOptions(
        server=server, device=device_id, token=token, hall=hall, idle_timeout_s=idle_timeout,
        virtual_root=virtual_printer_dir, data_dir=data_dir,
    )  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_kiosk(options))
