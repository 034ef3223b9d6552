"""The accounts and tokens of the county demo's halls (one password for all), written before their servers start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Connection, func, select

from config.schema import Hall
from queue_server.link.cli import make_token
from queue_server.services import accounts
from queue_server.store.tables import events, users
from queue_server.store.writer import Store, to_us

ADMIN = "admin"  # the county's administrator (every hall): the link status and the county page
MANAGER = "director"  # each township's manager: its wall
KIOSK = "kiosk-1"


def add_account(store: Store, username: str, name: str, role: accounts.Role, password: accounts.PasswordHash,
                halls: frozenset[str] | None) -> None:  # fmt: skip
    """Add the account, or give an existing one (a database given to the demo) this password."""

    def add(conn: Connection, now: dt.datetime) -> None:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first() is None:
            accounts.add_user(conn, to_us(now), username, name, role, password, halls)
        else:
            accounts.set_password(conn, username, password)

    store.run_global_sync(add)


def seed_county(store: Store, password: accounts.PasswordHash, tokens: dict[str, Path]) -> None:
    """The county's administrator, and each township's link token (as `bianmin link add`) in its file (mode 600)."""
    add_account(store, ADMIN, "县管理员（演示）", accounts.Role.ADMIN, password, None)
    for hall, path in tokens.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make_token(store, hall) + "\n", encoding="utf-8")


def seed_township(store: Store, hall: Hall, password: accounts.PasswordHash) -> str:
    """The township's manager and clerks (each window's A post); the new token of its kiosk."""
    add_account(store, MANAGER, "中心主任（演示）", accounts.Role.MANAGER, password, frozenset({hall.id}))
    for username in sorted({w.a_post for w in hall.windows if w.a_post}):
        add_account(store, username, f"{username}（演示）", accounts.Role.CLERK, password, frozenset({hall.id}))
    return store.run_global_sync(lambda conn, now: accounts.add_device(conn, to_us(now), hall.id, KIOSK))


def halls_with_events(store: Store, halls: list[str]) -> list[str]:
    """Which of these halls the database holds events of."""

    def held(conn: Connection, _now: dt.datetime) -> list[str]:
        query = select(events.c.hall, func.count()).where(events.c.hall.in_(halls)).group_by(events.c.hall)
        return sorted(str(row[0]) for row in conn.execute(query))

    return store.run_global_sync(held, invalidates=False)
