"""Staff accounts, login sessions and device tokens."""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, or_, select, update

from queue_server.errors import BadRequest, Conflict, Forbidden, NotFound
from queue_server.services import staff_audit, throttle
from queue_server.store.tables import devices, sessions, staff_halls, users

SESSION_HOURS = 12
STAFF_TOKEN_PREFIX = "bms_"
DEVICE_TOKEN_PREFIX = "bmd_"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,47}$")

# argon2id with RFC 9106's memory and passes (64 MiB, 3 passes) in one lane: a login takes one core for
# ~0.17 s, never both of a hall PC's two (the library's default of 4 lanes runs 4 threads); a flood of wrong
# passwords then leaves the other core to the kiosks and boards (bench/login_flood.py). Hashes made with other
# parameters (older ones: 4 lanes) still verify: the parameters are part of each stored hash.
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)
# Verifying against this when a username does not exist keeps the answer's timing the same.
_DUMMY_HASH = _hasher.hash("not a real password")


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CLERK = "clerk"
    COUNTY_MANAGER = "county_manager"  # sees its county's dashboard (every hall of the county), nothing else
    CITY_MANAGER = "city_manager"  # sees its city's rollup (every county of the city), nothing else
    AGENT = "agent"  # a village agent (村级代办员) of one point of one hall: the agent page /agent/{hall} only

    @property
    def label_zh(self) -> str:
        return {"admin": "系统管理员", "manager": "中心主任", "clerk": "窗口工作人员", "county_manager": "县级主管",
                "city_manager": "市级主管", "agent": "村级代办员"}[self.value]  # fmt: skip

    @property
    def regional(self) -> bool:
        """A county or city manager: an account of a county or city, acting in no hall."""
        return self in (Role.COUNTY_MANAGER, Role.CITY_MANAGER)


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: Role
    halls: frozenset[str] | None = None  # the halls this account may act in; None: every hall
    county: str | None = None  # a county manager's county
    city: str | None = None  # a city manager's city
    point: str | None = None  # a village agent's point (config Hall.agent_points) in its one hall

    @property
    def supervises(self) -> bool:
        return self.role in (Role.ADMIN, Role.MANAGER)

    def may_act_in(self, hall: str) -> bool:
        return self.halls is None or hall in self.halls

    def may_see_county(self, county: str) -> bool:
        """A county's dashboard: its county managers, and administrators of every hall."""
        if self.role is Role.COUNTY_MANAGER:
            return self.county == county
        return self.role is Role.ADMIN and self.halls is None

    def check_county(self, county: str) -> None:
        if not self.may_see_county(county):
            raise Forbidden(
                f"您的账号无权查看县级看板 {county}（仅限该县的县级主管或全部大厅的系统管理员）"
                f" (only the county managers of {county} and administrators of every hall see its dashboard)"
            )

    def may_see_city(self, city: str) -> bool:
        """A city's rollup: its city managers, and administrators of every hall."""
        if self.role is Role.CITY_MANAGER:
            return self.city == city
        return self.role is Role.ADMIN and self.halls is None

    def check_city(self, city: str) -> None:
        if not self.may_see_city(city):
            raise Forbidden(
                f"您的账号无权查看市级汇总 {city}（仅限该市的市级主管或全部大厅的系统管理员）"
                f" (only the city managers of {city} and administrators of every hall see its rollup)"
            )

    def check_hall(self, hall: str) -> None:
        """Refuse an action in a hall this account does not belong to."""
        if self.role is Role.CITY_MANAGER:
            raise Forbidden(
                f"您的账号不属于服务大厅 {hall}：市级主管只能查看市级汇总 /city/{self.city}"
                f" (a city manager's account sees the city rollup /city/{self.city} only)"
            )
        if self.role is Role.COUNTY_MANAGER:
            raise Forbidden(
                f"您的账号不属于服务大厅 {hall}：县级主管只能查看县级看板 /county/{self.county}"
                f" (a county manager's account sees the county dashboard /county/{self.county} only)"
            )
        if not self.may_act_in(hall):
            mine = "、".join(sorted(self.halls or ())) or "无 none"
            raise Forbidden(
                f"您的账号不属于服务大厅 {hall}（所属大厅：{mine}）"
                f" (your account does not belong to hall {hall}; your halls: {', '.join(sorted(self.halls or ()))})"
            )


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


