"""Building and running a server: configuration, database, migrations, demo accounts, uvicorn."""

from __future__ import annotations

import datetime as dt
import gc
import math
import os
import secrets
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Connection

from config.calendar import build_calendar
from config.schema import HallConfig, KioskDevice
from queue_server.api.state import ConfigSource
from queue_server.services import accounts
from queue_server.services.loading import catch_up, load_runtime, roll_day
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.writer import Clock, Store, to_us, utc_now


def open_store(config: HallConfig, db: str | Path, clock: Clock = utc_now, *, migrate: bool = True) -> Store:
    """A store on the database (migrated to the newest schema unless told not to), wired to the services."""
    engine = make_engine(db)
    if migrate:
        upgrade(engine)
    store = Store(engine, config, build_calendar(config.calendar), clock)
    store.loader = load_runtime
    store.catch_up = catch_up
    store.before_each = roll_day
    return store


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: accounts.Role
    password: str


DEMO_NAMES = {
    "admin": "系统管理员",
    "director": "中心主任",
}


def seed_demo(store: Store, out: Path) -> list[str]:
    """First start of the demo hall: create staff accounts and kiosk tokens, and say so.

    The passwords and tokens are random, printed once and written to `out` (mode 600); nothing is
    created when the database already has users.
    """
    lines: list[str] = []
    if store.run_global_sync(lambda conn, _now: accounts.count_users(conn)) > 0:
        return lines
    wanted: list[tuple[str, str, accounts.Role]] = [
        ("admin", DEMO_NAMES["admin"], accounts.Role.ADMIN),
        ("director", DEMO_NAMES["director"], accounts.Role.MANAGER),
    ]
    for hall in store.config.halls:
        for window in hall.windows:
            for username in (window.a_post, window.b_post):
                if username and username not in {w[0] for w in wanted}:
                    wanted.append((username, f"{username}（演示）", accounts.Role.CLERK))
    lines.append("Demo accounts (演示账号) — change or remove them before real use:")
    for username, name, role in wanted:
        password = secrets.token_urlsafe(9)
        store.run_global_sync(partial(_add_user, username=username, name=name, role=role, password=password))
        lines.append(f"  {role.value:8} {username:12} password: {password}")
    for hall in store.config.halls[:1]:  # a village agent of each point of the demo hall: /agent/{hall}
        for point in hall.agent_points:
            username, password = f"agent-{point.id}"[:48], secrets.token_urlsafe(9)
            store.run_global_sync(partial(_add_agent, username=username, name=f"{point.name_zh}代办员（演示）",
                                          hall=hall.id, point=point.id, password=password))  # fmt: skip
            lines.append(f"  agent    {username:12} password: {password}  (/agent/{hall.id}, {point.name_zh})")
    lines.append("Kiosk device tokens (取号机令牌):")
    for hall in store.config.halls:
        for device in hall.devices:
            if isinstance(device, KioskDevice):
                token = store.run_global_sync(partial(_add_device, hall=hall.id, device=device.id))
                lines.append(f"  {hall.id}/{device.id}: {token}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.chmod(0o600)
    lines.append(f"(also written to {out})")
    return lines


def _add_user(
    conn: Connection, now: dt.datetime, *, username: str, name: str, role: accounts.Role, password: str
) -> None:
    accounts.add_user(conn, to_us(now), username, name, role, password)


def _add_agent(
    conn: Connection, now: dt.datetime, *, username: str, name: str, hall: str, point: str, password: str
) -> None:
    accounts.add_user(conn, to_us(now), username, name, accounts.Role.AGENT, password, [hall], point=point)


def _add_device(conn: Connection, now: dt.datetime, *, hall: str, device: str) -> str:
    return accounts.add_device(conn, to_us(now), hall, device)


def quiet_collector() -> None:
    """What exists now (configuration, catalogue, imported code) lives as long as the server: keep it out of
    the collector's sight, and collect young objects less often. A server holds a day's tickets and a thousand
    connections; full collections over them otherwise stall issuance and broadcasts."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


#: How long a thread may hold the interpreter before one waiting for it gets it (Python's default: 5 ms).
SWITCH_INTERVAL_S = 0.0005


def switch_interval() -> float:
    """The interval to run with: SWITCH_INTERVAL_S, or the environment's BIANMIN_SWITCH_INTERVAL_S (seconds, for
    measuring); a ValueError says what is wrong with the latter."""
    chosen = os.environ.get("BIANMIN_SWITCH_INTERVAL_S")
    if not chosen:
        return SWITCH_INTERVAL_S
    try:
        interval = float(chosen)
    except ValueError:
        interval = math.nan
    if not 0 < interval <= 1:
        raise ValueError(f"BIANMIN_SWITCH_INTERVAL_S must be seconds, more than 0 and at most 1, not {chosen!r}")
    return interval


def prompt_threads() -> None:
    """Hand the interpreter over sooner between the server's threads. The writer thread waits for the database at
    every statement of a transaction; when the answer is there, it needs the interpreter back, which the event
    loop may hold for a whole broadcast. With Python's 5 ms it waited up to 5 ms per statement; at 0.5 ms a
    call-next under a county's load answers 5–10 ms sooner (p50 of about 55 ms; bench/county_day.py with
    BIANMIN_SWITCH_INTERVAL_S=0.005 to compare)."""
    sys.setswitchinterval(switch_interval())


#: uvicorn's settings for every way of running the server (one process, or workers).
UVICORN = {
    "ws_per_message_deflate": False,  # small messages: compression costs more than it saves
    "ws_max_size": 64 * 1024,
    # Longer than the usual 5 s of HTTP clients' pools, so a kiosk never reuses a connection the server
    # is just closing (which surfaces as a spurious read error on the client).
    "timeout_keep_alive": 15,
    "log_level": "info",
    "access_log": False,
}


def run(store: Store, host: str, port: int, config_file: Path | None = None) -> None:
    import uvicorn

    from queue_server.api.app import create_app

    app = create_app(store, config_source=config_reader(config_file))
    quiet_collector()
    prompt_threads()
    try:
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, **UVICORN)).run()  # type: ignore[arg-type]
    finally:
        store.close()
        sys.stdout.flush()


def config_reader(config_file: Path | None) -> ConfigSource:
    """Reads the server's configuration again (the bundled demo hall when none was given), with the county's
    documents a hall runs, or other files in their place (link down checks a fetched version so)."""
    from config.loader import default_config_path, load_config

    return partial(load_config, config_file or default_config_path())


def run_workers(config_file: Path | None, db: str, host: str, port: int, workers: int) -> None:
    """Several server processes on one port (uvicorn's workers); each opens its own store on the database.

    The database must be one that several processes can share (PostgreSQL, or an SQLite file on a local
    disk); the migrations have already run in this parent process.
    """
    import os

    import uvicorn

    os.environ["BIANMIN_DB"] = db
    os.environ["BIANMIN_CONFIG"] = str(config_file) if config_file else ""
    uvicorn.run("queue_server.asgi:create", factory=True, host=host, port=port, workers=workers, **UVICORN)  # type: ignore[arg-type]
