"""Baseline of bench/issuance.py: the bare stack doing the least an issuance must do.

A FastAPI app with one POST route at the same path as the real issuance
(`/api/v1/halls/{hall}/tickets`), taking the same JSON body (a pydantic model) and the same
`Idempotency-Key` header, that does one durable INSERT — SQLite in WAL mode with
`synchronous=FULL`, one transaction per request — on one writer thread (a one-thread executor that
owns the only connection, as `queue_server/store/writer.py` does), and answers 201 with a small JSON
body. It runs under uvicorn with the same settings as `bianmin serve` (uvloop, httptools, one worker).

    python bench/baselines/bare_insert.py --port 8001 --db /tmp/bare.db
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Header
from pydantic import BaseModel, ConfigDict, Field

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import uvicorn_config


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    item_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    category: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    priority: Literal["ordinary", "green"] = "ordinary"


class Writer:
    """One thread, one connection, one durable transaction per call."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bare-writer")
        self.local = threading.local()
        self.executor.submit(self._connection).result()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, hall TEXT NOT NULL, "
                "category TEXT, key TEXT NOT NULL, issued_at INTEGER NOT NULL)"
            )
            self.local.conn = conn
        return conn

    def _insert(self, hall: str, category: str | None, key: str) -> int:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(
                "INSERT INTO tickets (hall, category, key, issued_at) VALUES (?, ?, ?, ?)",
                (hall, category, key, time.time_ns() // 1000),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(cursor.lastrowid or 0)

    async def insert(self, hall: str, category: str | None, key: str) -> int:
        return await asyncio.wrap_future(self.executor.submit(self._insert, hall, category, key))


def create_app(db: Path) -> FastAPI:
    writer = Writer(db)
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
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.Server(uvicorn_config(create_app(args.db), args.port)).run()  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
