"""Two servers on one database: every acknowledged ticket once, no ticket called twice, every board every event.

Each server has its own store (writer thread, runtime, read side, listener) on the same database, as two
processes do; the in-process servers here keep the test fast and run on both backends, and
test_cluster_kill.py does the same with real `bianmin serve` processes and kill -9.
"""

from __future__ import annotations

import functools
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from config.loader import default_config_path, load_config
from queue_server.protocol import CallMessage, Snapshot, parse_server_message
from queue_server.services.throttle import FREE_FAILURES
from tests.queue_server.conftest import Api, Databases
from tests.support.clock import FakeClock
from tests.support.server import HALL, PASSWORD, RunningServer, start_server

CATEGORIES = ["jisheng", "minzheng", "laobao", "huji"]


class BoardListener:
    """A board websocket read on a thread: the snapshot's seq, then every event's seq and type."""

    def __init__(self, ws_url: str, since: int | None = None) -> None:
        query = f"?since={since}" if since is not None else ""
        self._opened = connect(f"{ws_url}/ws/halls/{HALL}/board{query}", open_timeout=5, proxy=None, compression=None)
        self.ws = self._opened.__enter__()
        self.start_seq: int | None = since
        self.seqs: list[int] = []
        self.calls: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                message = parse_server_message(self.ws.recv(timeout=30))
                if isinstance(message, Snapshot):
                    self.start_seq = message.seq
                elif message.type != "pong":
                    self.seqs.append(message.seq)
                    if isinstance(message, CallMessage):
                        self.calls.append(message.ticket.number)
        except (ConnectionClosed, TimeoutError):
            return

    def wait_for(self, seq: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (not self.seqs or self.seqs[-1] < seq) and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self._opened.__exit__(None, None, None)
        self._thread.join(timeout=5)


@pytest.fixture
def two_servers(
    databases: Databases,
    clock: FakeClock,
    cheap_password_hashing: None,
    stop_later: Callable[[RunningServer], threading.Thread],
) -> Iterator[tuple[RunningServer, RunningServer]]:
    db = databases.new()
    first = start_server(db, clock)
    second = start_server(db, clock)
    yield first, second
    databases.drop(db, after=[stop_later(first), stop_later(second)])


def _issuer(api: Api, other: Api, count: int, answers: list[dict[str, Any]], failures: list[str]) -> None:
    """Issue on one server; every third request is retried on the other with the same Idempotency-Key."""
    for i in range(count):
        key = f"cluster-{id(answers)}-{i}"
        body = {"category": CATEGORIES[i % len(CATEGORIES)]}
        headers = {"Authorization": f"Bearer {api.kiosk}", "Idempotency-Key": key}
        first = api.http.post("/tickets", json=body, headers=headers)
        if first.status_code != 201:
            failures.append(first.text)
            continue
        answers.append(first.json())
        if i % 3 == 0:
            again = other.http.post("/tickets", json=body, headers=headers)
            if again.status_code not in (200, 201) or again.json()["id"] != first.json()["id"]:
                failures.append(f"retry on the other server: {again.status_code} {again.text}")


def _clerk(
    api: Api, username: str, window: int, stop: threading.Event, finished: list[str], failures: list[str], total: int
) -> None:
    """Call and serve at one window until every ticket was served (by any clerk)."""
    token = api.open(username, window)
    while not stop.is_set() or len(finished) < total:
        called = api.act(token, window, "call-next")
        if called.status_code == 204:  # nobody waits for this window now
            time.sleep(0.01)
            continue
        if called.status_code != 200:
            failures.append(called.text)
            return
        api.serve(token, window)
        finished.append(called.json()["ticket"]["number"])


def test_kiosks_on_one_server_clerks_on_the_other_boards_on_both(
    two_servers: tuple[RunningServer, RunningServer], make_api: Callable[[RunningServer], Api]
) -> None:
    first, second = two_servers
    kiosk_api, retry_api = make_api(first), make_api(second)
    retry_api._kiosk = kiosk_api.kiosk  # the same kiosk, retrying through the other server
    boards = [BoardListener(first.ws_url), BoardListener(second.ws_url), BoardListener(second.ws_url, since=0)]
    answers: list[dict[str, Any]] = []
    finished: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    clerks = [
        threading.Thread(target=_clerk, args=(make_api(second), name, window, stop, finished, failures, 30))
        for name, window in (("liuxia", 1), ("wangfang", 3), ("hujun", 5), ("xiaoming", 9))
    ]
    issuers = [threading.Thread(target=_issuer, args=(kiosk_api, retry_api, 30, answers, failures))]
    for thread in clerks + issuers:
        thread.start()
    for thread in issuers:
        thread.join(timeout=60)
    stop.set()
    for thread in clerks:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in clerks), "the clerks did not serve every ticket"
    assert not failures, failures[:3]

    numbers = [a["number"] for a in answers]
    assert len(numbers) == 30 and len(set(numbers)) == 30  # every acknowledged ticket once
    events = kiosk_api.events()
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "the hall's seq has a gap or a double"
    called = [e["payload"]["number"] for e in events if e["type"] == "ticket.called"]
    assert len(called) == len(set(called)), "a ticket was called twice"
    issued = {e["payload"]["number"] for e in events if e["type"] == "ticket.issued"}
    assert issued == set(numbers)
    assert sorted(finished) == sorted(called)
    last = seqs[-1]
    for board in boards:
        board.wait_for(last)
        board.close()
        start = board.start_seq or 0
        assert board.seqs == list(range(start + 1, last + 1)), "a board missed an event, or got one twice or late"
        assert sorted(board.calls) == sorted(called)


