"""Baseline of the link benchmarks: the same event rows inserted straight into PostgreSQL, nothing else.

A table with the `events` table's columns, primary key (hall, seq) and index (hall, at), as the county's; each
client has its own psycopg 3 connection (`synchronous_commit = on`, the cluster has fsync on) and inserts its
batches one after another, one transaction per batch (`executemany` of one INSERT, psycopg's pipeline), exactly
the batches a township posts. No HTTP, no JSON, no checks: the least a county's copy of the rows costs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

COLUMNS = ("hall", "seq", "type", "at", "actor", "window", "post", "ticket_id", "payload", "public")
INSERT = 'INSERT INTO bare_events (hall, seq, type, at, actor, "window", post, ticket_id, payload, public) VALUES '
INSERT += "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_table(url: str) -> None:
    """A fresh, empty table shaped as the county's `events`."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_events")
        conn.execute(
            "CREATE TABLE bare_events (hall VARCHAR(48) NOT NULL, seq BIGINT NOT NULL, type VARCHAR(32) NOT NULL, "
            'at BIGINT NOT NULL, actor VARCHAR(64), "window" INTEGER, post VARCHAR(1), ticket_id INTEGER, '
            "payload TEXT NOT NULL, public TEXT NOT NULL, PRIMARY KEY (hall, seq))"
        )
        conn.execute("CREATE INDEX ix_bare_events_hall_at ON bare_events (hall, at)")


def insert_batches(url: str, clients: Sequence[Sequence[Sequence[tuple[Any, ...]]]]) -> float:
    """Each client (a thread with its connection) inserts its batches of rows in order, one transaction each;
    the seconds from the first batch's start to the last commit (connections are opened before)."""
    import psycopg

    connections = []
    for _ in clients:
        conn = psycopg.connect(_dsn(url), autocommit=True)
        conn.execute("SET synchronous_commit = on")
        connections.append(conn)
    start = threading.Barrier(len(clients) + 1)
    failures: list[BaseException] = []

    def work(conn: Any, batches: Sequence[Sequence[tuple[Any, ...]]]) -> None:
        start.wait()
        try:
            for batch in batches:
                with conn.transaction(), conn.cursor() as cursor:
                    cursor.executemany(INSERT, batch)
        except BaseException as error:  # reported by the caller
            failures.append(error)

    threads = [threading.Thread(target=work, args=(c, b)) for c, b in zip(connections, clients, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for conn in connections:
        conn.close()
    if failures:
        raise RuntimeError(f"bare insert failed: {failures[0]!r}")
    return seconds
