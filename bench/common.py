"""Shared helpers of the benchmarks: child servers, percentiles, a raw asyncio HTTP/1.1 client, tables.

- `ServerProcess` starts a server as a child process (its own session, so stopping it also stops
  anything it forked), waits for `GET /healthz` to answer 200, and stops it by its own pid/pgid. Every
  process started here is also stopped at exit (atexit, SIGTERM and SIGINT), so a benchmark that fails
  half-way leaves nothing behind.
- `HttpConnection` is one keep-alive HTTP/1.1 connection on an asyncio Protocol: requests are
  pre-built bytes, responses are parsed by Content-Length (uvicorn answers JSON with one, never chunked).
  It costs a few tens of microseconds of client CPU per request, where httpx costs ~7 ms on this kind
  of machine (see shared/HARDWARE.md), so the load generator takes little of the two shared cores.
- `closed_loop` runs N such clients, each sending its next request as soon as the previous answer
  arrived, for a warm-up and then a measured period, and reports throughput and latencies.
- `bianmin_cli`, `bianmin_server` and `config_with_caps` run the `bianmin` command line, `bianmin serve`,
  and make a copy of the demo hall configuration with other daily caps.
- `SubscriberPool` holds websocket subscribers in child processes and reports when each received
  each call message (CLOCK_MONOTONIC, comparable across the processes of one machine).
- `machine_load` and `code_version` say how busy the machine was and which commit was measured.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import http.client
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
HOST = "127.0.0.1"

# --------------------------------------------------------------------------------------------------
# Processes


_STARTED: list[subprocess.Popen[bytes]] = []


def _stop_all() -> None:
    for process in list(_STARTED):
        _terminate(process)


def _terminate(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the child leads its own process group
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    else:
        # The leader is gone; make sure nothing it started in its group lingers.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if process in _STARTED:
        _STARTED.remove(process)


def _on_signal(signum: int, _frame: object) -> None:
    _stop_all()
    raise SystemExit(128 + signum)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, _on_signal)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class ServerProcess:
    """A server child process on 127.0.0.1:port; `start()` returns once /healthz answers 200."""

    name: str
    argv: list[str]
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=child_env)
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=ROOT, start_new_session=True,
            )  # fmt: skip
        _STARTED.append(self.process)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            if healthy(self.port):
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer /healthz within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def rss_kib(pid: int) -> int:
    """The resident set of a process in KiB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds so far of every process in a process group (a server and the workers it forked)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp (field 5 of stat)
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def client_address(n: int) -> str:
    """The n-th loopback source address (127.1.0.1, 127.1.0.2, ...): Linux routes all of 127/8 to lo.

    The public endpoints rate-limit per client address; a phone of the hall's Wi-Fi has its own.
    """
    n %= 250 * 256
    return f"127.1.{n // 250}.{1 + n % 250}"