def test_a_change_on_one_server_reaches_the_other_within_a_second(
    two_servers: tuple[RunningServer, RunningServer], make_api: Callable[[RunningServer], Api]
) -> None:
    first, second = two_servers
    on_first, on_second = make_api(first), make_api(second)
    on_second._kiosk = on_first.kiosk
    assert on_second.issue("minzheng")["number"]  # the token is now cached on the second server
    token = on_first.staff("sunwei")
    on_second.ok(token, 4, "open", {"post": "A"})  # the login is cached on the second server too
    admin = on_first.staff("root", "admin")

    # A clerk deactivated on the first server is refused on the second.
    changed = on_first.http.patch(
        f"{first.url}/api/v1/staff/sunwei", json={"active": False}, headers=on_first.bearer(admin)
    )
    assert changed.status_code == 200, changed.text
    _refused_soon(lambda: on_second.act(token, 4, "call-next").status_code == 401)

    # A kiosk an administrator revoked on the first server is refused on the second.
    revoked = on_first.http.delete("/devices/kiosk-1", headers=on_first.bearer(admin))
    assert revoked.status_code == 204, revoked.text
    _refused_soon(lambda: on_second.issue_raw({"category": "minzheng"}).status_code == 401)


def test_a_login_lock_taken_on_one_server_holds_on_the_other_and_only_for_its_address(
    two_servers: tuple[RunningServer, RunningServer], make_api: Callable[[RunningServer], Api]
) -> None:
    first, second = two_servers
    on_first = make_api(first)
    on_first.staff("chenjing")

    def client(server: RunningServer, address: str) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=server.url, transport=transport, trust_env=False, timeout=10)

    def log_in(http: httpx.Client, password: str) -> int:
        return http.post("/api/v1/auth/login", json={"username": "chenjing", "password": password}).status_code

    with client(first, "127.0.0.3") as guess_first, client(second, "127.0.0.3") as guess_second:
        # A guesser balanced over both servers: its failures add up in the database, not per process (each
        # process saw only half of them, fewer than FREE_FAILURES + 1, the number that locks).
        servers = [guess_first, guess_second] * FREE_FAILURES
        assert [log_in(http, "guess") for http in servers[: FREE_FAILURES + 1]] == [401] * (FREE_FAILURES + 1)
        assert log_in(guess_second, PASSWORD) == 429 and log_in(guess_first, PASSWORD) == 429
    with client(second, "127.0.0.1") as clerk:
        assert log_in(clerk, PASSWORD) == 200  # the clerk at her own PC, through the other server


