"""Two stores on one database, acting in turn at random: each decides on the same picture as a fresh load.

Whatever one store changes, the other's runtime catches up from the log under the hall's lock before it
decides. After every step, the runtime of the store that did not act (caught up by a sync) must equal a
runtime loaded afresh from the database: the tickets, windows, numbering counters, idempotency keys, the
routing queue, the recent calls and the service times. The seq stays gap-free and every event is
published once by each store, in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from queue_server.domain.errors import DomainError
from queue_server.domain.tickets import CaseClass
from queue_server.domain.windows import Post
from queue_server.protocol import IssueRequest
from queue_server.runtime import HallRuntime
from queue_server.server import open_store
from queue_server.services import accounts, issuing
from queue_server.services import window_actions as actions
from queue_server.services.loading import load_runtime
from queue_server.store.writer import Store, Tx
from tests.support.clock import FakeClock
from tests.support.server import HALL, demo_config

CLERKS = {1: "liuxia", 3: "wangfang", 5: "hujun", 9: "xiaoming"}
CATEGORIES = ["jisheng", "minzheng", "laobao", "huji", "caizheng"]


@pytest.fixture
def stores(new_db: Callable[[], str | Path]) -> Iterator[tuple[Store, Store, list[list[int]]]]:
    db, clock = new_db(), FakeClock()
    pair = (open_store(demo_config(), db, clock), open_store(demo_config(), db, clock))
    published: list[list[int]] = [[], []]
    for store, seen in zip(pair, published, strict=True):
        store.check_runtime = True
        store.set_publisher(lambda _hall, messages, _delta, seen=seen: seen.extend(s for s, _ in messages))
    yield pair[0], pair[1], published
    for store in pair:
        store.close()


def staff(window: int) -> accounts.Staff:
    return accounts.Staff(window, CLERKS[window], CLERKS[window], accounts.Role.CLERK)


def snapshot(rt: HallRuntime) -> dict[str, Any]:
    """What a decision reads of a runtime."""
    return {
        "last_seq": rt.last_seq,
        "day": rt.day,
        "counters": dict(rt.counters),
        "requests": dict(rt.requests),
        "tickets": {i: (t.number, t.state, t.category, t.window, t.target_window, t.queue_key, t.recalls,
                        t.called_at, t.started_at) for i, t in rt.tickets.items()},
        "windows": {n: (w.state, w.clerk, w.post, w.current_ticket, w.priority_streak, w.since)
                    for n, w in rt.windows.items()},
        "queue": sorted((q.id, q.category, q.target_window) for q in rt.queued()),
        "recent": [(c.number, c.window, c.at) for c in rt.recent_calls],
        "means": {c: round(m, 6) for c, m in rt.service_times.snapshot().items()},
    }  # fmt: skip


def random_step(rng: random.Random, n: int) -> Callable[[Tx], object]:
    window = rng.choice(list(CLERKS))
    clerk = staff(window)
    kind = rng.choice(["issue", "issue", "open", "call", "serve", "no_show", "transfer", "close", "retry"])
    if kind == "issue":
        return lambda tx: issuing.issue_ticket(tx, IssueRequest(category=rng.choice(CATEGORIES)), "kiosk-1", f"k{n}")
    if kind == "retry":  # a kiosk's retry of an earlier tap, on whichever store
        key = f"k{rng.randrange(max(n, 1))}"
        return lambda tx: issuing.issue_ticket(tx, IssueRequest(category="huji"), "kiosk-1", key)
    if kind == "open":
        return lambda tx: actions.open_window(tx, window, clerk, Post.A)
    if kind == "call":
        return lambda tx: actions.call_next(tx, window, clerk)
    if kind == "serve":

        def serve(tx: Tx) -> object:
            actions.start(tx, window, clerk)
            return actions.finish(tx, window, clerk, actions.FinishRequest(CaseClass.IMMEDIATE))

        return serve
    if kind == "no_show":
        return lambda tx: actions.no_show(tx, window, clerk)
    if kind == "transfer":
        target = rng.choice([w for w in CLERKS if w != window])
        return lambda tx: actions.transfer(tx, window, clerk, target, None, "test")
    return lambda tx: actions.close_window(tx, window, clerk)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_store_decides_on_what_a_fresh_load_would_see(
    stores: tuple[Store, Store, list[list[int]]], seed: int
) -> None:
    first, second, published = stores
    pair = (first, second)
    rng = random.Random(seed)
    acted = 0
    for n in range(150):
        store = rng.choice(pair)
        try:
            store.run_sync(HALL, random_step(rng, n))
            acted += 1
        except DomainError:
            pass  # refused by a rule (nobody waits, the window is not open…): a real clerk sees the same
        other = second if store is first else first
        caught_up = snapshot(other.run_sync(HALL, lambda tx: tx.rt))  # a hall job: locks and catches up first
        fresh = snapshot(other.run_sync(HALL, lambda tx: load_runtime(tx.conn, tx.rt.hall, tx.now)))
        acting = snapshot(store.run_sync(HALL, lambda tx: tx.rt))
        # The recent calls and the learnt service times are kept in memory as calls and finishes happen (a
        # fresh load rebuilds them from the tickets, in another order): the caught-up store must hold the
        # very same as the store that acted.
        for learnt in ("recent", "means"):
            assert caught_up.pop(learnt) == acting.pop(learnt), f"step {n}: {learnt} differ"
            fresh.pop(learnt)
        assert caught_up == fresh, f"step {n}: the caught-up runtime differs from a fresh load"
    assert acted > 60
    last = first.run_sync(HALL, lambda tx: tx.rt.last_seq)
    for seen in published:  # each store published every event of the hall once, in order
        assert seen == list(range(seen[0], last + 1))
