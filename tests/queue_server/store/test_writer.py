"""The single writer's group commit: changes that arrive together share one commit, failures stay their own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy import select

from queue_server.domain.errors import DomainError
from queue_server.errors import Conflict
from queue_server.protocol import IssueRequest
from queue_server.server import open_store
from queue_server.services import issuing
from queue_server.store.tables import events, tickets
from queue_server.store.writer import Store, Tx, _Job
from tests.support.clock import FakeClock
from tests.support.server import demo_config


def issue(key: str):  # type: ignore[no-untyped-def]
    return lambda tx: issuing.issue_ticket(tx, IssueRequest(category="jisheng"), "kiosk-1", key).ticket.number


def refuse_before_writing(tx: Tx) -> None:
    raise Conflict("refused before any change")


def refuse_after_writing(tx: Tx) -> None:
    issuing.issue_ticket(tx, IssueRequest(category="jisheng"), "kiosk-1", "doomed")
    raise Conflict("refused after a change")


def in_one_group(store: Store, fns: list) -> list[Future]:  # type: ignore[type-arg]
    """Hold the writer, queue every job, then let it go: they are taken as one group."""
    gate, held = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        gate.wait(10)

    blocker = store._submit(_Job("call", None, hold))
    assert held.wait(10)
    futures = [store._submit(_Job("hall", "qingshan", fn)) for fn in fns]
    gate.set()
    blocker.result(10)
    for future in futures:
        future.exception(10)
    return futures


@pytest.fixture
def store(new_db: Callable[[], str | Path]):  # type: ignore[no-untyped-def]
    store = open_store(demo_config(), new_db(), FakeClock())
    store.check_runtime = True
    yield store
    store.close()


def stored_numbers(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [r.number for r in conn.execute(select(tickets.c.number).order_by(tickets.c.id))]


def test_a_group_commits_once_and_each_job_gets_its_own_answer(store: Store) -> None:
    futures = in_one_group(store, [issue("a"), refuse_before_writing, issue("b"), issue("c")])
    assert futures[0].result() == "A001"
    assert isinstance(futures[1].exception(), Conflict)
    assert [futures[2].result(), futures[3].result()] == ["A002", "A003"]
    assert stored_numbers(store) == ["A001", "A002", "A003"]


def test_a_job_that_fails_after_writing_is_undone_and_the_others_still_land(store: Store) -> None:
    futures = in_one_group(store, [issue("a"), refuse_after_writing, issue("b")])
    assert futures[0].result() == "A001"
    error = futures[1].exception()
    assert isinstance(error, DomainError) and "refused after a change" in str(error)
    assert futures[2].result() == "A002"  # the doomed ticket's number was not used up
    assert stored_numbers(store) == ["A001", "A002"]
    with store.engine.connect() as conn:
        seqs = [r.seq for r in conn.execute(select(events.c.seq).order_by(events.c.seq))]
    assert seqs == list(range(1, len(seqs) + 1))
    # The runtime was rebuilt from the database: the next ticket follows on.
    assert store.run_sync("qingshan", issue("c")) == "A003"


def test_retrying_a_key_inside_one_group_gives_the_same_ticket(store: Store) -> None:
    futures = in_one_group(store, [issue("same"), issue("same"), issue("other")])
    assert [f.result() for f in futures] == ["A001", "A001", "A002"]
    assert stored_numbers(store) == ["A001", "A002"]
