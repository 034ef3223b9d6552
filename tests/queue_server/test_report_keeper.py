"""The background keeper stores each hall's closed days, so the first report of a month needs no cold fold."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from queue_server.protocol import IssueRequest
from queue_server.reports.days import report_days
from queue_server.reports.keeper import keep_report_days
from queue_server.server import open_store
from queue_server.services import issuing
from tests.support.clock import FakeClock
from tests.support.server import HALL, demo_config


def test_the_keeper_stores_yesterday_and_nothing_of_today(new_db: Callable[[], str | Path]) -> None:
    clock = FakeClock()
    store = open_store(demo_config(), new_db(), clock)
    try:
        for key in ("a", "b"):
            store.run_sync(HALL, lambda tx, k=key: issuing.issue_ticket(tx, IssueRequest(category="huji"), "k", k))
        clock.advance(days=1, hours=1)  # the next morning, 10:00: yesterday is closed (stored from 06:15)
        store.run_sync(HALL, lambda tx: issuing.issue_ticket(tx, IssueRequest(category="huji"), "k", "c"))

        async def one_pass() -> None:
            keeper = asyncio.create_task(keep_report_days(store, first_s=0, every_s=3600))
            for _ in range(200):
                await asyncio.sleep(0.02)
                with store.reader.connect() as conn:
                    if conn.execute(select(report_days.c.day)).first() is not None:
                        break
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

        asyncio.run(one_pass())
        with store.reader.connect() as conn:
            days = [r.day for r in conn.execute(select(report_days.c.day).where(report_days.c.hall == HALL))]
        assert len(days) >= 1
        assert max(days).isoformat() == "2026-03-16"  # the fake clock's first day; today (03-17) is not stored
    finally:
        store.close()
