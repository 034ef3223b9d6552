"""The staff and device audit: account and device changes and login lockouts, who did them, when, from where.

Written in the same transaction as the change (the accounts' run_global), read by a hall's supervisors on the
manager dashboard's audit tab beside the hall's event log. A row names the halls it concerns (the account's
halls before and after the change, a device's hall); None is every hall (an administrator of every hall, a
locked address), which every hall's supervisors see. Details never hold a password, a hash or a token.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from queue_server.store.tables import staff_audit

ACTIONS = {
    "staff.added": ("新建账号", "account added"),
    "staff.changed": ("修改账号", "account changed"),
    "staff.password_reset": ("重置密码", "password reset"),
    "login.locked": ("登录锁定", "login locked"),
    "device.added": ("登记设备", "device registered"),
    "device.revoked": ("吊销设备", "device revoked"),
}


@dataclass(frozen=True)
class Entry:
    id: int
    at_us: int
    actor: str | None
    action: str
    subject: str | None
    halls: list[str] | None
    source: str | None
    details: dict[str, Any]


def record(
    conn: Connection,
    now_us: int,
    action: str,
    *,
    actor: str | None,
    subject: str | None,
    halls: Collection[str] | None,
    source: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an audit row (in the caller's transaction)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown staff audit action {action!r}")
    conn.execute(
        insert(staff_audit).values(
            at=now_us,
            actor=actor,
            action=action,
            subject=subject,
            halls=None if halls is None else "," + ",".join(sorted(halls)) + ",",
            source=source,
            details=json.dumps(details or {}, ensure_ascii=False, default=str),
        )
    )


def read(conn: Connection, hall: str, *, before: int | None = None, limit: int = 100) -> list[Entry]:
    """The rows concerning `hall` (and every hall), newest first, before the row `before`."""
    pattern = "%," + hall.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%"
    concerned = or_(staff_audit.c.halls.is_(None), staff_audit.c.halls.like(pattern, escape="\\"))
    query = select(staff_audit).where(concerned)
    if before is not None:
        query = query.where(staff_audit.c.id < before)
    rows = conn.execute(query.order_by(staff_audit.c.id.desc()).limit(limit)).all()
    return [
        Entry(r.id, r.at, r.actor, r.action, r.subject, _halls(r.halls), r.source, json.loads(r.details)) for r in rows
    ]


def _halls(stored: str | None) -> list[str] | None:
    return None if stored is None else [h for h in stored.split(",") if h]
