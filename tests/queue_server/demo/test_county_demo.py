"""`bianmin demo county` as a user runs it: a child process, its printed URLs, then Ctrl-C; nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from queue_server.demo.children import Child
from queue_server.demo.county import CountyDemo, Settings
from queue_server.store.pg_cluster import PgUnavailable, find_bindir

START_S = 150.0  # initdb, migrations and four servers starting on a busy machine
WAIT_S = 90.0
TOWNSHIPS = ("qingshan", "baiyun", "shuikou")


@dataclass
class Demo:
    """The demo's process and what its output said."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, wanted: str, timeout: float = START_S) -> None:
        """Collect the output up to the first line containing `wanted`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {wanted!r} within {timeout:.0f} s:\n" + "\n".join(self.output)) from None
            if line is None:
                raise AssertionError(f"the demo ended before {wanted!r}:\n" + "\n".join(self.output))
            self.output.append(line)
            if wanted in line:
                return

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the demo to end; its exit code (the whole output collected)."""
        code = self.process.wait(timeout=timeout)
        while (line := self.lines.get(timeout=10)) is not None:
            self.output.append(line)
        return code

    @property
    def text(self) -> str:
        return "\n".join(self.output)

    def found(self, pattern: str) -> list[str]:
        return re.findall(pattern, self.text)


StartDemo = Callable[..., Demo]


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[StartDemo]:
    """Start `bianmin demo county ARGS`; a demo still running at the end is stopped (Ctrl-C, then SIGKILL)."""
    started: list[Demo] = []

    def start(*args: str, env: dict[str, str] | None = None, tmp: bool = True) -> Demo:
        # TMPDIR: the demo's folder under the test's own (not with PostgreSQL as root: the postgres user must
        # reach the cluster's folder, which the demo makes in the temporary folder too).
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        if tmp:
            environment["TMPDIR"] = str(tmp_path)
        process = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "demo", "county", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment, cwd=tmp_path,
        )  # fmt: skip
        started.append(Demo(process))
        threading.Thread(target=started[-1].read, daemon=True).start()
        return started[-1]

    yield start
    for demo in started:
        if demo.process.poll() is None:
            demo.process.send_signal(signal.SIGINT)
            try:
                demo.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.process.kill()
                demo.process.wait()
        if demo.process.stdout is not None:
            demo.process.stdout.close()