def uvicorn_config(app: object, port: int, **extra: object) -> object:
    """A uvicorn.Config with the same server settings as `bianmin serve` (queue_server/server.py)."""
    import uvicorn

    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=HOST,
        port=port,
        loop="uvloop",
        http="httptools",
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,
        log_level="warning",
        access_log=False,
        **extra,  # type: ignore[arg-type]
    )


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards `wanted` (children inherit it); return the new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# --------------------------------------------------------------------------------------------------
# Statistics and tables


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [all(_is_number(row[i]) for row in rows) if rows else False for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))

    out = [line(list(headers)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def machine_load() -> str:
    """The load average and, where the kernel reports it, the CPU pressure (share of time tasks waited for a CPU)."""
    text = f"load average {os.getloadavg()[0]:.2f}"
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        avg10 = float(first.split("avg10=")[1].split()[0])
        text += f", CPU pressure {avg10:.0f}%"
        if avg10 > 30:
            text += " (other processes compete for the CPUs: absolute figures are noisy, compare the ratios)"
    except (OSError, IndexError, ValueError):
        pass
    return text


def code_version() -> str:
    """The commit measured, and whether the server's code had uncommitted changes (read-only git calls)."""
    try:
        head = subprocess.run(
            ["git", "--no-optional-locks", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--", "queue_server", "config"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "code: unknown commit"
    return f"code: {head}" + (" + uncommitted changes in queue_server/ or config/" if dirty else "")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------------------------------
# A raw asyncio HTTP/1.1 keep-alive client


def build_request(method: str, path: str, port: int, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True)
class Response:
    status: int
    head: bytes  # the status line and headers
    body: bytes


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Response] | None = None
        self._head_end = -1
        self._length = -1
        self._lost: Exception | None = None

    @classmethod
    async def open(cls, port: int, host: str = HOST, source: str | None = None) -> HttpConnection:
        """Connect; `source`: the local address to connect from (any 127.x.y.z: one client address per phone)."""
        loop = asyncio.get_running_loop()
        local = (source, 0) if source else None
        _, protocol = await loop.create_connection(cls, host, port, local_addr=local)
        sock = protocol.transport.get_extra_info("socket") if protocol.transport else None
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionResetError("the server closed the connection")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None:
            return
        if self._head_end < 0:
            self._head_end = self._buffer.find(b"\r\n\r\n")
            if self._head_end < 0:
                return
            self._length = _content_length(bytes(self._buffer[: self._head_end]))
        end = self._head_end + 4 + self._length
        if len(self._buffer) < end:
            return
        head = bytes(self._buffer[: self._head_end])
        body = bytes(self._buffer[self._head_end + 4 : end])
        del self._buffer[:end]
        self._head_end, self._length = -1, -1
        waiter, self._waiter = self._waiter, None
        if not waiter.done():
            waiter.set_result(Response(int(head[9:12]), head, body))

    @property
    def closed(self) -> bool:
        """The connection is gone (the server closes one left idle past its keep-alive timeout)."""
        return self._lost is not None or self.transport is None

    async def request(self, raw: bytes) -> Response:
        if self._lost is not None or self.transport is None:
            raise self._lost or ConnectionError("not connected")
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self._waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _content_length(head: bytes) -> int:
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    end = lower.find(b"\r\n", at + 2)
    return int(lower[at + 17 : end if end >= 0 else None].strip())


async def request_json(
    conn: HttpConnection,
    port: int,
    method: str,
    path: str,
    payload: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, object]:
    """One JSON request on a keep-alive connection: (status, decoded body or None)."""
    import json

    body = b"" if payload is None else json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})} if payload is not None else headers
    response = await conn.request(build_request(method, path, port, all_headers, body))
    return response.status, (json.loads(response.body) if response.body else None)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    errors: list[str]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else math.nan

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


async def closed_loop(
    port: int | Sequence[int],
    clients: int,
    make_request: Callable[[int, int], bytes],
    warmup_s: float,
    measure_s: float,
    expect: Callable[[Response], bool] = lambda r: 200 <= r.status < 300,
    observe: Callable[[Response, float, float], None] | None = None,
) -> LoadResult:
    """`clients` keep-alive connections, each sending make_request(client, n) back to back.

    Requests completed during the first `warmup_s` seconds are not counted; then every request that
    completes in the next `measure_s` seconds is, with its latency (send to last byte of the answer).
    Unexpected answers are counted and the first few are kept as errors. `observe(response, done, latency_ms)`
    is called for every measured answer (`done` is its time.perf_counter()). With several ports (server
    processes), client i talks to ports[i % len(ports)]: the load is split evenly.
    """
    ports = [port] if isinstance(port, int) else list(port)
    connections = [await HttpConnection.open(ports[i % len(ports)]) for i in range(clients)]
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup_s
    stop_at = measure_from + measure_s
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    counted = 0
    clock = time.perf_counter

    async def client(index: int, conn: HttpConnection) -> None:
        nonlocal counted
        n = 0
        while True:
            raw = make_request(index, n)
            n += 1
            sent = clock()
            response = await conn.request(raw)
            done = clock()
            now = loop.time()
            if now >= stop_at:
                return
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if not expect(response) and len(errors) < 5:
                errors.append(f"{response.status}: {response.body[:300]!r}")
            if now >= measure_from:
                counted += 1
                latency = (done - sent) * 1000.0
                latencies.append(latency)
                if observe is not None:
                    observe(response, done, latency)

    try:
        clients_done = asyncio.gather(*(client(i, c) for i, c in enumerate(connections)))
        await asyncio.wait_for(clients_done, timeout=warmup_s + measure_s + 60.0)
    finally:
        for conn in connections:
            conn.close()
    return LoadResult(counted, measure_s, latencies, statuses, errors)


