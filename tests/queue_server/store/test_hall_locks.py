"""PostgreSQL hall locks: a transaction waits for another holding the hall, and gives up after the timeout."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from queue_server.store.backends import backend_for
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
