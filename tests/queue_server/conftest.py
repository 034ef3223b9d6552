"""Fixtures for the API tests: a real queue server on a loopback port (on SQLite and on PostgreSQL), its clients."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from config.loader import default_config_path, load_config
from config.schema import HallConfig
from queue_server.protocol import ServerMessage, parse_server_message
from queue_server.server import open_store
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.support.clock import FakeClock
from tests.support.hashing import cheap_hashing
from tests.support.pg import PgCluster
from tests.support.server import HALL, PASSWORD, RunningServer, start_server

RECV_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 10.0
PG_TEMPLATE = "bianmin_template"
_PG_NAMES = itertools.count(1)  # one cluster per test session (per xdist worker): the names need not be more unique


@pytest.fixture(scope="session")
def hall_config() -> HallConfig:
    """The bundled demo hall (qingshan); frozen, so one load serves every test."""
    return load_config(default_config_path())


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest cost: the default costs ~0.2 s a hash, and every test creates accounts."""
    cheap_hashing(monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)], ids=["sqlite", "pg"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database every server of the test runs on: each test that starts one runs once on each.

    A module whose tests are about something else than the store (or need a SQLite file) overrides
    this fixture with one returning "sqlite", and says why.
    """
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory, hall_config: HallConfig) -> Path:
    """An empty SQLite database at the newest schema: each test copies it rather than run the migrations again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_store(hall_config, path).close()
    assert not path.with_name("template.db-wal").exists()  # the last close checkpointed the log into the file
    return path


class PgDatabases:
    """This session's PostgreSQL databases: each a copy of the migrated template, dropped once its servers stopped."""

    def __init__(self, cluster: PgCluster, template: str) -> None:
        self.cluster, self.template = cluster, template
        self._dropping: list[threading.Thread] = []

    def new(self, migrated: bool = True) -> str:
        # CREATE DATABASE … TEMPLATE copies the migrated schema in ~50 ms; the migrations take ~1 s.
        return self.cluster.create_database(f"t_{next(_PG_NAMES)}", template=self.template if migrated else None)

    def drop(self, url: str, after: Sequence[threading.Thread] = ()) -> None:
        """Drop the database in the background, once the threads stopping its servers are done."""

        def run() -> None:
            for thread in after:
                thread.join(timeout=15)
            self.cluster.drop_database(url.rsplit("/", 1)[1])

        thread = threading.Thread(target=run, name="drop-test-database")
        thread.start()
        self._dropping.append(thread)

    def join(self) -> None:
        for thread in self._dropping:
            thread.join(timeout=30)
            assert not thread.is_alive(), "a test database was not dropped"


@pytest.fixture(scope="session")
def pg_databases(pg_cluster: PgCluster, hall_config: HallConfig) -> Iterator[PgDatabases]:
    """Fresh PostgreSQL databases at the newest schema; the template is migrated once per session.

    Its teardown runs before the cluster's (it depends on it): every pending drop finishes first.
    """
    pg_cluster.create_database(PG_TEMPLATE)
    open_store(hall_config, pg_cluster.url(PG_TEMPLATE)).close()  # closing disposes the pool: no one is left on it
    databases = PgDatabases(pg_cluster, PG_TEMPLATE)
    yield databases
    databases.join()


class Databases:
    """Fresh databases at the newest schema on the test's backend: a copied SQLite file, or a PostgreSQL database."""

    def __init__(self, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.backend, self.tmp_path, self.request = backend, tmp_path, request
        self.made = 0

    def new(self, migrated: bool = True) -> str | Path:
        """A SQLite path or a database URL (start_server, spawn_server and open_store take either).

        migrated=False: an empty database (a path where no file is yet), for the migration tests.
        """
        self.made += 1
        if self.backend == "sqlite":
            db = self.tmp_path / f"queue-{self.made}.db"
            if migrated:
                shutil.copyfile(self.request.getfixturevalue("migrated_db"), db)
            return db
        pg: PgDatabases = self.request.getfixturevalue("pg_databases")
        return pg.new(migrated)

    def drop(self, db: str | Path, after: Sequence[threading.Thread] = ()) -> None:
        """Drop a PostgreSQL database once `after` (its servers' stopping) is done; a SQLite file goes with tmp_path."""
        if isinstance(db, str):
            pg: PgDatabases = self.request.getfixturevalue("pg_databases")
            pg.drop(db, after)


@pytest.fixture
def databases(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Databases:
    return Databases(backend, tmp_path, request)


@pytest.fixture
def new_db(databases: Databases) -> Iterator[Callable[..., str | Path]]:
    """new_db() -> a fresh migrated database (SQLite path or URL) for servers the test starts and stops itself.

    new_db(migrated=False) -> an empty one. Each is dropped after the test: stop its servers (and dispose
    of its engines) before the test ends.
    """
    made: list[str | Path] = []

    def new(migrated: bool = True) -> str | Path:
        made.append(databases.new(migrated))
        return made[-1]

    yield new
    for db in made:
        databases.drop(db)


@pytest.fixture(scope="session")
def stop_later() -> Iterator[Callable[[RunningServer], threading.Thread]]:
    """Stop servers on background threads: uvicorn takes ~0.2 s to shut down, and nothing waits for it."""
    stopping: list[threading.Thread] = []

    def stop(server: RunningServer) -> threading.Thread:
        thread = threading.Thread(target=server.stop, name="stop-test-server")
        thread.start()
        stopping.append(thread)
        return thread

    yield stop
    for thread in stopping:
        thread.join(timeout=15)
        assert not thread.is_alive(), "a test server did not stop"


@pytest.fixture
def start_hall(
    databases: Databases,
    clock: FakeClock,
    cheap_password_hashing: None,
    stop_later: Callable[[RunningServer], threading.Thread],
) -> Iterator[Callable[..., RunningServer]]:
    """Start a server on a fresh database of the test's backend (with a config of the test's own if it likes)."""
    running: list[tuple[RunningServer, str | Path]] = []

    def start(config: HallConfig | None = None) -> RunningServer:
        db = databases.new()
        try:
            server = start_server(db, clock, config)
        except BaseException:
            databases.drop(db)
            raise
        running.append((server, db))
        return server

    yield start
    for server, db in running:
        databases.drop(db, after=[stop_later(server)])


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

    def staff(
        self,
        username: str,
        role: str = "clerk",
        name: str | None = None,
        halls: list[str] | None = None,
        point: str | None = None,
    ) -> str:
        """A login token for `username`, created on first use (of this hall unless told; every hall for an admin;
        a village agent of `point`)."""
        if halls is None and role != "admin":
            halls = [self.hall]
        if username not in self.server.tokens:
            # As RunningServer.add_staff, but logging in through this client: a new httpx client each time
            # (httpx.post) loads the system's CA certificates, which costs more than the rest of a test.
            self.server.store.run_global_sync(
                lambda conn, now: accounts.add_user(
                    conn, to_us(now), username, name or username, accounts.Role(role), PASSWORD, halls, point=point
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


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
    ids=["sqlite", "pg"],
)
def shared_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hall_config: HallConfig,
    tls: ssl.SSLContext,
    stop_later: Callable[[RunningServer], threading.Thread],
) -> Iterator[Api]:
    """One server on each backend for a module's tests that only read or are refused, and check so.

    Each test of a big parametrized table of such calls otherwise started a server of its own (~0.5 s on
    SQLite, ~0.8 s on PostgreSQL, most of it FastAPI building the app's routes). A test using this one must
    leave the hall as it found it (it asserts that, e.g. the seq is unchanged) and must not depend on the
    order of the tests: no clock moves, no rate-limited route called more than its burst over the module.
    Accounts it makes are hashed cheaply, as start_hall's are (for the rest of the module, too).
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        cheap_hashing(monkeypatch)
        databases = Databases(str(request.param), tmp_path_factory.mktemp("shared-hall"), request)
        db = databases.new()
        try:
            server = start_server(db, FakeClock(), hall_config)
        except BaseException:
            databases.drop(db)
            raise
        client = Api(server, tls)
        try:
            yield client
        finally:
            client.close()
            databases.drop(db, after=[stop_later(server)])


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
