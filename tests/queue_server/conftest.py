"""Fixtures for the API tests: a real queue server on a loopback port, an HTTP client and board websockets."""

from __future__ import annotations

import contextlib
import json
import shutil
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from config.loader import default_config_path, load_config
from config.schema import HallConfig
from queue_server.protocol import ServerMessage, parse_server_message
from queue_server.server import open_store
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.support.clock import FakeClock
from tests.support.server import HALL, PASSWORD, RunningServer, start_server

RECV_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 10.0


@pytest.fixture(scope="session")
def hall_config() -> HallConfig:
    """The bundled demo hall (qingshan); frozen, so one load serves every test."""
    return load_config(default_config_path())


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest cost: the default costs ~0.2 s a hash, and every test creates accounts."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not a real password"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory, hall_config: HallConfig) -> Path:
    """An empty database at the newest schema: each test copies it rather than run the migrations again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_store(hall_config, path).close()
    assert not path.with_name("template.db-wal").exists()  # the last close checkpointed the log into the file
    return path


@pytest.fixture(scope="session")
def stop_later() -> Iterator[Callable[[RunningServer], None]]:
    """Stop servers on background threads: uvicorn takes ~0.2 s to shut down, and nothing waits for it."""
    stopping: list[threading.Thread] = []

    def stop(server: RunningServer) -> None:
        thread = threading.Thread(target=server.stop, name="stop-test-server")
        thread.start()
        stopping.append(thread)

    yield stop
    for thread in stopping:
        thread.join(timeout=15)
        assert not thread.is_alive(), "a test server did not stop"


@pytest.fixture
def start_hall(
    tmp_path: Path,
    migrated_db: Path,
    clock: FakeClock,
    cheap_password_hashing: None,
    stop_later: Callable[[RunningServer], None],
) -> Iterator[Callable[..., RunningServer]]:
    """Start a server on a fresh SQLite file in tmp_path (with a config of the test's own if it likes)."""
    running: list[RunningServer] = []

    def start(config: HallConfig | None = None) -> RunningServer:
        db = tmp_path / f"queue-{len(running)}.db"
        shutil.copyfile(migrated_db, db)
        server = start_server(db, clock, config)
        running.append(server)
        return server

    yield start
    for server in running:
        stop_later(server)


@pytest.fixture
def server(start_hall: Callable[..., RunningServer], hall_config: HallConfig) -> RunningServer:
    return start_hall(hall_config)


def check_error_shape(response: httpx.Response) -> None:
    """Every 4xx answer is JSON {"error": {"code": ..., "message": ...}}: checked on every response of every test."""
    if 400 <= response.status_code < 500:
        response.read()
        assert response.headers["content-type"].startswith("application/json"), response.text
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


class Api:
    """The hall's HTTP API as a kiosk, a clerk or a manager uses it."""

    def __init__(self, server: RunningServer, tls: ssl.SSLContext, hall: str = HALL) -> None:
        self.server = server
        self.hall = hall
        self.http = httpx.Client(
            base_url=f"{server.url}/api/v1/halls/{hall}",
            timeout=HTTP_TIMEOUT_S,
            trust_env=False,
            verify=tls,  # plain HTTP on loopback; passed in only so each client need not load the CA bundle
            event_hooks={"response": [check_error_shape]},
        )
        self._kiosk: str | None = None
        self._keys = 0

    def close(self) -> None:
        self.http.close()

    # -- tokens ----------------------------------------------------------------------------------

    @property
    def kiosk(self) -> str:
        """The device token of kiosk-1, registered on first use."""
        if self._kiosk is None:
            self._kiosk = self.server.add_device("kiosk-1", self.hall)
        return self._kiosk

    def staff(self, username: str, role: str = "clerk", name: str | None = None, halls: list[str] | None = None) -> str:
        """A login token for `username`, created on first use (of this hall unless told; every hall for an admin)."""
        if halls is None and role != "admin":
            halls = [self.hall]
        if username not in self.server.tokens:
            # As RunningServer.add_staff, but logging in through this client: a new httpx client each time
            # (httpx.post) loads the system's CA certificates, which costs more than the rest of a test.
            self.server.store.run_global_sync(
                lambda conn, now: accounts.add_user(
                    conn, to_us(now), username, name or username, accounts.Role(role), PASSWORD, halls
                )
            )
            answer = self.http.post(
                f"{self.server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            self.server.tokens[username] = answer.json()["access_token"]
        return self.server.tokens[username]

    @staticmethod
    def bearer(token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def new_key(self) -> str:
        self._keys += 1
        return f"test-key-{self._keys}"

    # -- kiosk -----------------------------------------------------------------------------------

    def issue_raw(
        self, body: dict[str, Any], *, key: str | None = "new", token: str | None = "kiosk"
    ) -> httpx.Response:
        headers = self.bearer(self.kiosk if token == "kiosk" else token)
        if key is not None:
            headers["Idempotency-Key"] = self.new_key() if key == "new" else key
        return self.http.post("/tickets", json=body, headers=headers)

    def issue(self, category: str | None = None, *, item_id: str | None = None, priority: str | None = None) -> Any:
        """Issue a ticket as kiosk-1 and return the answer's JSON (it must be 201)."""
        body = {k: v for k, v in {"category": category, "item_id": item_id, "priority": priority}.items() if v}
        response = self.issue_raw(body)
        assert response.status_code == 201, response.text
        return response.json()

    def requeue(self, track_token: str, token: str | None = "kiosk") -> httpx.Response:
        return self.http.post(
            f"/tickets/{track_token}/requeue", headers=self.bearer(self.kiosk if token == "kiosk" else token)
        )

    # -- public ----------------------------------------------------------------------------------

    def status(self, track_token: str) -> httpx.Response:
        return self.http.get(f"/tickets/{track_token}")

    def board(self) -> Any:
        response = self.http.get("/board")
        assert response.status_code == 200, response.text
        return response.json()

    def seq(self) -> int:
        return int(self.board()["seq"])

    # -- staff -----------------------------------------------------------------------------------

    def act(self, token: str | None, window: int, action: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """POST /windows/{window}/{action} with the token of the clerk (or anyone else)."""
        return self.http.post(f"/windows/{window}/{action}", json=body, headers=self.bearer(token))

    def ok(self, token: str | None, window: int, action: str, body: dict[str, Any] | None = None) -> Any:
        response = self.act(token, window, action, body)
        assert response.status_code == 200, response.text
        return response.json()

    def open(self, username: str, window: int, post: str = "A") -> str:
        """Log `username` in, open `window` on `post`, and return the login token."""
        token = self.staff(username)
        self.ok(token, window, "open", {"post": post})
        return token

    def serve(self, token: str, window: int, case: dict[str, Any] | None = None) -> Any:
        """Start and finish the window's called ticket (即办件 unless told otherwise)."""
        self.ok(token, window, "start")
        return self.ok(token, window, "finish", case or {"case_class": "immediate"})

    def events(self, token: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        response = self.http.get(
            "/events", params={"since": since, "limit": 1000}, headers=self.bearer(token or self.manager)
        )
        assert response.status_code == 200, response.text
        return list(response.json()["events"])

    @property
    def manager(self) -> str:
        return self.staff("director", "manager")

    @staticmethod
    def error(response: httpx.Response, status: int, code: str | None = None) -> str:
        """Assert an error answer with this status (and code) and return its message."""
        assert response.status_code == status, response.text
        error = response.json()["error"]
        if code is not None:
            assert error["code"] == code, error
        return str(error["message"])


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    return ssl.create_default_context()


@pytest.fixture
def api(server: RunningServer, tls: ssl.SSLContext) -> Iterator[Api]:
    client = Api(server, tls)
    yield client
    client.close()


@pytest.fixture
def make_api(tls: ssl.SSLContext) -> Iterator[Callable[[RunningServer], Api]]:
    """An Api for a server the test started itself (with its own config)."""
    made: list[Api] = []

    def make(server: RunningServer) -> Api:
        made.append(Api(server, tls))
        return made[-1]

    yield make
    for client in made:
        client.close()


# -- board websockets ---------------------------------------------------------------------------


class Board:
    """A board's websocket connection: every message is parsed by the typed protocol."""

    def __init__(self, connection: ClientConnection) -> None:
        self.ws = connection

    def recv(self, timeout: float = RECV_TIMEOUT_S) -> ServerMessage:
        text = self.ws.recv(timeout=timeout)
        return parse_server_message(text)

    def send_json(self, message: object) -> None:
        self.ws.send(json.dumps(message))

    def closed_with(self, timeout: float = RECV_TIMEOUT_S) -> tuple[int, str]:
        """Read until the server closes the connection; return its close code and reason."""
        try:
            while True:
                self.ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "the server closed without a close frame"
            return closed.rcvd.code, closed.rcvd.reason
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def board(server: RunningServer) -> Iterator[Callable[..., Board]]:
    """Open board websockets on the server: board() or board(since=N) or board(hall="x", query="since=y")."""
    with contextlib.ExitStack() as opened:

        def open_board(since: int | None = None, *, hall: str = HALL, query: str | None = None) -> Board:
            if query is None and since is not None:
                query = f"since={since}"
            url = f"{server.ws_url}/ws/halls/{hall}/board" + (f"?{query}" if query else "")
            connection = connect(url, open_timeout=RECV_TIMEOUT_S, close_timeout=2, proxy=None, compression=None)
            return Board(opened.enter_context(connection))

        yield open_board
