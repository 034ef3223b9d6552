"""The background keeper stores each hall's closed days, so the first report of a month needs no cold fold."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from queue_server.link import receiver
from queue_server.link.receiver import FIELDS
from queue_server.link.wire import Ack, Batch, ShippedEvent
from queue_server.protocol import IssueRequest
from queue_server.reports.days import report_days
from queue_server.reports.keeper import keep_report_days
from queue_server.server import open_store
from queue_server.services import issuing
from queue_server.store.tables import events
from queue_server.store.writer import to_us
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


def test_at_a_county_the_keeper_stores_the_townships_days_too(new_db: Callable[[], str | Path]) -> None:
    clock = FakeClock()
    demo = demo_config()
    township = demo.halls[0].model_copy(update={"id": "baiyun", "name_zh": "白云镇便民服务中心"})
    store = open_store(demo.model_copy(update={"townships": [township]}), new_db(), clock)
    try:
        for key in ("a", "b"):
            store.run_sync(HALL, lambda tx, k=key: issuing.issue_ticket(tx, IssueRequest(category="huji"), "k", k))
        clock.advance(days=1, hours=1)  # the next morning: yesterday is closed
        store.run_sync(HALL, lambda tx: issuing.issue_ticket(tx, IssueRequest(category="huji"), "k", "c"))
        # The township's log as link up ships it: the same events, under its own hall id (up to this morning's:
        # a township's day is closed once its own log has moved past it).
        columns = [events.c.seq, *(events.c[name] for name in FIELDS)]
        with store.reader.connect() as conn:
            rows = conn.execute(select(*columns).where(events.c.hall == HALL).order_by(events.c.seq)).all()
        batch = Batch(after=0, events=[ShippedEvent(**r._asdict()) for r in rows])
        taken = store.run_global_sync(lambda conn, now: receiver.receive(conn, to_us(now), "baiyun", batch))
        assert isinstance(taken, Ack) and taken.last_seq == len(rows)

        async def one_pass() -> None:
            keeper = asyncio.create_task(keep_report_days(store, first_s=0, every_s=3600))
            for _ in range(200):
                await asyncio.sleep(0.02)
                with store.reader.connect() as conn:
                    if conn.execute(select(report_days.c.day).where(report_days.c.hall == "baiyun")).first():
                        break
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

        asyncio.run(one_pass())
        with store.reader.connect() as conn:
            stored = {(r.hall, r.day.isoformat()) for r in conn.execute(select(report_days.c.hall, report_days.c.day))}
        assert {(HALL, "2026-03-16"), ("baiyun", "2026-03-16")} <= stored
    finally:
        store.close()
