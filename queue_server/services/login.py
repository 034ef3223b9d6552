"""A staff login in three steps, so that argon2 never holds the writer: look up, check the hash aside, record.

1. `begin_login` on a reader connection (`store.read`): the account, or a dummy hash for an unknown one;
   a locked account is refused here, before any hashing.
2. `verify_password` on the password checker: a small pool of its own (HASH_THREADS), so a flood of logins
   queues there, never in front of ticket issuing, and takes at most that many cores. At most MAX_WAITING
   logins wait for it; the next ones are answered 429 at once (a flood from many addresses cannot pile up).
3. `finish_login` on the writer (`store.run_global`): a short write, the failure counts or the new session.

An unknown account costs a hash and a failure count, as a wrong password does: the same answer, the same lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from queue_server.errors import TooManyRequests
from queue_server.services import accounts, throttle
from queue_server.store.writer import Store, to_us

HASH_THREADS = 1  # argon2 costs ~0.2 s of CPU: one thread leaves the other core to the writer and the event loop
MAX_WAITING = 16  # logins checked or waiting to be: 16 × ~0.2 s is the longest a login waits for the checker

T = TypeVar("T")

BUSY = "the server is busy checking passwords: try again in 1 s (服务器繁忙，请稍后再试)"


class PasswordChecker:
    """argon2 on a bounded pool of its own, with a bounded number of logins waiting for it."""

    def __init__(self, threads: int = HASH_THREADS, max_waiting: int = MAX_WAITING) -> None:
        self.threads, self.max_waiting = threads, max_waiting
        self._executor: ThreadPoolExecutor | None = None
        self._waiting = 0
        self._lock = threading.Lock()  # servers in tests run one event loop per thread and share the checker

    @contextlib.contextmanager
    def turn(self) -> Iterator[ThreadPoolExecutor]:
        """A place in the line for the pool, or TooManyRequests at once when MAX_WAITING are in it."""
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise TooManyRequests(BUSY, 1)
            self._waiting += 1
            if self._executor is None:  # made on first use: no thread is started at import
                self._executor = ThreadPoolExecutor(
                    self.threads, thread_name_prefix="bianmin-password", initializer=_lowest_priority
                )
            executor = self._executor
        try:
            yield executor
        finally:
            with self._lock:
                self._waiting -= 1

    async def verify(self, password_hash: str, password: str) -> bool:
        with self.turn() as executor:
            return await _in(executor, accounts.verify_password, password_hash, password)

    async def hash(self, password: str) -> accounts.PasswordHash:
        """A new password's rules checked and its hash made (an administrator adding staff or resetting one)."""
        with self.turn() as executor:
            return await _in(executor, accounts.hash_password, password)


#: The hashing threads' nice value (Linux: per thread). argon2 costs ~0.1 s of CPU a login and is meant to be
#: dear; at the lowest priority a flood of wrong passwords slows the logins, not the kiosks and boards that
#: share the hall PC's two cores (bench/login_flood.py).
HASH_NICE = 19


def _lowest_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not on Linux, or not allowed: hash at normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)


async def _in(executor: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)


checker = PasswordChecker()


async def log_in(store: Store, username: str, password: str, source: str) -> accounts.LoginResult | None:
    """Check a login from the client address `source` (see the module docstring); None when the username or
    password is wrong. `username` as typed: it is normalised here (services/throttle.normalise_username)."""
    username = throttle.normalise_username(username)
    with checker.turn() as executor:  # a place in line first: a refused flood does not even read
        attempt = await store.read(lambda conn: accounts.begin_login(conn, to_us(store.clock()), username, source))
        ok = await _in(executor, accounts.verify_password, attempt.password_hash, password)
    # A new session or a failure count makes no cached login or device token wrong: no cache is dropped.
    return await store.run_global(
        lambda conn, now: accounts.finish_login(conn, to_us(now), attempt, ok, username, source), invalidates=False
    )