@dataclass(frozen=True)
class PasswordHash:
    """A new password that passed the rules, hashed ahead (off the writer thread): stored as it is."""

    value: str


def hash_password(password: str) -> PasswordHash:
    """Check a new password's rules and hash it: argon2, ~0.2 s of CPU, so the API does it off the writer."""
    check_password_rules(password)
    return PasswordHash(_hasher.hash(password))


def _stored(password: str | PasswordHash) -> str:
    return password.value if isinstance(password, PasswordHash) else hash_password(password).value


def check_halls(halls: Iterable[str], known: Collection[str]) -> frozenset[str]:
    """The halls named for an account, each one a hall of the configuration; at least one."""
    named = frozenset(halls)
    unknown = sorted(named - set(known))
    if unknown:
        raise BadRequest(f"没有该服务大厅 no such hall: {', '.join(unknown)} (halls: {', '.join(sorted(known))})")
    if not named:
        raise BadRequest("an account needs at least one hall, or all halls (账号至少属于一个服务大厅)")
    return named


def default_halls(role: Role, named: Collection[str], known: Collection[str]) -> frozenset[str] | None:
    """The halls of a new account when some or none are named: none means the only hall, or every hall for an admin."""
    if named:
        return check_halls(named, known)
    if role is Role.ADMIN:
        return None
    if len(known) == 1:
        return frozenset(known)
    raise BadRequest(f"name the account's halls (请指定所属大厅) with --hall: one or more of {', '.join(known)}")


def agent_hall(points: Mapping[str, Collection[str]], halls: Collection[str], point: str | None) -> frozenset[str]:
    """An agent's one hall, once `point` is one of its agent points (`points`: each hall's point ids)."""
    if point is None:
        raise BadRequest("a village agent needs its point (村级代办员须指定代办点 --point)")
    named = frozenset(halls)
    if len(named) != 1:
        raise BadRequest("a village agent belongs to exactly one hall, its point's (代办员只属于一个大厅 --hall)")
    (hall,) = named
    if point not in points.get(hall, ()):
        known = ", ".join(sorted(points.get(hall, ()))) or "none"
        raise BadRequest(f"没有该代办点 hall {hall} has no agent point {point!r} (its points: {known})")
    return named


def halls_of(conn: Connection, user_id: int, all_halls: bool) -> frozenset[str] | None:
    if all_halls:
        return None
    return frozenset(r.hall for r in conn.execute(select(staff_halls.c.hall).where(staff_halls.c.user_id == user_id)))


def account_halls(conn: Connection, username: str) -> frozenset[str] | None:
    """The halls of the account `username` (None: every hall); NotFound when there is no such account."""
    row = _account_row(conn, username)
    return halls_of(conn, row.id, row.all_halls)


def _set_halls(conn: Connection, user_id: int, halls: frozenset[str] | None) -> None:
    conn.execute(delete(staff_halls).where(staff_halls.c.user_id == user_id))
    conn.execute(update(users).where(users.c.id == user_id).values(all_halls=halls is None))
    if halls:
        conn.execute(insert(staff_halls), [{"user_id": user_id, "hall": h} for h in sorted(halls)])


