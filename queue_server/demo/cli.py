"""`bianmin demo county`: see the three-level linkage (三级联动) working on one machine, in one command."""

from __future__ import annotations

import click


@click.group()
def demo() -> None:
    """Demonstrations on this machine (演示)."""


@demo.command("county")
@click.option("--townships", default=3, show_default=True, type=click.IntRange(1, 3), help="township halls")
@click.option("--speed", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="simulated seconds per real second (60: a working day in about 6½ minutes)")  # fmt: skip
@click.option("--load", default=0.7, show_default=True, type=click.FloatRange(0.05, 1.5),
              help="demand as the windows' mean utilization")  # fmt: skip
@click.option("--seed", default=1, show_default=True, type=int, help="random seed of the simulated traffic")
@click.option("--db", help="the county's PostgreSQL (postgresql://USER@HOST/DB, an empty database); default: a "
              "throwaway cluster of PostgreSQL's binaries if installed, else SQLite")  # fmt: skip
@click.option("--keep", is_flag=True, help="keep the demo's files (configuration, databases, logs) after it stops")
def county(townships: int, speed: float, load: float, seed: int, db: str | None, keep: bool) -> None:
    """A county center and its township halls on this machine, linked (联动上报), with simulated traffic.

    \b
    Each township is its own `bianmin serve` on SQLite on a loopback port, shipping its events to the county
    (on PostgreSQL); a driver per township plays the simulator's days through its HTTP API. The URLs to open
    and the demo's password are printed; Ctrl-C stops everything and removes the files (unless --keep).
    """
    from queue_server.demo.county import CountyDemo, DemoError, Settings

    settings = Settings(townships=townships, speed=speed, load=load, seed=seed, db=db, keep=keep)
    try:
        CountyDemo(settings, say=lambda line: click.echo(line)).run()
    except (DemoError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
