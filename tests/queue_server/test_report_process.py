"""The reports run in a process of their own (queue_server/store/apart.py), niced below the server: a report
is answered with its figures when that process was killed, and the process never outlives its server."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.queue_server.conftest import Api, Databases
from tests.queue_server.test_cluster_kill import _login, _prepare
from tests.support.server import HALL, spawn_server

WAIT_S = 10.0


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (state, parent pid, …); None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def report_children(parent: int) -> set[int]:
    """The pids of `parent`'s report processes (multiprocessing children started by spawn)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if stat is not None and int(stat[1]) == parent and b"multiprocessing.spawn" in command:
            found.add(int(entry.name))
    return found


def niceness(pid: int) -> int:
    stat = _stat(pid)
    assert stat is not None, f"process {pid} is gone"
    return int(stat[16])


def served_today(api: Api) -> dict[str, int]:
    answer = api.http.get("/reports", params={"period": "month"}, headers=api.bearer(api.manager))
    assert answer.status_code == 200, answer.text
    totals = answer.json()["totals"]
    return {"issued": totals["issued"], "served": totals["served"]}


@pytest.fixture(autouse=True)
def _linux_proc() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux's /proc to find the report process")


def test_a_report_is_answered_with_its_figures_after_its_process_was_killed(api: Api) -> None:
    before = report_children(os.getpid())
    clerk = api.open("liuxia", 1)
    for category in ("jisheng", "jisheng", "guotu"):
        api.issue(category)
    api.ok(clerk, 1, "call-next")
    api.serve(clerk, 1)
    assert served_today(api) == {"issued": 3, "served": 1}

    started = report_children(os.getpid()) - before
    assert len(started) == 1, started  # one report process for the server, started by its first report
    (child,) = started
    assert niceness(child) == niceness(os.getpid()) + 10  # below the server: the calls' CPU comes first

    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while child in report_children(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    api.issue("guotu")
    assert served_today(api) == {"issued": 4, "served": 1}  # from a new process, with the new ticket
    assert len(report_children(os.getpid()) - before - {child}) == 1


def test_the_report_process_ends_with_its_server_after_a_kill_9(databases: Databases, tmp_path: Path) -> None:
    db = databases.new()
    kiosk = _prepare(db)
    server = spawn_server(db, tmp_path / "serve.log")
    try:
        manager = _login(server.url, "director")
        with httpx.Client(base_url=f"{server.url}/api/v1/halls/{HALL}", timeout=30, trust_env=False) as http:
            issued = http.post(
                "/tickets",
                json={"category": "huji"},
                headers={"Authorization": f"Bearer {kiosk}", "Idempotency-Key": "k1"},
            )
            assert issued.status_code == 201, issued.text
            report = http.get("/reports", params={"period": "month"}, headers={"Authorization": f"Bearer {manager}"})
            assert report.status_code == 200, report.text
            assert report.json()["totals"]["issued"] == 1
        children = report_children(server.process.pid)
        assert len(children) == 1, children
        server.kill()
        deadline = time.monotonic() + WAIT_S
        alive = set(children)
        while alive and time.monotonic() < deadline:
            alive = {pid for pid in alive if (stat := _stat(pid)) is not None and stat[0] != "Z"}  # a zombie is gone
            time.sleep(0.1)
        assert not alive, "the report process outlived its server"
    finally:
        server.stop()