def add_user(
    conn: Connection,
    now_us: int,
    username: str,
    display_name: str,
    role: Role,
    password: str | PasswordHash,
    halls: Collection[str] | None = None,
    county: str | None = None,
    city: str | None = None,
    point: str | None = None,
) -> Staff:
    """A new account, belonging to `halls` (checked against the configuration by the caller); None: every hall.

    A county manager belongs to no hall and has its `county`, a city manager its `city` (both checked against
    the configuration by the caller).
    """
    if not USERNAME.match(username):
        raise BadRequest(
            "a username is 2–48 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 64:
        raise BadRequest("a display name has 1 to 64 characters")
    if isinstance(password, str):
        check_password_rules(password)
    if (role is Role.COUNTY_MANAGER) != (county is not None):
        raise BadRequest("a county manager, and only a county manager, has a county (县级主管须指定所属县 --county)")
    if (role is Role.CITY_MANAGER) != (city is not None):
        raise BadRequest("a city manager, and only a city manager, has a city (市级主管须指定所属市 --city)")
    if (role is Role.AGENT) != (point is not None):
        raise BadRequest("a village agent, and only a village agent, has a point (村级代办员须指定代办点 --point)")
    if role is Role.AGENT and (halls is None or len(halls) != 1):
        raise BadRequest("a village agent belongs to exactly one hall, its point's (代办员只属于一个大厅)")
    if role.regional:
        halls = frozenset()  # it acts in no hall: it sees the county's dashboard or the city's rollup
    if conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None:
        raise Conflict(f"user {username} already exists")
    inserted = conn.execute(
        insert(users).values(
            username=username,
            display_name=display_name,
            role=role.value,
            password_hash=_stored(password),
            active=True,
            failed_logins=0,
            locked_until=None,
            created_at=now_us,
            all_halls=halls is None,
            county=county,
            city=city,
            point=point,
        )
    ).inserted_primary_key
    assert inserted is not None
    scope = None if halls is None else frozenset(halls)
    _set_halls(conn, inserted[0], scope)
    return Staff(inserted[0], username, display_name, role, scope, county, city, point)


def count_users(conn: Connection) -> int:
    return len(conn.execute(select(users.c.id)).all())


WRONG_LOGIN = "wrong username or password (用户名或密码错误)"


@dataclass(frozen=True)
class LoginAttempt:
    """What the first step of a login found: the account (None when unknown or deactivated) and the hash to check.

    An unknown account is checked against a dummy hash, so it costs the same time as a wrong password.
    """

    user_id: int | None
    password_hash: str


def begin_login(conn: Connection, now_us: int, username: str, source: str) -> LoginAttempt:
    """Look the account up (a read): TooManyRequests while the username is locked from `source` or `source` is
    (services/throttle.py), else what to check the password against."""
    throttle.refuse_if_locked(conn, now_us, source, username)
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not row.active:
        return LoginAttempt(None, _DUMMY_HASH)
    return LoginAttempt(row.id, row.password_hash)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash: argon2, ~0.2 s of CPU and no I/O, so never on the writer thread."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def finish_login(
    conn: Connection, now_us: int, attempt: LoginAttempt, password_ok: bool, username: str, source: str
) -> LoginResult | None:
    """Record a checked password (a short write): a new session, or None when the username or password is wrong.

    A wrong password (or an unknown username: the same answer, the same count) is counted for the username
    from `source` and for `source`, and repeated failures make the next attempt from there wait longer and
    longer; each lock taken goes into the staff audit. The counts are read again here, on the writer, so
    concurrent failures are all counted, and an attempt that finishes after a lock, a deactivation or a new
    password is refused as it would have been had it started later. The failure is returned rather than
    raised so that the caller's transaction commits the count (the caller answers it with WRONG_LOGIN).
    """
    throttle.refuse_if_locked(conn, now_us, source, username)
    row = None if attempt.user_id is None else conn.execute(select(users).where(users.c.id == attempt.user_id)).first()
    if row is not None and (not row.active or row.password_hash != attempt.password_hash):
        return None  # the password checked is no longer this account's
    if row is None or not password_ok:
        for lock in throttle.count_failure(conn, now_us, source, username):
            _audit_lock(conn, now_us, lock, source, row if lock.scope == "account" else None)
        return None
    throttle.clear(conn, source, username)
    token = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now_us + SESSION_HOURS * 3600 * 1_000_000
    conn.execute(
        insert(sessions).values(token_hash=token_hash(token), user_id=row.id, created_at=now_us, expires_at=expires)
    )
    conn.execute(delete(sessions).where(sessions.c.expires_at < now_us))
    staff = Staff(row.id, row.username, row.display_name, Role(row.role), halls_of(conn, row.id, row.all_halls),
                  row.county, row.city, row.point)  # fmt: skip
    return LoginResult(token, staff, expires)


