"""Baseline of bench/issuance.py: the bare stack doing the least an issuance must do, on SQLite or PostgreSQL.

A FastAPI app with one POST route at the same path as the real issuance
(`/api/v1/halls/{hall}/tickets`), taking the same JSON body (a pydantic model) and the same
`Idempotency-Key` header, that does one durable INSERT and answers 201 with a small JSON body. The
INSERTs run on one writer thread that owns the only connection, as `queue_server/store/writer.py`
does, and it batches them the same way (`--batch`, default 64 = the store's MAX_BATCH): it takes
every insert waiting (up to the batch size) and runs them in one transaction with one durable
commit, then answers each caller on its event loop. `--batch 1` is one transaction per request.

- SQLite (`--db PATH`): WAL, `synchronous=FULL`, `BEGIN IMMEDIATE` ... `COMMIT`.
- PostgreSQL (`--db postgresql://...`): psycopg 3, `synchronous_commit=on` (the cluster has fsync on),
  `BEGIN` ... `INSERT ... RETURNING id` ... `COMMIT`.

It runs under uvicorn with the same settings as `bianmin serve` (uvloop, httptools, one worker).

    python bench/baselines/bare_insert.py --port 8001 --db /tmp/bare.db [--batch 64]
    python bench/baselines/bare_insert.py --port 8001 --db postgresql://bianmin@127.0.0.1:5432/bare
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header
from pydantic import BaseModel, ConfigDict, Field

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import uvicorn_config

MAX_BATCH = 64


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    item_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    category: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    priority: Literal["ordinary", "green"] = "ordinary"


Row = tuple[str, str | None, str]
Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[int]"]


def _settle(answers: list[tuple[asyncio.Future[int], int | BaseException]]) -> None:
    for future, value in answers:
        if future.done():
            continue
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)


class Writer:
    """One thread, one connection; the inserts waiting when it looks share one durable transaction."""

    def __init__(self, db: str, batch: int) -> None:
        self.db = db
        self.batch = batch
        self.postgres = db.startswith("postgresql")
        self.jobs: queue.SimpleQueue[tuple[Row, Waiter] | None] = queue.SimpleQueue()
        ready: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._work, args=(ready,), name="bare-writer", daemon=True)
        self.thread.start()
        error = ready.get()
        if error is not None:
            raise error

    def _open(self) -> tuple[Any, Callable[[list[Row]], list[int]]]:
        if self.postgres:
            import psycopg

            conn = psycopg.connect(self.db.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            conn.execute("SET synchronous_commit = on")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tickets (id BIGSERIAL PRIMARY KEY, hall TEXT NOT NULL, "
                "category TEXT, key TEXT NOT NULL, issued_at BIGINT NOT NULL)"
            )

            def insert_pg(rows: list[Row]) -> list[int]:
                ids = []
                with conn.transaction():
                    for hall, category, key in rows:
                        cursor = conn.execute(
                            "INSERT INTO tickets (hall, category, key, issued_at) VALUES (%s, %s, %s, %s) RETURNING id",
                            (hall, category, key, time.time_ns() // 1000),
                        )
                        found = cursor.fetchone()
                        ids.append(int(found[0]) if found else 0)
                return ids

            return conn, insert_pg

        lite = sqlite3.connect(self.db, isolation_level=None, check_same_thread=False)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("PRAGMA synchronous=FULL")
        lite.execute(
            "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, hall TEXT NOT NULL, "
            "category TEXT, key TEXT NOT NULL, issued_at INTEGER NOT NULL)"
        )

        def insert_lite(rows: list[Row]) -> list[int]:
            ids = []
            lite.execute("BEGIN IMMEDIATE")
            try:
                for hall, category, key in rows:
                    cursor = lite.execute(
                        "INSERT INTO tickets (hall, category, key, issued_at) VALUES (?, ?, ?, ?)",
                        (hall, category, key, time.time_ns() // 1000),
                    )
                    ids.append(int(cursor.lastrowid or 0))
                lite.execute("COMMIT")
            except BaseException:
                lite.execute("ROLLBACK")
                raise
            return ids

        return lite, insert_lite

    def _work(self, ready: queue.SimpleQueue[BaseException | None]) -> None:
        try:
            conn, insert = self._open()
        except BaseException as error:
            ready.put(error)
            return
        ready.put(None)
        with contextlib.closing(conn):
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                group = [job]
                while len(group) < self.batch:
                    try:
                        job = self.jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        self.jobs.put(None)  # stop after this group
                        break
                    group.append(job)
                rows = [row for row, _ in group]
                try:
                    outcome: list[int | BaseException] = list(insert(rows))
                except Exception as error:
                    outcome = [error] * len(group)
                by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int | BaseException]]] = {}
                for (_, (loop, future)), value in zip(group, outcome, strict=True):
                    by_loop.setdefault(loop, []).append((future, value))
                for loop, answers in by_loop.items():
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_settle, answers)

    async def insert(self, hall: str, category: str | None, key: str) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self.jobs.put(((hall, category, key), (loop, future)))
        return await future

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=10)


def create_app(db: str, batch: int) -> FastAPI:
    writer = Writer(db, batch)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/halls/{hall}/tickets", status_code=201)
    async def issue(
        hall: str, body: IssueBody, idempotency_key: Annotated[str | None, Header(max_length=128)] = None
    ) -> dict[str, object]:
        ticket_id = await writer.insert(hall, body.category, idempotency_key or "")
        return {"id": ticket_id, "hall": hall, "category": body.category, "priority": body.priority}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="an SQLite file, or a postgresql:// URL")
    parser.add_argument("--batch", type=int, default=MAX_BATCH, help="inserts per transaction at most (1: one each)")
    args = parser.parse_args()
    uvicorn.Server(uvicorn_config(create_app(args.db, max(1, args.batch)), args.port)).run()  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
