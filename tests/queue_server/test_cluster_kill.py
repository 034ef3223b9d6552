"""`kill -9` of one of two `bianmin serve` processes on one database, mid-load: nothing acknowledged is lost.

Kiosks issue on process 1 while clerks call on process 2 and boards listen on both. Process 1 is killed
with requests in flight; the kiosks retry on process 2 with the same Idempotency-Key, and the boards of
process 1 resume on process 2 with ?since=. Afterwards every acknowledged ticket exists once, no ticket
was called twice, the hall's seq has no gap, and every board saw every event once, in order.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.loader import default_config_path, load_config
from queue_server.server import open_store
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.queue_server.conftest import Databases
from tests.queue_server.test_cluster import CATEGORIES, BoardListener
from tests.support.hashing import cheap_hashing
from tests.support.server import HALL, PASSWORD, ServerProcess, spawn_server

pytestmark = pytest.mark.slow

TICKETS = 40
KILL_AFTER = 12  # acknowledged tickets before process 1 is killed
CLERKS = (("liuxia", 1), ("wangfang", 3), ("hujun", 5), ("xiaoming", 9))  # their categories are CATEGORIES
API = f"/api/v1/halls/{HALL}"


def _prepare(db: str | Path) -> str:
    """Accounts and a kiosk in the database before the servers start (so no demo accounts are made).

    Their passwords are hashed at Argon2's lowest cost (the servers verify a hash at the cost it was made
    with): logins are not what this test is about.
    """
    store = open_store(load_config(default_config_path()), db)
    try:

        def add(conn: Any, now: Any) -> str:
            for username, _window in CLERKS:
                accounts.add_user(conn, to_us(now), username, username, accounts.Role.CLERK, PASSWORD)
            accounts.add_user(conn, to_us(now), "director", "主任", accounts.Role.MANAGER, PASSWORD)
            return accounts.add_device(conn, to_us(now), HALL, "kiosk-1")

        with pytest.MonkeyPatch.context() as monkeypatch:
            cheap_hashing(monkeypatch)
            return store.run_global_sync(add)
    finally:
        store.close()


def _login(url: str, username: str) -> str:
    answer = httpx.post(f"{url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


class Kiosks:
    """Issue TICKETS tickets; a request that fails is retried with the same key, on the other server if need be."""

    def __init__(self, token: str, first: str, second: str) -> None:
        self.token, self.urls = token, [first, second]
        self.acked: dict[str, dict[str, Any]] = {}  # key -> the 201/200 answer
        self.lock = threading.Lock()
        self.failed_over = threading.Event()

    def run(self, worker: int, count: int) -> None:
        with httpx.Client(timeout=5, trust_env=False) as client:
            for i in range(count):
                key = f"kill-{worker}-{i}"
                body = {"category": CATEGORIES[(worker + i) % len(CATEGORIES)]}
                for _attempt in range(100):
                    url = self.urls[1] if self.failed_over.is_set() else self.urls[0]
                    try:
                        answer = client.post(
                            f"{url}{API}/tickets",
                            json=body,
                            headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key},
                        )
                    except httpx.HTTPError:
                        self.failed_over.set()  # process 1 is gone: the kiosk's fallback server
                        continue
                    if answer.status_code in (200, 201):
                        with self.lock:
                            self.acked[key] = answer.json()
                        break
                    time.sleep(0.05)
                else:
                    raise AssertionError(f"ticket {key} was never issued")


def _clerk(url: str, username: str, window: int, done: threading.Event, finished: list[str]) -> None:
    token = _login(url, username)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{url}{API}/windows/{window}", timeout=10, trust_env=False, headers=headers) as http:
        assert http.post("/open", json={"post": "A"}).status_code == 200
        while not done.is_set():
            called = http.post("/call-next")
            if called.status_code == 204:
                time.sleep(0.02)
                continue
            assert called.status_code == 200, called.text
            assert http.post("/start").status_code == 200
            assert http.post("/finish", json={"case_class": "immediate"}).status_code == 200
            finished.append(called.json()["ticket"]["number"])


def test_kill_9_one_process_loses_nothing_and_boards_resume_on_the_other(databases: Databases, tmp_path: Path) -> None:
    db = databases.new()
    kiosk_token = _prepare(db)
    first = spawn_server(db, tmp_path / "first.log")
    second = spawn_server(db, tmp_path / "second.log")
    servers: list[ServerProcess] = [first, second]
    try:
        boards_first = [BoardListener(first.ws_url), BoardListener(first.ws_url)]
        board_second = BoardListener(second.ws_url)
        done = threading.Event()
        finished: list[str] = []
        clerks = [
            threading.Thread(target=_clerk, args=(second.url, name, window, done, finished), daemon=True)
            for name, window in CLERKS
        ]
        for thread in clerks:
            thread.start()
        kiosks = Kiosks(kiosk_token, first.url, second.url)
        issuers = [threading.Thread(target=kiosks.run, args=(w, TICKETS // 4), daemon=True) for w in range(4)]
        for thread in issuers:
            thread.start()
        deadline = time.monotonic() + 60
        while len(kiosks.acked) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.005)
        first.kill()  # SIGKILL with requests in flight
        kiosks.failed_over.set()
        for thread in issuers:
            thread.join(timeout=90)
        assert len(kiosks.acked) == TICKETS

        # The boards of the killed process resume on the other one from the last seq they saw.
        resumed = []
        for board in boards_first:
            board.close()
            resumed.append((board, BoardListener(second.ws_url, since=board.seqs[-1] if board.seqs else 0)))
        deadline = time.monotonic() + 60
        while len(finished) < TICKETS and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        for thread in clerks:
            thread.join(timeout=30)

        manager = _login(second.url, "director")
        events = httpx.get(
            f"{second.url}{API}/events",
            params={"since": 0, "limit": 1000},
            headers={"Authorization": f"Bearer {manager}"},
            timeout=10,
        ).json()["events"]
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), "the hall's seq has a gap or a double"
        issued = [e["payload"]["number"] for e in events if e["type"] == "ticket.issued"]
        assert len(issued) == len(set(issued)) == TICKETS, "a ticket was issued twice or lost"
        assert {a["number"] for a in kiosks.acked.values()} == set(issued), "an acknowledged ticket is missing"
        called = [e["payload"]["number"] for e in events if e["type"] == "ticket.called"]
        assert len(called) == len(set(called)) == TICKETS, "a ticket was called twice, or not at all"
        assert sorted(finished) == sorted(called)
        last = seqs[-1]
        board_second.wait_for(last)
        board_second.close()
        assert board_second.seqs == list(range((board_second.start_seq or 0) + 1, last + 1))
        for before, after in resumed:
            after.wait_for(last)
            after.close()
            seen = before.seqs + after.seqs
            assert seen == list(range((before.start_seq or 0) + 1, last + 1)), "a resumed board missed an event"
    finally:
        for server in servers:
            server.stop()