def _audit_lock(conn: Connection, now_us: int, lock: throttle.Lock, source: str, account: Any) -> None:
    """A lock in the staff audit: of the account (its halls), or of an unknown username or the address (every hall's).

    An unknown username is not written: it may be a password typed in the wrong field.
    """
    details: dict[str, Any] = {"scope": lock.scope, "failures": lock.failures, "seconds": lock.seconds}
    if lock.scope == "account" and account is None:
        details["account"] = "unknown"
    staff_audit.record(
        conn, now_us, "login.locked", actor=None, subject=None if account is None else account.username,
        halls=None if account is None else halls_of(conn, account.id, account.all_halls), source=source,
        details=details,
    )  # fmt: skip


def logout(conn: Connection, token: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


@dataclass(frozen=True)
class Session:
    staff: Staff
    expires_at_us: int


def session_for_token(conn: Connection, now_us: int, token: str) -> Session | None:
    """The live login behind a token, or None (unknown, expired, or its account deactivated)."""
    row = conn.execute(
        select(
            users.c.id,
            users.c.username,
            users.c.display_name,
            users.c.role,
            users.c.active,
            users.c.all_halls,
            users.c.county,
            users.c.city,
            users.c.point,
            sessions.c.expires_at,
        )
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash(token))
    ).first()
    if row is None or not row.active or row.expires_at <= now_us:
        return None
    staff = Staff(row.id, row.username, row.display_name, Role(row.role), halls_of(conn, row.id, row.all_halls),
                  row.county, row.city, row.point)  # fmt: skip
    return Session(staff, row.expires_at)


def signed_in_staff(conn: Connection, now_us: int, username: str) -> Staff | None:
    """The account `username` while it has a live login (not logged out, not expired, active), else None.

    A caller keypad acts as the clerk who opened its window only while that clerk is signed in.
    """
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.all_halls,
               users.c.county, users.c.city)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(users.c.username == username, users.c.active.is_(True), sessions.c.expires_at > now_us)
        .limit(1)
    ).first()  # fmt: skip
    if row is None:
        return None
    return Staff(row.id, row.username, row.display_name, Role(row.role), halls_of(conn, row.id, row.all_halls),
                 row.county, row.city)  # fmt: skip


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


class StaffCache:
    """Logins checked on every clerk action are cached briefly; logout and deactivation forget them at once.

    `generation` moves at every clear: a login read from the database before a clear is not cached after it
    (it may be the one just deactivated), so a change is never undone by a read that was under way.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self.generation = 0
        self._clears = itertools.count(1)  # next() is atomic: clears come from the writer and the listener
        self._entries: dict[str, tuple[float, Session]] = {}

    def get(self, token: str, now_us: int) -> Staff | None:
        entry = self._entries.get(token_hash(token))
        if entry is None or entry[0] < time.monotonic() or entry[1].expires_at_us <= now_us:
            return None
        return entry[1].staff

    def put(self, token: str, session: Session, generation: int | None = None) -> None:
        """Cache a login read while the cache was at `generation` (None: now); not if a clear came since."""
        if generation is not None and generation != self.generation:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash(token)] = (time.monotonic() + self.ttl_s, session)

    def forget(self, token: str) -> None:
        self._entries.pop(token_hash(token), None)

    def clear(self) -> None:
        """Forget every login (accounts changed, perhaps in another process)."""
        self.generation = next(self._clears)
        self._entries = {}

    def forget_user(self, username: str) -> None:
        self.generation = next(self._clears)
        for key, (_, session) in list(self._entries.items()):
            if session.staff.username == username:
                del self._entries[key]


class DeviceCache:
    """Device tokens checked on every issuance are cached for a short while; any change of accounts or devices,
    in any process, clears it (see Store.on_accounts_changed), so a revoked token stops at once. As in
    StaffCache, a token read before a clear is not cached after it (`generation`)."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self.generation = 0
        self._clears = itertools.count(1)  # next() is atomic: clears come from the writer and the listener
        self._entries: dict[str, tuple[float, Device | None]] = {}

    def get(self, token: str) -> tuple[bool, Device | None]:
        entry = self._entries.get(token_hash(token))
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, token: str, device: Device | None, generation: int | None = None) -> None:
        if generation is not None and generation != self.generation:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash(token)] = (time.monotonic() + self.ttl_s, device)

    def clear(self) -> None:
        self.generation = next(self._clears)
        self._entries = {}