def processes_naming(*needles: str) -> list[str]:
    """Processes whose command line names one of these paths (the demo's servers, its PostgreSQL)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(needle in text for needle in needles):
            found.append(f"{cmdline.parent.name}: {text}")
    return found


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def wait_until(what: Callable[[], bool], message: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {message}")
        time.sleep(0.5)


def county_holds(county: str, token: str) -> dict[str, int]:
    answer = httpx.get(f"{county}/api/v1/link/halls", headers={"Authorization": f"Bearer {token}"}, trust_env=False)
    assert answer.status_code == 200, answer.text
    return {row["hall"]: row["last_seq"] for row in answer.json()}


def township_seq(url: str, hall: str) -> int:
    return int(httpx.get(f"{url}/api/v1/halls/{hall}/board", trust_env=False).json()["seq"])


def stopped_cleanly(demo: Demo, urls: list[str], paths: list[str]) -> None:
    assert demo.finish() == 0, demo.text
    assert "Stopped; removed" in demo.output[-1], demo.text
    assert processes_naming(*paths) == []
    assert not any(listening(url) for url in urls)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_the_county_demo_links_every_township_and_ctrl_c_leaves_nothing(start_demo: StartDemo) -> None:
    try:
        find_bindir()
    except PgUnavailable as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the county demo's PostgreSQL cannot run: {missing}")
        pytest.skip(str(missing))
    demo = start_demo("--speed", "600", tmp=False)
    try:
        demo.until("Ctrl-C")
        (county,) = demo.found(r"county 长青县 .*?: (http://127\.0\.0\.1:\d+)  on PostgreSQL 1\d \(a throwaway cluster")
        (token,) = demo.found(r"Bearer (bms_\S+)'")
        (files,) = demo.found(r"files 文件: (\S+) \(removed at exit")
        (cluster,) = demo.found(r"a throwaway cluster in (\S+)\)")
        townships = dict(demo.found(r"township \S+ \((\w+)\): (http://127\.0\.0\.1:\d+)  on SQLite"))
        assert list(townships) == list(TOWNSHIPS)
        assert f"{county}/county/changqing" in demo.text
        for hall, url in townships.items():
            assert f"{url}/manager/{hall}" in demo.text
        assert Path(files).is_dir() and Path(cluster).is_dir() and processes_naming(files, cluster)

        # Every township's traffic reaches the county: what a township had at one moment, the county holds soon after.
        wait_until(lambda: all(township_seq(url, hall) >= 40 for hall, url in townships.items()), "no traffic")
        had = {hall: township_seq(url, hall) for hall, url in townships.items()}
        wait_until(lambda: all(county_holds(county, token)[hall] >= seq for hall, seq in had.items()),
                   f"the county did not catch up with {had}: {county_holds(county, token)}")  # fmt: skip
        for hall in TOWNSHIPS:  # and reports them from the shipped events
            answer = httpx.get(f"{county}/api/v1/halls/{hall}/reports", params={"period": "day"},
                               headers={"Authorization": f"Bearer {token}"}, trust_env=False)  # fmt: skip
            assert answer.status_code == 200, answer.text
            assert answer.json()["totals"]["issued"] > 0
        demo.until("联动 link, events the county holds / the township has:")
    finally:
        demo.process.send_signal(signal.SIGINT)  # Ctrl-C
    stopped_cleanly(demo, [county, *townships.values()], [files, cluster])
    assert not Path(files).exists() and not Path(cluster).exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_without_postgresql_the_county_runs_on_sqlite_said_so_a_killed_server_restarts_and_keep_keeps_the_files(
    start_demo: StartDemo, tmp_path: Path
) -> None:
    demo = start_demo("--townships", "1", "--speed", "600", "--keep",
                      env={"BIANMIN_PG_BIN": str(tmp_path / "no-postgresql")})  # fmt: skip
    try:
        demo.until("Ctrl-C")
        assert "注意 Note: no PostgreSQL here" in demo.text and "the county runs on SQLite" in demo.text
        (county,) = demo.found(r"county 长青县 .*?: (http://127\.0\.0\.1:\d+)  on SQLite \(no PostgreSQL found\)")
        (token,) = demo.found(r"Bearer (bms_\S+)'")
        (files,) = demo.found(r"files 文件: (\S+) \(removed at exit")
        ((hall, url),) = demo.found(r"township \S+ \((\w+)\): (http://127\.0\.0\.1:\d+)  on SQLite")
        wait_until(lambda: township_seq(url, hall) >= 20, "no traffic")
        had = township_seq(url, hall)
        wait_until(lambda: county_holds(county, token)[hall] >= had, "the county did not catch up")

        # kill -9 of the township's server: the demo says so, starts it again on its port, and nothing is lost.
        (server,) = [p for p in processes_naming(files) if " serve " in p and f"townships/{hall}/" in p]
        os.kill(int(server.split(":")[0]), signal.SIGKILL)
        demo.until(f"服务器意外退出 township {hall} stopped unexpectedly (killed by SIGKILL)")
        demo.until(f"已重新启动 township {hall} started again at {url} (1 of 3 restarts)")
        assert township_seq(url, hall) >= had
        again = had + 10
        wait_until(lambda: township_seq(url, hall) >= again, "no traffic after the restart")
        wait_until(lambda: county_holds(county, token)[hall] >= again, "the county did not catch up after the restart")
    finally:
        demo.process.send_signal(signal.SIGTERM)
    assert demo.finish() == 0, demo.text
    assert f"Files kept (--keep) in {files}" in demo.output[-1]
    assert processes_naming(files) == [] and not listening(county) and not listening(url)
    assert (Path(files) / "county" / "bianmin.db").is_file()
    assert (Path(files) / "townships" / hall / "bianmin.db").is_file()


def test_an_unreachable_county_database_is_one_clear_error_and_nothing_is_left(
    start_demo: StartDemo, tmp_path: Path
) -> None:
    demo = start_demo("--db", "postgresql+psycopg://bianmin@127.0.0.1:1/nothing")
    code = demo.finish(timeout=120)
    assert code == 1, demo.text
    assert "Error: cannot open the county's database (无法连接数据库):" in demo.text
    assert "Traceback" not in demo.text
    assert list(tmp_path.glob("bianmin-demo-*")) == []


def test_a_server_that_cannot_start_again_stops_the_demo_with_the_reason(tmp_path: Path) -> None:
    said: list[str] = []
    demo = CountyDemo(Settings(), say=said.append, work=tmp_path)
    demo.county = Child("county 县政务中心", tmp_path / "missing.toml", "sqlite:///" + str(tmp_path / "c.db"),
                        tmp_path / "county.log")  # fmt: skip
    demo.county.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    demo.county.process.wait()

    reason = asyncio.run(asyncio.wait_for(demo.watch(), 60))
    log = tmp_path / "county.log"
    assert said[0] == f"服务器意外退出 county 县政务中心 stopped unexpectedly (exit code 3); its log: {log}"
    assert reason.startswith("county 县政务中心 could not be started again (演示停止): county 县政务中心 did not start")
    assert "missing.toml" in reason  # the end of its log says why
