"""`bianmin db copy`: a hall's history made by a real server, copied to SQLite and PostgreSQL, served from the copy."""

from __future__ import annotations

import itertools
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select, update

from config.schema import HallConfig
from queue_server.cli import main
from queue_server.store.engine import database_url
from queue_server.store.tables import devices, events, hall_state, staff_halls, tickets, users, windows
from tests.support.clock import FakeClock
from tests.support.halls import OTHER_HALL, two_halls
from tests.support.server import HALL, RunningServer, start_server

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

_NAMES = itertools.count(1)


@pytest.fixture
def backend() -> str:
    """The source is a township's SQLite file; the target's backend is this module's own parameter."""
    return "sqlite"


@pytest.fixture
def config(tmp_path: Path) -> HallConfig:
    return two_halls(tmp_path / "config")


@pytest.fixture(params=["sqlite", "postgresql"], ids=["to-sqlite", "to-pg"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that does not exist yet (SQLite) or is empty and unmigrated (PostgreSQL)."""
    if request.param == "sqlite":
        yield str(tmp_path / "county" / "county.db")
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"copy_target_{next(_NAMES)}"
    url: str = cluster.create_database(name)
    yield url
    cluster.drop_database(name)


@dataclass
class History:
    server: RunningServer
    db: str
    here: Api
    there: Api
    code: str  # an appointment booked in qingshan
    rating_id: int
    called: str  # the track token of A002, called at window 1 when the copy is made


def _api(server: RunningServer, tls: ssl.SSLContext, hall: str) -> Api:
    from tests.queue_server.conftest import Api

    return Api(server, tls, hall)


@pytest.fixture
def history(start_hall: Callable[..., RunningServer], config: HallConfig, tls: ssl.SSLContext) -> Iterator[History]:
    """A morning of qingshan made through the API: tickets issued, called, served and rated, an appointment booked."""
    server = start_hall(config)
    here, there = _api(server, tls, HALL), _api(server, tls, OTHER_HALL)
    liuxia = here.open("liuxia", 1)
    first = here.issue("jisheng")
    second = here.issue("jisheng")
    here.issue("guotu")
    assert here.ok(liuxia, 1, "call-next")["ticket"]["number"] == "A001"
    here.serve(liuxia, 1)
    rated = here.http.post(f"/tickets/{first['track_token']}/rating", json={"level": "satisfied"})
    assert rated.status_code == 201, rated.text
    assert here.ok(liuxia, 1, "call-next")["ticket"]["number"] == "A002"
    booked = here.http.post("/appointments", json={"category": "jisheng", "day": "2026-03-17", "start": "09:00"})
    assert booked.status_code == 201, booked.text
    complained = here.http.post("/complaints", json={"category": "other", "text": "大厅饮水机坏了一周。"})
    assert complained.status_code == 201, complained.text
    here.staff("director", "manager")
    there.issue("jisheng")  # baiyun has its own history, not copied with --hall qingshan
    there.staff("wangfang")
    rating_id = here.http.get("/ratings", headers=here.bearer(here.manager)).json()["ratings"][0]["id"]
    db = str(server.store.engine.url)
    yield History(server, db, here, there, booked.json()["code"], rating_id, second["track_token"])
    here.close()
    there.close()


def copy(*args: str) -> Result:
    return CliRunner().invoke(main, ["db", "copy", *args])


def counts(output: str) -> dict[str, tuple[int, int]]:
    return {m[1]: (int(m[2]), int(m[3])) for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)$", output, re.M)}


def count(db: str, table: Any, *where: Any) -> int:
    engine = create_engine(database_url(db))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
    finally:
        engine.dispose()


def test_a_copied_hall_is_served_from_the_copy_as_it_was(
    history: History, target: str, clock: FakeClock, config: HallConfig, tls: ssl.SSLContext
) -> None:
    seq = history.here.seq()
    before = history.here.events(since=0)
    result = copy("--from", history.db, "--to", target, "--hall", HALL, "--batch", "7")
    assert result.exit_code == 0, result.output
    assert counts(result.output) == {
        "hall_state": (1, 1), "windows": (10, 10), "devices": (1, 1), "tickets": (3, 3), "events": (seq, seq),
        "ratings": (1, 1), "appointments": (1, 1), "cases": (1, 1), "complaints": (1, 1), "users": (2, 2),
    }  # fmt: skip
    assert f"last seq qingshan: {seq} → {seq}" in result.output
    assert "staff of qingshan: liuxia, director" in result.output
    assert "postgresql" not in target or "bianmin@127.0.0.1" in result.output  # the URL shown, without secrets
    assert count(target, tickets, tickets.c.hall == OTHER_HALL) == 0 and count(target, events) == seq

    served = start_server(target, clock, config)
    copied = _api(served, tls, HALL)
    try:
        copied._kiosk = history.here.kiosk  # the device row came with its token's hash: the same kiosk works
        served.login("liuxia")  # the password hash came along: the same password
        served.login("director")
        assert copied.events(since=0) == before, "the same events with the same seq"
        assert copied.seq() == seq
        windows = copied.board()["board"]["windows"]
        assert (windows[0]["number"], windows[0]["current_number"], windows[0]["current_state"]) == (
            1,
            "A002",
            "called",
        )
        me = copied.http.get(f"{served.url}/api/v1/auth/me", headers=copied.bearer(served.tokens["liuxia"])).json()
        assert me["halls"] == [HALL]

        replayed = copied.issue_raw({"category": "jisheng"}, key="test-key-1")  # the first tap's key, again
        assert replayed.json()["number"] == "A001" and replayed.headers["Idempotent-Replayed"] == "true"
        assert copied.issue_raw({"category": "jisheng"}, key="after-the-move").json()["number"] == "A003"
        assert next(e["seq"] for e in copied.events(since=seq)) == seq + 1, "the hall's seq continues"
        copied.serve(served.tokens["liuxia"], 1)  # A002 finished, then rated: a new rating id after the copied one
        rating = copied.http.post(f"/tickets/{history.called}/rating", json={"level": "satisfied"})
        assert rating.status_code == 201, rating.text
        assert copied.http.get(f"/appointments/{history.code}").json()["state"] == "booked"
        again = copied.http.post("/appointments", json={"category": "jisheng", "day": "2026-03-17", "start": "09:30"})
        assert again.status_code == 201, again.text
        ids = [r["id"] for r in copied.http.get("/ratings", headers=copied.bearer(copied.manager)).json()["ratings"]]
        assert sorted(ids) == [history.rating_id, history.rating_id + 1]
        listed = copied.http.get("/complaints", headers=copied.bearer(copied.manager)).json()["complaints"]
        assert [c["text"] for c in listed] == ["大厅饮水机坏了一周。"]  # and its code still reads it
        login = copied.http.post(f"{served.url}/api/v1/auth/login", json={"username": "wangfang", "password": "x"})
        assert login.status_code == 401, "baiyun's clerk was not copied"
    finally:
        copied.close()
        served.stop()


def test_a_target_that_has_the_hall_is_refused_and_left_as_it_was(history: History, target: str) -> None:
    assert copy("--from", history.db, "--to", target, "--hall", HALL).exit_code == 0
    rows = count(target, events)
    again = copy("--from", history.db, "--to", target)
    assert again.exit_code == 2, again.output
    assert "already has rows of baiyun, qingshan" in again.output and "nothing was written" in again.output
    assert "目标数据库已有该大厅的数据" in again.output
    assert count(target, events) == rows

    # Another hall of the source goes into the same target beside it (a county gathers its townships).
    other = copy("--from", history.db, "--to", target, "--hall", OTHER_HALL)
    assert other.exit_code == 0, other.output
    assert count(target, events, events.c.hall == OTHER_HALL) == history.there.seq()
    assert count(target, staff_halls, staff_halls.c.hall == OTHER_HALL) == 1  # wangfang
    assert count(target, users) == 3


def test_a_copy_that_fails_midway_leaves_the_target_as_it_was(history: History, target: str) -> None:
    """A target ticket of another hall holds a tracking token the copy needs: the insert fails after others."""
    assert copy("--from", history.db, "--to", target, "--hall", OTHER_HALL).exit_code == 0
    engine = create_engine(database_url(target))
    try:
        with engine.begin() as conn:
            conn.execute(update(tickets).where(tickets.c.hall == OTHER_HALL).values(track_token=history.called))
    finally:
        engine.dispose()
    before = {t.name: count(target, t) for t in (hall_state, windows, devices, tickets, events, users)}
    failed = copy("--from", history.db, "--to", target, "--hall", HALL, "--batch", "1")
    assert failed.exit_code == 1, failed.output
    assert "failed and nothing was written (复制失败，未写入任何数据)" in failed.output
    assert "Traceback" not in failed.output and "INSERT" not in failed.output
    assert {t.name: count(target, t) for t in (hall_state, windows, devices, tickets, events, users)} == before
    assert count(target, windows, windows.c.hall == HALL) == 0


def test_an_account_of_every_hall_becomes_one_of_the_copied_hall(history: History, tmp_path: Path) -> None:
    history.here.staff("root", "admin")  # of every hall in the township's database
    target = str(tmp_path / "county.db")
    assert copy("--from", history.db, "--to", target, "--hall", HALL).exit_code == 0
    assert count(target, users, users.c.all_halls.is_(True)) == 0
    assert count(target, staff_halls, staff_halls.c.hall == HALL) == 3  # liuxia, director, root

    clash = str(tmp_path / "clash.db")
    assert copy("--from", history.db, "--to", clash, "--hall", OTHER_HALL).exit_code == 0  # root comes along
    refused = copy("--from", history.db, "--to", clash, "--hall", HALL)
    assert refused.exit_code == 2 and "already has staff accounts named root" in refused.output
    assert count(clash, tickets, tickets.c.hall == HALL) == 0


@pytest.mark.parametrize(
    ("source", "to", "message"),
    [
        ("{src}", "mysql://root@127.0.0.1/county", "unsupported database URL 'mysql'"),
        ("{src}", "postgresql://bianmin:s3cret@127.0.0.1:1/county", "cannot use the database"),
        ("{src}", "postgresql://bianmin:s3cret@[::1/county", "not a database path or URL"),
        ("{src}", "{src}", "the source and the target are the same database"),
        ("{tmp}/missing.db", "{tmp}/out.db", "no database file at"),
        ("{tmp}/notes.txt", "{tmp}/out.db", "cannot use the database"),
    ],
    ids=["unsupported", "unreachable", "malformed", "same", "missing", "not-a-database"],
)
def test_bad_urls_are_clear_errors_and_write_nothing(
    history: History, tmp_path: Path, source: str, to: str, message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n" * 100)
    fill = {"src": history.db, "tmp": str(tmp_path)}
    result = copy("--from", source.format(**fill), "--to", to.format(**fill))
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert "s3cret" not in result.output
    assert not (tmp_path / "missing.db").exists()


def test_a_hall_the_source_does_not_have_is_a_clear_error(history: History, tmp_path: Path) -> None:
    result = copy("--from", history.db, "--to", str(tmp_path / "out.db"), "--hall", "nowhere")
    assert result.exit_code == 1
    assert "the source has no hall nowhere (源数据库没有该大厅); halls there: baiyun, qingshan" in result.output


def test_help_says_what_the_copy_does() -> None:
    result = CliRunner().invoke(main, ["db", "copy", "--help"])
    assert result.exit_code == 0
    for words in ("--from SRC", "--to DST", "--hall", "exit code 2", "last seq", "keeping every id"):
        assert words in result.output
