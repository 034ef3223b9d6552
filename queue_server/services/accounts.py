"""Staff accounts, login sessions and device tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from queue_server.errors import BadRequest, Conflict, NotFound, TooManyRequests, Unauthorized
from queue_server.store.tables import devices, sessions, users

SESSION_HOURS = 12
FREE_FAILURES = 3  # failed logins allowed before each further attempt is made to wait
MAX_LOCK_S = 15 * 60
STAFF_TOKEN_PREFIX = "bms_"
DEVICE_TOKEN_PREFIX = "bmd_"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,47}$")

_hasher = PasswordHasher()
# Verifying against this when a username does not exist keeps the answer's timing the same.
_DUMMY_HASH = _hasher.hash("not a real password")


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CLERK = "clerk"

    @property
    def label_zh(self) -> str:
        return {"admin": "系统管理员", "manager": "中心主任", "clerk": "窗口工作人员"}[self.value]


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: Role

    @property
    def supervises(self) -> bool:
        return self.role in (Role.ADMIN, Role.MANAGER)


@dataclass(frozen=True)
class Device:
    hall: str
    device: str


@dataclass(frozen=True)
class LoginResult:
    token: str
    staff: Staff
    expires_at_us: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < 8:
        raise BadRequest("a password needs at least 8 characters (密码至少8位)")
    if len(password) > 200:
        raise BadRequest("a password may have at most 200 characters")


def add_user(conn: Connection, now_us: int, username: str, display_name: str, role: Role, password: str) -> Staff:
    if not USERNAME.match(username):
        raise BadRequest(
            "a username is 2–48 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 64:
        raise BadRequest("a display name has 1 to 64 characters")
    check_password_rules(password)
    if conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None:
        raise Conflict(f"user {username} already exists")
    inserted = conn.execute(
        insert(users).values(
            username=username,
            display_name=display_name,
            role=role.value,
            password_hash=_hasher.hash(password),
            active=True,
            failed_logins=0,
            locked_until=None,
            created_at=now_us,
        )
    ).inserted_primary_key
    assert inserted is not None
    return Staff(inserted[0], username, display_name, role)


def count_users(conn: Connection) -> int:
    return len(conn.execute(select(users.c.id)).all())


def login(conn: Connection, now_us: int, username: str, password: str) -> LoginResult:
    """Check a password; repeated failures make the next attempt wait longer and longer."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not row.active:
        _verify(_DUMMY_HASH, password)
        raise Unauthorized("wrong username or password (用户名或密码错误)")
    if row.locked_until is not None and row.locked_until > now_us:
        wait_s = max(1, (row.locked_until - now_us + 999_999) // 1_000_000)
        raise TooManyRequests(f"too many failed logins: try again in {wait_s} s (登录失败次数过多，请稍后再试)", wait_s)
    if not _verify(row.password_hash, password):
        failures = row.failed_logins + 1
        lock_s = 0 if failures <= FREE_FAILURES else min(MAX_LOCK_S, 2 ** (failures - FREE_FAILURES))
        conn.execute(
            update(users)
            .where(users.c.id == row.id)
            .values(failed_logins=failures, locked_until=now_us + lock_s * 1_000_000 if lock_s else None)
        )
        raise Unauthorized("wrong username or password (用户名或密码错误)")
    conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None))
    token = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now_us + SESSION_HOURS * 3600 * 1_000_000
    conn.execute(
        insert(sessions).values(token_hash=token_hash(token), user_id=row.id, created_at=now_us, expires_at=expires)
    )
    conn.execute(delete(sessions).where(sessions.c.expires_at < now_us))
    return LoginResult(token, Staff(row.id, row.username, row.display_name, Role(row.role)), expires)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def logout(conn: Connection, token: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


def staff_for_token(conn: Connection, now_us: int, token: str) -> Staff | None:
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.active, sessions.c.expires_at)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash(token))
    ).first()
    if row is None or not row.active or row.expires_at <= now_us:
        return None
    return Staff(row.id, row.username, row.display_name, Role(row.role))


def add_device(conn: Connection, now_us: int, hall: str, device: str) -> str:
    """Register (or re-key) a device and return its new token; only its hash is stored."""
    token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(delete(devices).where(devices.c.hall == hall, devices.c.device == device))
    conn.execute(
        insert(devices).values(hall=hall, device=device, token_hash=token_hash(token), created_at=now_us, revoked=False)
    )
    return token


def revoke_device(conn: Connection, hall: str, device: str) -> None:
    result = conn.execute(
        update(devices).where(devices.c.hall == hall, devices.c.device == device).values(revoked=True)
    )
    if result.rowcount == 0:
        raise NotFound(f"no device {device} registered in hall {hall}")


def device_for_token(conn: Connection, token: str) -> Device | None:
    row = conn.execute(
        select(devices.c.hall, devices.c.device, devices.c.revoked).where(devices.c.token_hash == token_hash(token))
    ).first()
    if row is None or row.revoked:
        return None
    return Device(row.hall, row.device)


class DeviceCache:
    """Device tokens checked on every issuance are cached for a short while (revocation takes ≤ ttl)."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Device | None]] = {}

    def get(self, token: str) -> tuple[bool, Device | None]:
        entry = self._entries.get(token_hash(token))
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, token: str, device: Device | None) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash(token)] = (time.monotonic() + self.ttl_s, device)
