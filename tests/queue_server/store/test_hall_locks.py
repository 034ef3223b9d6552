"""Hall locks: a transaction waits for another holding the hall, gives up after the timeout, and reads the hall's
newest seq after the lock; PostgreSQL's trigger tells other processes of each event appended."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.exc import OperationalError

from queue_server.store.backends import backend_for
from queue_server.store.engine import make_engine
from queue_server.store.migrate import upgrade
from queue_server.store.tables import events
from queue_server.store.writer import EVENTS_CHANNEL
from tests.support.pg import PgCluster


def test_a_hall_lock_waits_for_its_holder_and_times_out_instead_of_hanging(pg_cluster: PgCluster) -> None:
    url = pg_cluster.create_database("hall_locks").replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    backend = backend_for(engine)
    try:
        with engine.begin() as holder:
            backend.lock_halls(holder, ["qingshan"], 5_000)
            with engine.begin() as other:  # another hall is free
                backend.lock_halls(other, ["baishui", "zhuxi"], 500)
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"), engine.begin() as waiter:
                backend.lock_halls(waiter, ["zhuxi", "qingshan"], 300)
            assert 0.25 < time.monotonic() - started < 3.0
            released = threading.Timer(0.3, holder.commit)
            waited = time.monotonic()
            released.start()
            with engine.begin() as later:  # taken as soon as the holder commits
                backend.lock_halls(later, ["qingshan"], 5_000)
            released.join()
            assert time.monotonic() - waited >= 0.25
    finally:
        engine.dispose()


def _event(hall: str, seq: int) -> dict[str, object]:
    return {"hall": hall, "seq": seq, "type": "test", "at": 0, "actor": None, "window": None, "post": None,
            "ticket_id": None, "payload": "{}", "public": "{}"}  # fmt: skip


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_the_newest_seq_read_with_the_lock_includes_what_the_holder_committed_while_we_waited(
    backend_name: str, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    # Read in the lock's statement, before the wait, it would miss the holder's commit (READ COMMITTED takes a
    # statement's snapshot when it starts): the hall's runtime would then decide on a stale picture.
    if backend_name == "postgresql":
        url = pg_cluster.create_database("hall_newest").replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        url = f"sqlite:///{tmp_path / 'hall.db'}"
    engine = make_engine(url)
    upgrade(engine)
    backend = backend_for(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(events), [_event("qingshan", 1), _event("qingshan", 2), _event("zhuxi", 7)])
        if backend_name == "sqlite":  # one write transaction at a time: no waiting to show, only the figures
            with engine.begin() as conn:
                assert backend.lock_halls_newest(conn, ["zhuxi", "qingshan", "baishui"], 500, "p1") == {
                    "qingshan": 2, "zhuxi": 7, "baishui": 0}  # fmt: skip
            return
        holder = engine.connect()
        holder.begin()
        assert backend.lock_halls_newest(holder, ["qingshan"], 5_000, "p1") == {"qingshan": 2}
        holder.execute(insert(events), [_event("qingshan", 3)])
        released = threading.Timer(0.3, holder.commit)
        released.start()
        with engine.begin() as waiter:
            assert backend.lock_halls_newest(waiter, ["zhuxi", "qingshan"], 5_000, "p2") == {"qingshan": 3, "zhuxi": 7}
        released.join()
        holder.close()
    finally:
        engine.dispose()


def test_each_event_a_server_appends_is_notified_at_commit_and_events_without_an_origin_are_not(
    pg_cluster: PgCluster,
) -> None:
    import psycopg

    url = pg_cluster.create_database("hall_notify")
    engine = make_engine(url)
    upgrade(engine)
    backend = backend_for(engine)
    listener = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)
    try:
        listener.execute(f"LISTEN {EVENTS_CHANNEL}")
        with engine.begin() as conn:
            backend.lock_halls_newest(conn, ["qingshan"], 5_000, "abc123")
            conn.execute(insert(events), [_event("qingshan", 1), _event("qingshan", 2)])
            assert list(listener.notifies(timeout=0.3)) == []  # nothing before the commit
        with engine.begin() as conn:  # a copy or a township's shipped log: no origin, nobody told
            backend.lock_halls(conn, ["zhuxi"], 5_000)
            conn.execute(insert(events), [_event("zhuxi", 1)])
        with engine.begin() as conn:  # rolled back: never told
            backend.lock_halls_newest(conn, ["qingshan"], 5_000, "abc123")
            conn.execute(insert(events), [_event("qingshan", 3)])
            conn.rollback()
        heard = [(n.channel, n.payload) for n in listener.notifies(timeout=0.5)]
        assert heard == [(EVENTS_CHANNEL, "qingshan:1:abc123"), (EVENTS_CHANNEL, "qingshan:2:abc123")]
    finally:
        listener.close()
        engine.dispose()