# --- staff management (the administrator's page) -------------------------------------------------


@dataclass(frozen=True)
class StaffAccount:
    """An account as the administrator sees it (never its password hash)."""

    username: str
    display_name: str
    role: Role
    active: bool
    locked: bool
    created_at_us: int
    halls: frozenset[str] | None  # None: every hall
    county: str | None = None  # a county manager's county
    city: str | None = None  # a city manager's city
    point: str | None = None  # a village agent's point
    staff_no: str | None = None  # 工号, shown on the window's evaluator pad


#: A staff number (工号): 1–16 letters, digits or '-', as printed on the clerk's badge.
STAFF_NO = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,15}$")


class Keep:
    """The default of `update_user(halls=...)`: leave the account's halls as they are (None means every hall)."""


KEEP = Keep()


def list_users(conn: Connection, now_us: int, halls: Collection[str] | None = None) -> list[StaffAccount]:
    """Every account, or only those that may act in at least one of `halls` (the ones of every hall too)."""
    query = select(users).order_by(users.c.username)
    if halls is not None:
        members = select(staff_halls.c.user_id).where(staff_halls.c.hall.in_(sorted(halls)))
        query = query.where(or_(users.c.all_halls.is_(True), users.c.id.in_(members)))
    rows = conn.execute(query).all()
    locked = throttle.locked_usernames(conn, now_us)
    scopes: dict[int, set[str]] = {}
    for r in conn.execute(select(staff_halls)):
        scopes.setdefault(r.user_id, set()).add(r.hall)
    return [
        StaffAccount(
            r.username,
            r.display_name,
            Role(r.role),
            bool(r.active),
            r.username in locked,
            r.created_at,
            None if r.all_halls else frozenset(scopes.get(r.id, ())),
            r.county,
            r.city,
            r.point,
            r.staff_no,
        )
        for r in rows
    ]


def check_manages(by: Staff, halls: frozenset[str] | None) -> None:
    """An administrator of some halls manages only accounts of those halls; one of every hall manages all."""
    if by.halls is None:
        return
    if halls is None or not halls <= by.halls:
        raise Forbidden(
            "您只能管理本大厅的账号 (an administrator of "
            f"{', '.join(sorted(by.halls))} manages only accounts of those halls, not of every hall or others)"
        )


def _account_row(conn: Connection, username: str) -> Any:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no staff account {username!r} (没有该账号)")
    return row


def _other_active_admins(conn: Connection, user_id: int) -> int:
    """Other active administrators of every hall: the ones who can still manage every account."""
    rows = conn.execute(
        select(users.c.id).where(
            users.c.role == Role.ADMIN.value,
            users.c.active.is_(True),
            users.c.all_halls.is_(True),
            users.c.id != user_id,
        )
    ).all()
    return len(rows)