# --------------------------------------------------------------------------------------------------
# The Bianmin server and its command line

HALL = "qingshan"
CATEGORIES = ("jisheng", "guotu", "minzheng", "sifa", "laobao", "caizheng", "nonglin", "huji", "zonghe")


def bianmin_argv(*args: str) -> list[str]:
    return [PYTHON, "-m", "queue_server.cli", *args]


def bianmin_cli(*args: str, stdin: str | None = None) -> str:
    """Run a `bianmin` sub-command to completion and return its standard output."""
    done = subprocess.run(
        bianmin_argv(*args), input=stdin, capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"bianmin {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def bianmin_server(db: Path | str, port: int, log: Path, config: Path | None = None, workers: int = 1) -> ServerProcess:
    """`bianmin serve` on a database file or URL (not started yet); `workers` > 1: uvicorn workers on the port."""
    extra = ["--config", str(config)] if config else []
    if workers > 1:
        extra += ["--workers", str(workers)]
    return ServerProcess(
        "bianmin serve", bianmin_argv("serve", "--db", str(db), "--port", str(port), *extra), port, log
    )


def start_postgres() -> Any:
    """A throwaway PostgreSQL cluster (tests/support/pg.py: initdb + pg_ctl on a loopback port, fsync and
    synchronous_commit on), started; it is stopped and deleted at exit. `.create_database(name)` gives a URL.
    """
    from tests.support.pg import PgCluster

    cluster = PgCluster()
    atexit.register(cluster.remove)
    cluster.start()
    return cluster


@dataclass(frozen=True)
class Seeded:
    """What `seed` made: staff passwords (the same for all), kiosk tokens by device id, and (when asked)
    a logged-in session token by username."""

    password: str
    kiosks: dict[str, str]
    sessions: dict[str, str]


#: Issuances in flight while a bench fills a queue in-process: they share transactions (group commit).
FILL_CONCURRENCY = 256


def fill_queue(db: str, config: Path, numbers: range, key_prefix: str) -> list[str]:
    """Issue one ticket per number in `numbers` in this process through the store (kiosk-1, keys
    `{key_prefix}-{n}`, categories in turn); their tracking tokens."""
    from functools import partial

    from config.loader import load_config
    from queue_server.protocol import IssueRequest
    from queue_server.server import open_store
    from queue_server.services import issuing
    from queue_server.store.writer import Tx

    store = open_store(load_config(config), db)
    requests = [IssueRequest(category=c) for c in CATEGORIES]
    tokens: list[str] = []

    def issue(request: IssueRequest, key: str, tx: Tx) -> issuing.IssueResult:
        return issuing.issue_ticket(tx, request, "kiosk-1", key)

    async def issue_all() -> None:
        todo = iter(numbers)

        async def worker() -> None:
            for n in todo:
                result = await store.run(HALL, partial(issue, requests[n % len(requests)], f"{key_prefix}-{n}"))
                tokens.append(result.ticket.track_token)

        await asyncio.gather(*(worker() for _ in range(FILL_CONCURRENCY)))

    try:
        asyncio.run(issue_all())
    finally:
        store.close()
    return tokens


def seed(
    db: Path | str,
    config: Path,
    staff: Sequence[tuple[str, str]] = (),
    kiosks: Sequence[str] = ("kiosk-1",),
    hall: str = HALL,
    log_in: bool = False,
    cheap_hashes: bool = False,
) -> Seeded:
    """Migrate a database and add staff accounts (username, role) and kiosk tokens, in this process (fast:
    no `bianmin` command start-up per account). Run it before any server starts on the database.

    `log_in`: also log every account in (sessions live in the database, so a server started later, or on a
    copy of the database, accepts their tokens: no password hashing on the server while it is measured).
    `cheap_hashes`: hash these passwords with argon2's lightest parameters (a verifier reads them from the
    hash), so that seeding dozens of accounts takes a second, not a minute; never for a bench of logins.
    """
    import secrets

    from config.loader import load_config
    from queue_server.server import open_store
    from queue_server.services import accounts
    from queue_server.store.writer import to_us

    password = "bench-" + secrets.token_urlsafe(9)
    store = open_store(load_config(config), str(db))
    hasher = accounts._hasher
    if cheap_hashes:
        from argon2 import PasswordHasher

        accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        for username, role in staff:
            store.run_global_sync(
                lambda conn, now, u=username, r=role: accounts.add_user(  # type: ignore[misc]
                    conn, to_us(now), u, u, accounts.Role(r), password
                )
            )
        tokens = {
            device: store.run_global_sync(
                lambda conn, now, d=device: accounts.add_device(conn, to_us(now), hall, d)  # type: ignore[misc]
            )
            for device in kiosks
        }
        sessions = {}
        for username, _role in staff if log_in else ():
            result = store.run_global_sync(
                lambda conn, now, u=username: _log_in(conn, to_us(now), u, password)  # type: ignore[misc]
            )
            if result is None:
                raise RuntimeError(f"{username} could not log in with the password just given")
            sessions[username] = result.token
    finally:
        accounts._hasher = hasher
        store.close()
    return Seeded(password, tokens, sessions)


def _log_in(conn: Any, now_us: int, username: str, password: str) -> Any:
    """A login as the API does it (begin, check the hash, finish), in one transaction: for seeding only."""
    from queue_server.services import accounts

    attempt = accounts.begin_login(conn, now_us, username, "seeding")
    ok = accounts.verify_password(attempt.password_hash, password)
    return accounts.finish_login(conn, now_us, attempt, ok, username, "seeding")


def config_with_caps(dest: Path, daily_cap: int) -> Path:
    """A copy of the bundled demo configuration whose categories all have `daily_cap`; returns its main file.

    The copy's relative glob patterns (catalogue, calendar) are made absolute so they still find the
    bundled files; the copy is loaded once here to make sure it is valid and has the caps asked for.
    """
    import re
    import tomllib

    from config.loader import default_config_path, load_config

    source = default_config_path()
    text = source.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    patterns = [*data.get("calendar", [])]
    for hall in data.get("halls", []):
        patterns += hall.get("catalog", [])
    for pattern in set(patterns):
        if not os.path.isabs(pattern):
            absolute = os.path.normpath(os.path.join(source.parent, pattern))
            text = text.replace(f'"{pattern}"', f'"{absolute}"')
    text, count = re.subn(r"(?m)^(\s*daily_cap\s*=\s*)\d+", rf"\g<1>{daily_cap}", text)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "hall.toml"
    out.write_text(text, encoding="utf-8")
    loaded = load_config(out)
    caps = {c.daily_cap for hall in loaded.halls for c in hall.categories}
    if count == 0 or caps != {daily_cap}:
        raise RuntimeError(f"could not set daily_cap={daily_cap} in a copy of {source} (found caps {caps})")
    return out


# --------------------------------------------------------------------------------------------------
# Websocket subscribers in child processes
#
# Each worker process holds many `websockets` client connections on uvloop. The receive time of a
# message is taken in the connection's data_received (when the event loop read the bytes from the
# socket, before the library parses them and before the reading task is scheduled) and, for
# comparison, when `recv()` handed the message to the application. Both are CLOCK_MONOTONIC
# (time.monotonic_ns), which is one clock for every process on the machine, so they compare with the
# trigger time taken in the controller process.

CALL_PREFIX = '{"type":"call"'
NUMBER_KEY = '"number":"'


def _call_number(text: str) -> str | None:
    """The ticket number of a call message (the first string "number" field), else None."""
    if not text.startswith(CALL_PREFIX):
        return None
    at = text.find(NUMBER_KEY)
    if at < 0:
        return None
    start = at + len(NUMBER_KEY)
    return text[start : text.find('"', start)]


SEQ_KEY = '"seq":'


def _seq_of(text: str) -> int | None:
    """The top-level seq of a board message (messages start `{"type":"...","seq":N`), else None."""
    at = text.find(SEQ_KEY, 0, 64)
    if at < 0:
        return None
    start = end = at + len(SEQ_KEY)
    while end < len(text) and text[end].isdigit():
        end += 1
    return int(text[start:end]) if end > start else None


async def _subscriber_loop(pipe: object) -> None:
    from websockets.asyncio.client import ClientConnection, connect

    class StampedConnection(ClientConnection):
        rx_ns = 0

        def data_received(self, data: bytes) -> None:
            self.rx_ns = time.monotonic_ns()
            super().data_received(data)

    loop = asyncio.get_running_loop()
    connections: list[StampedConnection] = []
    readers: list[asyncio.Task[None]] = []
    received: dict[str, list[tuple[int, int]]] = {}  # number -> [(socket ns, app ns)]
    first_sizes: list[int] = []

    orders: list[list[int]] = []  # per checked connection: [last seq, messages, gaps, repeats or out of order]
    examples: list[str] = []
    trails: list[tuple[str, list[int]]] = []  # per category follower: (category, [snapshot seq, every seq after])

    async def read(
        conn: StampedConnection, ready: asyncio.Event, order: list[int] | None, trail: list[int] | None
    ) -> None:
        try:
            async for message in conn:
                app_ns = time.monotonic_ns()
                text = message if isinstance(message, str) else message.decode()
                if trail is not None:
                    seq = _seq_of(text)
                    if seq is not None:
                        trail.append(seq)
                if order is not None:
                    seq = _seq_of(text)
                    if seq is not None:
                        if ready.is_set():  # an event: the next seq, exactly
                            order[1] += 1
                            if seq != order[0] + 1:
                                order[2 if seq > order[0] + 1 else 3] += 1
                                if len(examples) < 5:
                                    examples.append(f"after seq {order[0]} came seq {seq}")
                        order[0] = max(order[0], seq)
                if not ready.is_set():
                    first_sizes.append(len(text.encode()))
                    ready.set()
                    continue
                number = _call_number(text)
                if number is not None:
                    received.setdefault(number, []).append((conn.rx_ns, app_ns))
        except Exception:  # a closed connection ends its reader
            pass
        finally:
            ready.set()

    async def open_one(url: str, gate: asyncio.Semaphore, check: bool, follow: str | None) -> None:
        async with gate:
            conn = await connect(
                url, compression=None, ping_interval=None, open_timeout=120, max_size=2**20,
                create_connection=StampedConnection,
            )  # fmt: skip
            ready = asyncio.Event()
            order = [0, 0, 0, 0] if check and follow is None else None
            if order is not None:
                orders.append(order)
            trail: list[int] | None = [] if follow is not None else None
            if trail is not None:
                trails.append((str(follow), trail))
            connections.append(conn)  # type: ignore[arg-type]
            readers.append(asyncio.create_task(read(conn, ready, order, trail)))  # type: ignore[arg-type]
            await ready.wait()  # the snapshot (or hello) arrived

    while True:
        command, argument = await loop.run_in_executor(None, pipe.recv)  # type: ignore[attr-defined]
        try:
            if command == "connect":
                url, count, check, follow = (*argument, False, None)[:4]
                gate = asyncio.Semaphore(64)
                before = len(connections)
                results = await asyncio.gather(
                    *(open_one(url, gate, check, follow) for _ in range(count)), return_exceptions=True
                )
                failures = [repr(r) for r in results if isinstance(r, BaseException)]
                gc.collect()
                gc.freeze()  # no full collection of the long-lived connections while timestamps are taken
                answer: object = {"connected": len(connections) - before, "failures": failures[:3],
                                  "first_size": max(first_sizes, default=0)}  # fmt: skip
            elif command == "report":
                answer, received = received, {}
            elif command == "order":
                lasts: dict[int, int] = {}
                for order in orders:
                    lasts[order[0]] = lasts.get(order[0], 0) + 1
                answer = {"connections": len(orders), "messages": sum(o[1] for o in orders),
                          "gaps": sum(o[2] for o in orders), "repeats": sum(o[3] for o in orders),
                          "last_seqs": lasts, "examples": examples[:5], "trails": trails}  # fmt: skip
            elif command == "close":
                await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
                for task in readers:
                    task.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
                connections.clear()
                readers.clear()
                first_sizes.clear()
                orders.clear()
                examples.clear()
                trails.clear()
                received = {}
                gc.unfreeze()
                answer = "closed"
            elif command == "exit":
                pipe.send("bye")  # type: ignore[attr-defined]
                return
            else:
                answer = f"unknown command {command!r}"
        except Exception as error:
            answer = {"error": repr(error)}
        pipe.send(answer)  # type: ignore[attr-defined]


def _subscriber_main(pipe: object, nofile: int) -> None:
    raise_nofile(nofile)
    install_uvloop()
    asyncio.run(_subscriber_loop(pipe))


class SubscriberPool:
    """`processes` child processes that open, hold and close websocket subscribers on command."""

    def __init__(self, processes: int, per_process_max: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.workers = []
        for _ in range(processes):
            parent, child = context.Pipe()
            worker = context.Process(target=_subscriber_main, args=(child, per_process_max + 256), daemon=True)
            worker.start()
            self.pipes.append(parent)
            self.workers.append(worker)

    def _all(self, commands: list[tuple[str, object]], timeout: float = 300.0) -> list[Any]:
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RuntimeError("a subscriber process did not answer")
            answers.append(pipe.recv())
        return answers

    def connect(self, url: str, total: int, check_order: bool = False, follow: str | None = None) -> dict[str, int]:
        """Open `total` subscribers spread over the processes; return once each got its first message.

        `check_order`: each of them checks that every message after the first carries the seq after the last
        (see `order`). `follow`: they follow one category (the url says which), so they see only some seqs:
        each keeps every seq it got, under this label, for the caller to check (`order`'s "trails").
        """
        shares = [total // len(self.pipes) + (1 if i < total % len(self.pipes) else 0) for i in range(len(self.pipes))]
        answers = self._all([("connect", (url, share, check_order, follow)) for share in shares])
        errors = [a for a in answers if not isinstance(a, dict) or "error" in a]
        if errors:
            raise RuntimeError(f"subscribers failed: {errors[:2]}")
        connected = sum(int(a["connected"]) for a in answers)
        failures = [f for a in answers for f in a["failures"]]
        if connected != total:
            raise RuntimeError(f"only {connected} of {total} subscribers connected: {failures[:3]}")
        return {"connected": connected, "first_size": max(int(a["first_size"]) for a in answers)}

    def report(self) -> dict[str, list[tuple[int, int]]]:
        """The (socket ns, app ns) receive times of every call message since the last report, by number."""
        merged: dict[str, list[tuple[int, int]]] = {}
        for answer in self._all([("report", None)] * len(self.pipes)):
            for number, stamps in answer.items():
                merged.setdefault(number, []).extend(stamps)
        return merged

    def order(self) -> dict[str, Any]:
        """Of the subscribers opened with check_order: connections, event messages, gaps (a seq skipped), repeats
        (a seq again or out of order), how many connections ended at each last seq, and a few examples; of the
        category followers, "trails": (category, [snapshot seq, every seq after]) each.
        """
        merged: dict[str, Any] = {"connections": 0, "messages": 0, "gaps": 0, "repeats": 0, "last_seqs": {},
                                  "examples": [], "trails": []}  # fmt: skip
        for answer in self._all([("order", None)] * len(self.pipes)):
            for key in ("connections", "messages", "gaps", "repeats"):
                merged[key] += int(answer[key])
            for seq, count in answer["last_seqs"].items():
                merged["last_seqs"][int(seq)] = merged["last_seqs"].get(int(seq), 0) + count
            merged["examples"] += answer["examples"]
            merged["trails"] += [(category, list(seqs)) for category, seqs in answer["trails"]]
        return merged

    def close_connections(self) -> None:
        self._all([("close", None)] * len(self.pipes))

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError, BrokenPipeError):
                pipe.send(("exit", None))
        for worker in self.workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)

    def __enter__(self) -> SubscriberPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
