"""`bianmin board`: the hall's display board, or the board above one window."""

from __future__ import annotations

import asyncio
import logging

import click

from queue_server.feed import FeedSettings, board_url


def _size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter("expected WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise click.BadParameter("the size must be between 320x240 and 7680x4320")
    return width, height


@click.command("board")
@click.option("--server", required=True, help="the queue server, e.g. http://192.168.1.10:8000")
@click.option("--hall", default=None, help="hall id; default: the server's only hall")
@click.option("--window", type=click.IntRange(1, 999), default=None, help="show the board above this window")
@click.option("--fullscreen", is_flag=True, help="fill the screen (a hall TV)")
@click.option("--size", default="1920x1080", show_default=True, callback=_size, help="window size when not fullscreen")
@click.option("--no-sound", is_flag=True, help="show calls without saying them")
@click.option(
    "--announce-max-age",
    type=click.FloatRange(0, 3600),
    default=60.0,
    show_default=True,
    help="seconds after which a call missed during a network blip is shown but no longer said",
)
def board(
    server: str,
    hall: str | None,
    window: int | None,
    fullscreen: bool,
    size: tuple[int, int],
    no_sound: bool,
    announce_max_age: float,
) -> None:
    """Run a display board: the latest calls, the windows, the queues, and voice calling."""
    try:
        board_url(server, hall or "hall", None)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--server") from None
    from display_board.kivy_setup import KivyMissing, prepare_kivy

    try:
        prepare_kivy(*size, fullscreen=fullscreen)
    except KivyMissing as error:
        raise click.ClickException(str(error)) from None
    # Kivy is imported from here on (after prepare_kivy, so it leaves our arguments alone).
    from display_board.app import run_board
    from display_board.controller import BoardOptions
    from display_board.sound import KivySoundPlayer

    feed = FeedSettings(announce_max_age_s=announce_max_age)
    options = BoardOptions(server=server, hall=hall, window=window, sound=not no_sound, feed=feed)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_board(options, KivySoundPlayer()))
