"""Failed logins counted by client address: per (address, username) and per address, in the database.

A guesser can no longer lock an account out for everyone: three wrong passwords for `chenjing` from one
address make only that address wait (2 s, then 4 s, … up to 15 minutes), and the clerk at her own PC logs in
with the right password meanwhile. An address that fails often, whatever the usernames, waits too (a sprayer
of usernames). The counts live in the database (`login_throttle`), so every server process on it counts the
same failures and holds the same locks: a guesser balanced over two processes gets no more tries. A row idle
for FORGET_S starts again from zero; a success from the address clears its (address, username) count.

Each lock taken is written to the staff audit (`login.locked`), with the account when there is one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, case, delete, select, update

from queue_server.errors import TooManyRequests
from queue_server.store.backends import backend_for
from queue_server.store.tables import login_throttle

FREE_FAILURES = 3  # wrong passwords for one username from one address before each further attempt waits
SOURCE_FREE_FAILURES = 20  # failures from one address, whatever the usernames (a hall's PCs may share one)
MAX_LOCK_S = 15 * 60
FORGET_S = 3600  # a row without a failure for an hour counts from zero again
PRUNE_S = 24 * 3600  # rows idle for a day are deleted
EVERY_USERNAME = "*"


def normalise_username(typed: str) -> str:
    """The username as typed, normalised (full-width letters, any case, spaces around): `ＣＨＥＮ ` → chen."""
    return unicodedata.normalize("NFKC", typed).strip().lower()[:48]


def _subject(username: str) -> str:
    return "u:" + username


@dataclass(frozen=True)
class Lock:
    """A lock a failure just set: on the username from the address, or on the whole address."""

    scope: str  # "account" or "address"
    failures: int
    seconds: int


def lock_seconds(failures: int, free: int) -> int:
    """The wait after `failures` in a row: none for the first `free`, then 2 s, 4 s, … up to MAX_LOCK_S."""
    return 0 if failures <= free else min(MAX_LOCK_S, 2 ** min(failures - free, 20))


def refuse_if_locked(conn: Connection, now_us: int, source: str, username: str) -> None:
    """TooManyRequests (429, Retry-After) while the address, or the username from the address, is locked."""
    rows = conn.execute(
        select(login_throttle.c.locked_until).where(
            login_throttle.c.source == source,
            login_throttle.c.subject.in_([EVERY_USERNAME, _subject(username)]),
            login_throttle.c.locked_until > now_us,
        )
    ).all()
    if rows:
        wait_s = max(1, (max(r.locked_until for r in rows) - now_us + 999_999) // 1_000_000)
        raise TooManyRequests(
            f"登录失败次数过多，请 {wait_s} 秒后再试 (too many failed logins: try again in {wait_s} s)", wait_s
        )


def count_failure(conn: Connection, now_us: int, source: str, username: str) -> list[Lock]:
    """Count a failed login from `source` for `username` (known or not); return the locks it set."""
    locks: list[Lock] = []
    for subject, free, scope in ((_subject(username), FREE_FAILURES, "account"),
                                 (EVERY_USERNAME, SOURCE_FREE_FAILURES, "address")):  # fmt: skip
        failures = _bump(conn, now_us, source, subject)
        seconds = lock_seconds(failures, free)
        if seconds:
            where = (login_throttle.c.source == source) & (login_throttle.c.subject == subject)
            conn.execute(update(login_throttle).where(where).values(locked_until=now_us + seconds * 1_000_000))
            locks.append(Lock(scope, failures, seconds))
    conn.execute(delete(login_throttle).where(login_throttle.c.last_at < now_us - PRUNE_S * 1_000_000))
    return locks


def _bump(conn: Connection, now_us: int, source: str, subject: str) -> int:
    """One more failure in the row (made if missing; from zero again if idle), atomically: two processes
    counting at once both count."""
    fresh = {"source": source, "subject": subject, "failures": 0, "locked_until": None, "last_at": now_us}
    backend_for(conn).insert_or_ignore(conn, login_throttle, [fresh])
    where = (login_throttle.c.source == source) & (login_throttle.c.subject == subject)
    idle = (login_throttle.c.last_at < now_us - FORGET_S * 1_000_000) & (
        login_throttle.c.locked_until.is_(None) | (login_throttle.c.locked_until <= now_us)
    )
    conn.execute(
        update(login_throttle)
        .where(where)
        .values(failures=case((idle, 1), else_=login_throttle.c.failures + 1), last_at=now_us)
    )
    return int(conn.execute(select(login_throttle.c.failures).where(where)).scalar_one())


def clear(conn: Connection, source: str, username: str) -> None:
    """A success from `source`: the username's count there starts again (the address's own count does not)."""
    conn.execute(
        delete(login_throttle).where(login_throttle.c.source == source, login_throttle.c.subject == _subject(username))
    )


def lift(conn: Connection, username: str) -> None:
    """An administrator's reset or reactivation: the account's locks from every address are lifted."""
    conn.execute(delete(login_throttle).where(login_throttle.c.subject == _subject(username)))


def locked_usernames(conn: Connection, now_us: int) -> set[str]:
    """The usernames locked from at least one address now (the staff list's `locked`)."""
    rows = conn.execute(
        select(login_throttle.c.subject).where(
            login_throttle.c.subject.like("u:%"), login_throttle.c.locked_until > now_us
        )
    )
    return {r.subject[2:] for r in rows}