def _refused_soon(refused: Callable[[], bool], within_s: float = 1.0) -> None:
    deadline = time.monotonic() + within_s
    while not refused():
        assert time.monotonic() < deadline, "the other server still accepts it"
        time.sleep(0.05)


def test_a_board_resuming_on_the_other_server_misses_nothing(
    two_servers: tuple[RunningServer, RunningServer], make_api: Callable[[RunningServer], Api], tmp_path: Path
) -> None:
    first, second = two_servers
    on_first = make_api(first)
    board = BoardListener(first.ws_url)
    for category in CATEGORIES:
        on_first.issue(category)
    board.wait_for(len(CATEGORIES))
    board.close()
    seen = board.seqs[-1]
    for category in CATEGORIES:  # while the board is away
        on_first.issue(category)
    resumed = BoardListener(second.ws_url, since=seen)  # the second server has written nothing itself
    on_first.issue("huji")
    resumed.wait_for(seen + len(CATEGORIES) + 1)
    resumed.close()
    assert resumed.seqs == list(range(seen + 1, seen + len(CATEGORIES) + 2))


def test_a_configuration_reload_reaches_every_server_and_a_bad_file_changes_nothing(
    databases: Databases,
    clock: FakeClock,
    cheap_password_hashing: None,
    stop_later: Callable[[RunningServer], threading.Thread],
    make_api: Callable[[RunningServer], Api],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "hall"
    shutil.copytree(default_config_path().parent, folder)
    hall_file = folder / "hall.toml"
    source = functools.partial(load_config, hall_file)
    db = databases.new()
    first = start_server(db, clock, source(), config_source=source)
    second = start_server(db, clock, source(), config_source=source)
    try:
        on_first, on_second = make_api(first), make_api(second)
        admin = on_first.staff("root", "admin")
        ticket = on_first.issue("huji")

        def names() -> tuple[str, str]:
            return tuple(api.http.get("/catalog").json()["hall"]["name_zh"] for api in (on_first, on_second))  # type: ignore[return-value]

        reload_url = f"{first.url}/api/v1/config/reload"
        hall_file.write_text(
            hall_file.read_text(encoding="utf-8").replace("青山镇便民服务中心", "青山镇政务服务中心", 1)
        )
        answer = on_first.http.post(reload_url, headers=on_first.bearer(admin))
        assert answer.status_code == 200, answer.text
        assert answer.json()["halls"] == [HALL]
        deadline = time.monotonic() + 1.0
        while names() != ("青山镇政务服务中心", "青山镇政务服务中心"):
            assert time.monotonic() < deadline, f"not every server reloaded: {names()}"
            time.sleep(0.05)
        # The halls keep their day: the ticket is still there, and numbering goes on.
        assert on_second.status(ticket["track_token"]).json()["number"] == ticket["number"]
        on_second._kiosk, on_second._keys = on_first.kiosk, 100  # the same kiosk, a new request
        assert on_second.issue("huji")["number"] == "H002"

        text = hall_file.read_text(encoding="utf-8")
        hall_file.write_text(text.replace('id = "qingshan"', 'id = "Qing Shan!"', 1), encoding="utf-8")
        refused = on_first.http.post(reload_url, headers=on_first.bearer(admin))
        message = on_first.error(refused, 400, "bad_request")
        assert "nothing changed" in message and "hall.toml" in message
        time.sleep(0.5)
        assert names() == ("青山镇政务服务中心", "青山镇政务服务中心")

        clerk = on_first.staff("liuxia")
        assert on_first.http.post(reload_url, headers=on_first.bearer(clerk)).status_code == 403
    finally:
        for server in (first, second):
            stop_later(server)
        databases.drop(db)
