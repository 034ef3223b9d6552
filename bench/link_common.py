"""Shared by the link benchmarks (link_ingest.py, link_catchup.py): configurations, a township's real log, tokens.

- `write_configs`: a county center and N townships, each a copy of the demo hall (queue_server/demo/halls.py, as
  `bianmin demo county` writes them), the townships' `[halls.link]` pointing at the county's port.
- `make_log`: a township's real event log: its `bianmin serve` on a fresh SQLite file, its accounts and kiosk made
  in-process, and the simulator's days played through its HTTP API (queue_server/simulation/driver.py: the kiosk
  issues, the clerks call, start, finish with a case class, citizens rate), while its county is down.
- `read_log`: the log's rows, as the township ships them.
- `county_template`: a migrated county database with one link token per township (as `bianmin link add`), to copy.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ServerProcess, bianmin_server, free_port

PASSWORD = "bench-password-42"
FIELDS = ("seq", "type", "at", "actor", "window", "post", "ticket_id", "payload", "public")  # as shipped


@dataclass(frozen=True)
class Configs:
    county: Path
    townships: dict[str, Path]  # hall id → its hall file
    tokens: dict[str, Path]  # hall id → its link token file


def places(count: int) -> list[Any]:
    from queue_server.demo.halls import TOWNSHIPS, Place

    extra = [Place(f"t{n:02d}", f"第{n}镇便民服务中心", f"Town {n} Convenience Service Center", f"第{n}镇")
             for n in range(len(TOWNSHIPS) + 1, count + 1)]  # fmt: skip
    return [*TOWNSHIPS, *extra][:count]


def write_configs(folder: Path, townships: int, county_url: str) -> Configs:
    from queue_server.demo.halls import write_county, write_township

    chosen = places(townships)
    tokens = {p.id: folder / "townships" / p.id / "link.token" for p in chosen}
    files = [write_township(folder, p, county_url, tokens[p.id]) for p in chosen]
    county = write_county(folder, files, chosen)
    return Configs(county, {p.id: f for p, f in zip(chosen, files, strict=True)}, tokens)


def seed_township(config: Path, db: Path, hall: str) -> str:
    """The township's clerks and manager (password PASSWORD) and its kiosk's token, in its database."""
    from config.loader import load_config
    from queue_server.demo.seeding import seed_township as seed
    from queue_server.server import open_store
    from queue_server.services.accounts import hash_password

    loaded = load_config(config)
    store = open_store(loaded, db)
    try:
        return seed(store, loaded.hall(hall), hash_password(PASSWORD))
    finally:
        store.close()


def township_server(config: Path, db: Path, log: Path) -> ServerProcess:
    return bianmin_server(db, free_port(), log, config)


def make_log(config: Path, db: Path, hall: str, log: Path, *, days: int, load: float, speed: float, seed: int = 7
             ) -> Counter[str]:  # fmt: skip
    """Play `days` simulated days in the township (a new database at `db`); what the driver did, by action."""
    from config.loader import load_config
    from queue_server.simulation.driver import HallDriver

    kiosk = seed_township(config, db, hall)
    with township_server(config, db, log) as server:
        driver = HallDriver(server.url, load_config(config).hall(hall), kiosk, PASSWORD, speed, seed, load)
        asyncio.run(driver.run(days=days))
    if driver.errors:
        print(f"  (the driver's first refusals: {'; '.join(driver.errors[:3])})")
    return driver.counts


def copy_database(source: Path, dest: Path) -> None:
    """A consistent copy of an SQLite database, its write-ahead log included (sqlite3's backup)."""
    with sqlite3.connect(source) as src, sqlite3.connect(dest) as out:
        src.backup(out)


def read_log(db: Path, hall: str) -> list[dict[str, Any]]:
    """The hall's events in seq order, each as the shipper sends it."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT {', '.join(FIELDS)} FROM events WHERE hall = ? ORDER BY seq", (hall,))
        return [dict(row) for row in rows]


def county_template(cluster: Any, name: str, county: Path, tokens: dict[str, Path]) -> dict[str, str]:
    """A migrated county database `name` (to copy with CREATE DATABASE ... TEMPLATE) with each township's link token
    (written to its file too); the tokens by hall."""
    from config.loader import load_config
    from queue_server.link.cli import make_token
    from queue_server.server import open_store

    store = open_store(load_config(county), cluster.create_database(name))
    try:
        made = {hall: make_token(store, hall) for hall in tokens}
    finally:
        store.close()
    for hall, path in tokens.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(made[hall] + "\n", encoding="utf-8")
    return made
