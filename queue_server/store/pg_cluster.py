"""A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory on a loopback port.

The tests, the benchmarks and `bianmin demo county` start one each; nothing of a real deployment uses it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

USER = "bianmin"  # the cluster's superuser (initdb -U): the role every test URL connects as
START_S = 30  # pg_ctl -w -t: a start that takes longer is a failure, not a hang
COMMAND_S = 120.0  # initdb writes and syncs the whole catalogue: slow on a loaded machine, never endless
MIN_VERSION = 15
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgUnavailable(Exception):
    """PostgreSQL's server binaries are not installed here."""


def find_bindir() -> Path:
    """The newest PostgreSQL server binaries: $BIANMIN_PG_BIN, else /usr/lib/postgresql/*/bin (Debian), else PATH."""
    given = os.environ.get("BIANMIN_PG_BIN")
    if given:
        if not (Path(given) / "initdb").is_file():
            raise PgUnavailable(f"BIANMIN_PG_BIN={given} holds no initdb")
        return Path(given)
    versions = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if bindir.parent.name.isdigit() and (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            versions.append((int(bindir.parent.name), bindir))
    if versions:
        version, bindir = max(versions)
        if version < MIN_VERSION:
            raise PgUnavailable(f"PostgreSQL {version} at {bindir} is older than {MIN_VERSION}")
        return bindir
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PgUnavailable("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")


class PgCluster:
    """One PostgreSQL cluster of its own: a data directory in a temporary folder, listening on 127.0.0.1 only.

    As root the server runs as the `postgres` user (initdb refuses root) and the folder belongs to it.
    Durability is PostgreSQL's default (fsync and synchronous_commit on): the tests see what a hall gets.
    """

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        owner = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable("running as root, and there is no postgres user to run PostgreSQL as") from None
            if shutil.which("runuser") is None:
                raise PgUnavailable("running as root, and runuser (util-linux) is missing")
        self.base = Path(tempfile.mkdtemp(prefix="bianmin-pg-"))  # in /tmp: the postgres user can reach it
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = 0
        self._as: list[str] = []
        self.running = False
        if owner is not None:
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        try:
            self._run(["initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C"])
        except BaseException:
            self.remove()
            raise

    # -- the server ------------------------------------------------------------------------------

    def _run(self, command: Sequence[str], timeout: float = COMMAND_S) -> None:
        program = str(self.bindir / command[0])
        done = subprocess.run(
            [*self._as, program, *command[1:]],
            cwd=self.base,  # the postgres user may not read the caller's directory
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{command[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}"
                f"\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return f"server log {self.log}:\n{self.log.read_text(errors='replace')[-2000:]}"
        return ""

    def start(self, attempts: int = 3) -> None:
        """Start the server: on a free port the first time, then always on that same port and data directory."""
        assert not self.running, "the cluster is running"
        for attempt in range(attempts):
            port = self.port or free_port()
            options = (
                f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base}"
                " -c fsync=on -c synchronous_commit=on -c max_connections=200"
            )
            command = ["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options]
            try:
                self._run([*command, "-w", "-t", str(START_S), "start"], timeout=START_S + 10)
            except (RuntimeError, subprocess.TimeoutExpired):
                self._stop_quietly()
                if attempt == attempts - 1:
                    raise
                # A first start: another test's socket may have taken the free port in between, try another.
                # A restart keeps its port (the tests' URLs hold it): try again after a moment.
                time.sleep(0.5)
                continue
            self.port = port
            self.running = True
            return

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: no shutdown checkpoint, as after a crash; the next start recovers)."""
        assert mode in ("smart", "fast", "immediate"), mode
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(START_S), "stop"], timeout=START_S + 10)
        self.running = False

    def kill(self) -> None:
        """SIGKILL the postmaster and all its processes, as a crash of the machine would (the next start recovers)."""
        pid = self._postmaster_pid()
        if pid is not None:
            victims = [pid, *_children(pid)]
            for victim in victims:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
            # A new postmaster refuses to start while an old process still holds the shared memory.
            deadline = time.monotonic() + START_S
            while any(_alive(victim) for victim in victims):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL processes {victims} outlived SIGKILL")
                time.sleep(0.02)
        self.running = False

    def _postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def _stop_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "10", "stop"], timeout=20)

    def remove(self) -> None:
        """Stop the server if it runs and delete everything it wrote."""
        if self.running or self._postmaster_pid() is not None:
            self._stop_quietly()
            self.running = False
        shutil.rmtree(self.base, ignore_errors=True)

    # -- databases -------------------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{dbname}"

    def _admin(self, sql: str) -> None:
        # CREATE/DROP DATABASE refuse to run inside a transaction: autocommit.
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (a copy of `template` if given: no one may be connected to it) and return its URL."""
        _check_name(name)
        if template is not None:
            _check_name(template)
        self._admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still on it."""
        _check_name(name)
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(pid):
                found.append(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Whether the process still runs (a zombie waiting for its parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _check_name(name: str) -> None:
    # Database names go into SQL text (DDL takes no parameters): plain lower-case identifiers only.
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a plain database name: {name!r}")
