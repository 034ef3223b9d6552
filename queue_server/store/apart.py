"""Reads in a process of their own: the reports' folding never holds the server's interpreter.

A month report folds thousands of rows in Python. On a reader thread it shares the server process's
interpreter with the event loop (every board and phone socket) and the writer thread (every call), so a
report running while a clerk calls delays the call's message to every subscriber. Here such reads run in
one child process per server process, started on first use, on its own connection to the same database,
at a lower CPU priority than the server (`NICE`): on a busy machine the calls go first.

- The function and its arguments are pickled: a module-level function, and plain values or models.
- The result comes back the same way; a database error in the child comes back as an `OperationalError`
  (a 503 for the caller, as on a reader thread).
- If the child dies (killed, out of memory), the next read starts a new one; a read that was running when
  it died is run once more in the new child (reads change nothing the caller sees, so that is safe).
- The child leaves when its server process does, even after a `kill -9` of the server (`_watch_parent`).
- A database only this process can open (`Backend.opens_elsewhere`: SQLite in memory) is read on a reader
  thread instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from queue_server.store.backends import backend_for_url

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The child's niceness above its server's (Linux: 0 normal … 19 lowest): the calls' CPU comes first.
NICE = 10

_engine: Engine | None = None  # in the child: the engine its reads use
#: A new interpreter: the child has no copy of the server's threads, locks or sockets.
_SPAWN = multiprocessing.get_context("spawn")


class ApartReads:
    """One child process per server process that runs read-only functions of a connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)` in the child, on a connection outside any explicit transaction."""
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._current()
            try:
                ok, value = await loop.run_in_executor(pool, _call, fn, args)
            except BrokenProcessPool:
                self._replace(pool)
                if attempt == 2:
                    raise OperationalError("a read in the report process", {}, _ChildGone()) from None
                log.warning("the report process died: starting a new one and reading again")
                continue
            if not ok:
                raise OperationalError("a read in the report process", {}, _ChildDatabaseError(value))
            result: T = value
            return result
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=_SPAWN, initializer=_start, initargs=(self.url,)
                )
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)


class _ChildGone(Exception):
    def __str__(self) -> str:
        return "the report process ended during the read, twice"


class _ChildDatabaseError(Exception):
    pass


# -- in the child ------------------------------------------------------------------------------


def _start(url: str) -> None:
    global _engine
    with contextlib.suppress(AttributeError, OSError):  # no nice() here: the child runs at the server's priority
        os.nice(NICE)
    backend = backend_for_url(url)
    _engine = backend.reader_engine(backend.make_engine(url))
    threading.Thread(target=_watch_parent, name="bianmin-parent-watch", daemon=True).start()


def _watch_parent() -> None:
    """End this process once its server process is gone, even killed: multiprocessing's sentinel of the
    parent (a pipe whose other end only the server holds) is ready at its end."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    parent.join()
    os._exit(0)


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
    """(True, result), or (False, the database error's name): a driver's error may not pickle."""
    assert _engine is not None, "the child was not started"
    try:
        with _engine.connect() as conn:
            return True, fn(conn, *args)
    except (OperationalError, InterfaceError, PoolTimeout) as error:  # the database is away: a 503
        return False, type(error).__name__
