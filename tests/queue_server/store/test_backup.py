"""`bianmin db backup` while a real server issues tickets, and `bianmin db restore`: every acknowledged ticket is back.

A `bianmin serve` child process issues tickets to two kiosk threads over HTTP as fast as it answers. Once some
tickets are acknowledged, `bianmin db backup` runs (as its own process) with the issuing still going on; the
issuing goes on after it too. The backup is restored into a new database, a new server is started on it, and
every ticket acknowledged before the backup started must be found there by its track token, in the numbers
handed out. On SQLite (the online backup API) and on PostgreSQL (pg_dump, pg_restore of the cluster's version).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.queue_server.test_crash import read_demo_accounts
from tests.support.load import API, shanghai_day
from tests.support.server import ServerProcess, spawn_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
BEFORE_BACKUP = 20  # acknowledged tickets before the backup starts
AFTER_BACKUP = 10  # and after it ended, still issuing
BUDGET_S = 120.0


def _bianmin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    path = f"{PG_BIN}{os.pathsep}{os.environ.get('PATH', '')}" if PG_BIN.is_dir() else os.environ.get("PATH", "")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": path}
    command = [sys.executable, "-m", "queue_server.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False)


class Kiosks:
    """Kiosk threads issuing tickets until told to stop; each acknowledged ticket with the time of its answer."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.acked: list[tuple[float, dict[str, Any]]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.keys = itertools.count(1)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(2)]

    def run(self, n: int) -> None:
        # All nine categories of the demo hall (200 a day each), a ticket every 20 ms a kiosk at most: a slow
        # backup on a busy machine must not run the day's caps out (1,800 tickets) before it ends.
        categories = ["jisheng", "guotu", "minzheng", "sifa", "laobao", "caizheng", "nonglin", "huji", "zonghe"]
        with httpx.Client(base_url=self.url, timeout=30, trust_env=False) as client:
            while not self.stop.is_set():
                key = f"backup-{n}-{next(self.keys)}"
                headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
                body = {"category": categories[len(self.acked) % len(categories)]}
                try:
                    answer = client.post(f"{API}/tickets", json=body, headers=headers)
                except httpx.TransportError as error:
                    self.errors.append(f"{key}: {error!r}")
                    continue
                if answer.status_code != 201:
                    self.errors.append(f"{key}: {answer.status_code} {answer.text[:200]}")
                    continue
                with self.lock:
                    self.acked.append((time.monotonic(), answer.json()))
                self.stop.wait(0.02)

    def wait_for(self, count: int, deadline: float) -> None:
        while len(self.acked) < count:
            assert time.monotonic() < deadline and not self.errors, self.errors
            time.sleep(0.01)


def test_a_backup_taken_under_load_restores_every_acknowledged_ticket(
    backend: str, new_db: Callable[..., str | Path], tmp_path: Path
) -> None:
    if backend == "postgresql" and not (PG_BIN / "pg_dump").exists():
        pytest.skip(f"no pg_dump in {PG_BIN}")
    deadline = time.monotonic() + BUDGET_S
    day = shanghai_day()
    db = new_db()
    home = tmp_path / "hall"
    home.mkdir()
    server = spawn_server(db, tmp_path / "serve.log", cwd=home)
    accounts = (db.parent if isinstance(db, Path) else home / "var") / "demo-accounts.txt"
    kiosks = Kiosks(server.url, read_demo_accounts(accounts).kiosk_token)
    try:
        for thread in kiosks.threads:
            thread.start()
        kiosks.wait_for(BEFORE_BACKUP, deadline)
        started = time.monotonic()
        backup_file = tmp_path / "hall.backup"
        made = _bianmin("db", "backup", "--db", str(db), "--to", str(backup_file), cwd=home)
        ended = time.monotonic()
        assert made.returncode == 0, made.stdout + made.stderr
        during = [ticket for at, ticket in kiosks.acked if started <= at <= ended]
        kiosks.wait_for(len(kiosks.acked) + AFTER_BACKUP, deadline)
    finally:
        kiosks.stop.set()
        for thread in kiosks.threads:
            thread.join(timeout=30)
        server.stop()
    assert not kiosks.errors, kiosks.errors
    before = [ticket for at, ticket in kiosks.acked if at < started]
    assert len(before) >= BEFORE_BACKUP and len(kiosks.acked) > len(before) + len(during)
    if backend == "sqlite":
        assert "qingshan: " in made.stdout and "tickets, events up to seq" in made.stdout

    target = tmp_path / "restored.db" if backend == "sqlite" else new_db(migrated=False)
    restored = _bianmin("db", "restore", "--from", str(backup_file), "--db", str(target), cwd=home)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restored" in restored.stdout and "qingshan: " in restored.stdout
    again = _bianmin("db", "restore", "--from", str(backup_file), "--db", str(target), cwd=home)
    if backend == "sqlite":  # an existing database is not overwritten without --force
        assert again.returncode == 2 and "--force" in again.stderr

    if shanghai_day() != day:
        pytest.skip("the service day changed in Asia/Shanghai while the test ran: yesterday's tickets have expired")
    reborn = spawn_server(target, tmp_path / "restored.log", cwd=home)
    try:
        _all_found(reborn, before)
    finally:
        reborn.stop()


def _all_found(server: ServerProcess, tickets: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        for ticket in tickets:
            answer = client.get(f"{API}/tickets/{ticket['track_token']}")
            assert answer.status_code == 200, (ticket["number"], answer.text)
            assert answer.json()["number"] == ticket["number"]
        numbers = client.get(f"{API}/queues").json()
    assert sum(q["waiting"] for q in numbers["queues"]) >= len(tickets)


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    done = _bianmin("db", "restore", "--from", str(junk), "--db", str(tmp_path / "new.db"), cwd=tmp_path)
    assert done.returncode == 1 and "not a SQLite database" in done.stderr
    assert not (tmp_path / "new.db").exists()
    missing = _bianmin("db", "backup", "--db", str(tmp_path / "none.db"), "--to", str(tmp_path / "b"), cwd=tmp_path)
    assert missing.returncode == 1 and "no database at" in missing.stderr


def test_without_pg_dump_the_command_to_run_is_printed(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)}
    url = "postgresql://bianmin:secret@db.example/bianmin"
    command = [sys.executable, "-m", "queue_server.cli", "db", "backup", "--db", url, "--to", str(tmp_path / "b")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 1
    assert "pg_dump is not on PATH" in done.stderr
    assert "pg_dump --no-password --host db.example --username bianmin --format=custom" in done.stderr
    assert "secret" not in done.stderr  # the password is never printed