def update_user(
    conn: Connection,
    by: Staff,
    username: str,
    *,
    role: Role | None = None,
    display_name: str | None = None,
    active: bool | None = None,
    halls: frozenset[str] | Keep | None = KEEP,
    staff_no: str | Keep | None = KEEP,
) -> None:
    """Change an account's role, name, halls, staff number (None clears it) or whether it may log in; a deactivated
    account's sessions end.

    The last active administrator of every hall can be neither demoted, narrowed to some halls nor
    deactivated, and nobody does that to their own account (another administrator must), so the
    database is never left without one. An administrator of some halls changes only accounts of them.
    """
    row = _account_row(conn, username)
    check_manages(by, halls_of(conn, row.id, row.all_halls))
    if Role(row.role).regional or (role is not None and role.regional):
        check_manages(by, None)  # a county or city manager is an account of every hall's administrators
        if (role is not None and role.value != row.role) or not isinstance(halls, Keep):
            kind = Role(row.role) if Role(row.role).regional else role
            assert kind is not None
            raise BadRequest(
                f"a {kind.value.replace('_', ' ')}'s role and halls do not change: add a new account instead"
                f" ({kind.label_zh}账号不能改为其他角色或指定大厅，请另建账号)"
            )
    if (Role(row.role) is Role.AGENT or role is Role.AGENT) and (
        (role is not None and role.value != row.role) or not isinstance(halls, Keep)
    ):
        raise BadRequest("a village agent's role, hall and point do not change: add a new account instead"
                         " (村级代办员账号不能改为其他角色或大厅，请另建账号)")  # fmt: skip
    if not isinstance(halls, Keep):
        check_manages(by, halls)
        if halls is None and (role or Role(row.role)) is not Role.ADMIN:
            raise BadRequest("only an administrator may belong to every hall (仅系统管理员可属于全部大厅)")
    values: dict[str, Any] = {}
    if display_name is not None:
        name = display_name.strip()
        if not 1 <= len(name) <= 64:
            raise BadRequest("a display name has 1 to 64 characters")
        values["display_name"] = name
    demoted = role is not None and role is not Role.ADMIN
    narrowed = not isinstance(halls, Keep) and halls is not None
    losing = demoted or narrowed or active is False
    losing_admin = row.role == Role.ADMIN.value and row.active and row.all_halls and losing
    if losing_admin and row.id == by.id:
        raise Conflict(
            "不能停用或降级自己的账号，也不能缩小其大厅范围，请由另一名管理员操作"
            " (you cannot demote, narrow or deactivate your own account: ask another administrator)"
        )
    if losing_admin and _other_active_admins(conn, row.id) == 0:
        raise Conflict("this is the last active administrator of every hall (至少需要保留一名全部大厅的系统管理员)")
    if active is False and row.id == by.id:
        raise Conflict("you cannot deactivate your own account (不能停用自己的账号)")
    if role is not None:
        values["role"] = role.value
    if not isinstance(staff_no, Keep):
        if staff_no is not None and not STAFF_NO.match(staff_no):
            raise BadRequest("a staff number (工号) is 1–16 letters, digits or '-', starting with a letter or digit")
        values["staff_no"] = staff_no
    if active is not None:
        values["active"] = active
        if active:
            throttle.lift(conn, row.username)
    if values:
        conn.execute(update(users).where(users.c.id == row.id).values(**values))
    if not isinstance(halls, Keep):
        _set_halls(conn, row.id, halls)
    if active is False:
        conn.execute(delete(sessions).where(sessions.c.user_id == row.id))


def set_password(conn: Connection, username: str, password: str | PasswordHash, by: Staff | None = None) -> None:
    """Give an account a new password (an administrator's reset): its sessions end and any lock is lifted."""
    if isinstance(password, str):
        check_password_rules(password)
    row = _account_row(conn, username)
    if by is not None:
        check_manages(by, halls_of(conn, row.id, row.all_halls))
    conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_stored(password)))
    throttle.lift(conn, row.username)
    conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
