"""The `bianmin` command: serve, user add, device add — good input and bad."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from config.loader import default_config_path
from queue_server.cli import main
from queue_server.server import prompt_threads
from queue_server.store.engine import database_url
from queue_server.store.tables import devices, staff_audit, staff_halls, users
from tests.support.halls import write_two_halls
from tests.support.server import spawn_server


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def rows(db: str | Path, table):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url(db))
    try:
        with engine.connect() as conn:
            return conn.execute(select(table)).all()
    finally:
        engine.dispose()


def test_help_lists_every_sub_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "config", "user", "device", "link", "demo"):
        assert command in result.output


def test_user_add_reads_the_password_from_stdin(runner: CliRunner, new_db: Callable[..., str | Path]) -> None:
    db = new_db(migrated=False)
    result = runner.invoke(
        main, ["user", "add", "zhangli", "--name", "张丽", "--role", "manager", "--db", str(db)], input="s3cret-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert "added manager zhangli (张丽)" in result.output
    [row] = rows(db, users)
    assert (row.username, row.display_name, row.role) == ("zhangli", "张丽", "manager")
    assert "s3cret-pass" not in row.password_hash  # stored hashed
    assert row.password_hash.startswith("$argon2")


def test_user_add_gives_the_account_its_halls(
    runner: CliRunner, tmp_path: Path, new_db: Callable[..., str | Path]
) -> None:
    config = str(write_two_halls(tmp_path / "config"))
    db = new_db(migrated=False)

    def add(*args: str) -> str:
        result = runner.invoke(main, ["user", "add", *args, "--config", config, "--db", str(db)], input="password123\n")
        return f"{result.exit_code}: {result.output}"

    assert add("liuxia", "--name", "刘霞", "--hall", "qingshan") == "0: added clerk liuxia (刘霞) of qingshan\n"
    assert add("chen", "--name", "陈", "--role", "manager", "--hall", "baiyun", "--hall", "qingshan").startswith(
        "0: added manager chen (陈) of baiyun, qingshan"
    )
    assert add("root", "--name", "管理员", "--role", "admin") == "0: added admin root (管理员) of every hall\n"
    missing = add("wang", "--name", "王")
    assert missing.startswith("1: ") and "请指定所属大厅" in missing and "qingshan, baiyun" in missing
    unknown = add("wang", "--name", "王", "--hall", "nowhere")
    assert unknown.startswith("1: ") and "no such hall: nowhere" in unknown
    by_id = {r.id: r.username for r in rows(db, users)}
    assert sorted((by_id[r.user_id], r.hall) for r in rows(db, staff_halls)) == [
        ("chen", "baiyun"), ("chen", "qingshan"), ("liuxia", "qingshan"),
    ]  # fmt: skip
    assert {r.username: r.all_halls for r in rows(db, users)} == {"liuxia": False, "chen": False, "root": True}
    help_text = runner.invoke(main, ["user", "add", "--help"]).output
    assert "--hall TEXT" in help_text and "repeat for" in help_text


def test_user_add_makes_a_village_agent_of_one_point(
    runner: CliRunner, tmp_path: Path, new_db: Callable[..., str | Path]
) -> None:
    config = str(write_two_halls(tmp_path / "config"))
    db = new_db(migrated=False)

    def add(*args: str) -> str:
        result = runner.invoke(main, ["user", "add", *args, "--config", config, "--db", str(db)], input="password123\n")
        return f"{result.exit_code}: {result.output}"

    added = add("cun-wang", "--name", "王代办", "--role", "agent", "--hall", "qingshan", "--point", "qingshan-cun")
    assert added == "0: added agent cun-wang (王代办) of point qingshan-cun in qingshan: its page is /agent/qingshan\n"
    assert "须指定代办点" in add("cun-li", "--name", "李", "--role", "agent", "--hall", "qingshan")
    assert "no agent point 'nowhere'" in add("cun-li", "--name", "李", "--role", "agent", "--hall", "qingshan",
                                             "--point", "nowhere")  # fmt: skip
    assert "exactly one hall" in add("cun-li", "--name", "李", "--role", "agent", "--point", "qingshan-cun")
    assert "--point goes with --role agent" in add("cun-li", "--name", "李", "--hall", "qingshan", "--point", "x")
    assert [(r.username, r.role, r.point) for r in rows(db, users)] == [("cun-wang", "agent", "qingshan-cun")]


# The refusals stay on SQLite: "changes nothing" includes creating no database file.
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "Bad Name", "--name", "x"], "password123\n", "a username is"),
        (["user", "add", "wang", "--name", "王"], "short\n", "at least 8 characters"),
        (["user", "add", "wang", "--name", "王"], "", "no password on standard input"),
        (["user", "add", "wang", "--name", "王", "--role", "boss"], "password123\n", "Invalid value for '--role'"),
    ],
)
def test_user_add_refuses_bad_input_and_changes_nothing(
    runner: CliRunner, tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    db = tmp_path / "hall.db"
    result = runner.invoke(main, [*args, "--db", str(db)], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    if db.exists():
        assert rows(db, users) == []


def test_user_add_twice_is_a_clear_error(runner: CliRunner, new_db: Callable[..., str | Path]) -> None:
    db = new_db(migrated=False)
    args = ["user", "add", "wang", "--name", "王芳", "--db", str(db)]
    assert runner.invoke(main, args, input="password123\n").exit_code == 0
    again = runner.invoke(main, args, input="other-password\n")
    assert again.exit_code == 1
    assert "user wang already exists" in again.output
    assert len(rows(db, users)) == 1


def test_device_add_prints_a_token_and_stores_only_its_hash(
    runner: CliRunner, new_db: Callable[..., str | Path]
) -> None:
    db = new_db(migrated=False)
    result = runner.invoke(main, ["device", "add", "qingshan", "kiosk-1", "--db", str(db)])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("bmd_") and len(token) > 40
    [row] = rows(db, devices)
    assert (row.hall, row.device, row.revoked) == ("qingshan", "kiosk-1", False)
    assert token not in row.token_hash


def test_device_revoke_refuses_the_token_and_both_are_in_the_staff_audit(
    runner: CliRunner, new_db: Callable[..., str | Path]
) -> None:
    db = new_db(migrated=False)
    assert runner.invoke(main, ["device", "add", "qingshan", "kiosk-1", "--db", str(db)]).exit_code == 0
    result = runner.invoke(main, ["device", "revoke", "qingshan", "kiosk-1", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "revoked kiosk-1 of qingshan" in result.output
    [row] = rows(db, devices)
    assert row.revoked is True
    audit = rows(db, staff_audit)
    assert [(r.action, r.subject, r.halls) for r in audit] == [
        ("device.added", "kiosk-1", ",qingshan,"), ("device.revoked", "kiosk-1", ",qingshan,")
    ]  # fmt: skip
    assert all(r.actor.startswith("cli") for r in audit)
    again = runner.invoke(main, ["device", "revoke", "qingshan", "kiosk-2", "--db", str(db)])
    assert again.exit_code == 1 and "no device kiosk-2 registered in hall qingshan" in again.output


@pytest.mark.parametrize(
    ("hall", "device", "message"),
    [
        ("nowhere", "kiosk-1", "no hall 'nowhere'"),
        ("qingshan", "kiosk-9", "'kiosk-9' is not a kiosk, LED strip, caller or evaluator pad of hall qingshan"),
        ("qingshan", "printer-1", "'printer-1' is not a kiosk"),
    ],
)
def test_device_add_refuses_devices_not_in_the_configuration(
    runner: CliRunner, tmp_path: Path, hall: str, device: str, message: str
) -> None:
    db = tmp_path / "hall.db"
    result = runner.invoke(main, ["device", "add", hall, device, "--db", str(db)])
    assert result.exit_code == 1
    assert message in result.output
    assert not db.exists()


def test_serve_with_a_bad_configuration_starts_nothing(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "hall"
    shutil.copytree(default_config_path().parent, bad)
    (bad / "calendar").mkdir(exist_ok=True)
    text = (bad / "hall.toml").read_text(encoding="utf-8")
    (bad / "hall.toml").write_text(text.replace('prefix = "B"', 'prefix = "A"', 1), encoding="utf-8")
    db = tmp_path / "hall.db"
    result = runner.invoke(main, ["serve", "--config", str(bad / "hall.toml"), "--db", str(db)])
    assert result.exit_code == 1
    assert "nothing was started" in result.output
    assert "prefix" in result.output
    assert not db.exists()


@pytest.mark.parametrize("value", ["fast", "0", "-1", "2", "nan"])
def test_serve_with_a_bad_switch_interval_starts_nothing(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BIANMIN_SWITCH_INTERVAL_S", value)
    db = tmp_path / "hall.db"
    result = runner.invoke(main, ["serve", "--db", str(db)])
    assert result.exit_code == 1
    assert f"BIANMIN_SWITCH_INTERVAL_S must be seconds, more than 0 and at most 1, not '{value}'" in result.output
    assert "nothing was started" in result.output
    assert not db.exists()


def test_the_server_hands_the_interpreter_over_every_half_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    before = sys.getswitchinterval()
    try:
        monkeypatch.delenv("BIANMIN_SWITCH_INTERVAL_S", raising=False)
        prompt_threads()
        assert sys.getswitchinterval() == pytest.approx(0.0005)
        monkeypatch.setenv("BIANMIN_SWITCH_INTERVAL_S", "0.005")  # Python's own, to measure against
        prompt_threads()
        assert sys.getswitchinterval() == pytest.approx(0.005)
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("postgresql://bianmin@127.0.0.1:1/nowhere", "cannot open the database (无法连接数据库): connection failed"),
        ("mysql://someone@127.0.0.1/hall", "unsupported database URL 'mysql'"),
    ],
)
def test_serve_on_a_database_it_cannot_use_says_why_without_a_traceback(
    runner: CliRunner, db: str, message: str
) -> None:
    result = runner.invoke(main, ["serve", "--db", db])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_serve_demo_prints_its_accounts_and_serves(tmp_path: Path) -> None:
    # SQLite only: the demo's accounts file goes next to the SQLite file (the API tests serve PostgreSQL).
    db = tmp_path / "var" / "bianmin.db"
    log = tmp_path / "serve.log"
    server = spawn_server(db, log)
    try:
        accounts_file = tmp_path / "var" / "demo-accounts.txt"
        text = accounts_file.read_text(encoding="utf-8")
        assert "Demo accounts (演示账号)" in text
        assert (accounts_file.stat().st_mode & 0o777) == 0o600
        assert "Demo accounts (演示账号)" in log.read_text(encoding="utf-8")
        line = next(line for line in text.splitlines() if " director " in line)
        password = line.split("password: ")[1].strip()
        login = httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "director", "password": password})
        assert login.status_code == 200
        assert login.json()["role"] == "manager"
        line = next(line for line in text.splitlines() if " agent-qingshan-cun " in line)
        assert "(/agent/qingshan, 青山村代办点)" in line
        agent = {"username": "agent-qingshan-cun", "password": line.split("password: ")[1].split()[0]}
        login = httpx.post(f"{server.url}/api/v1/auth/login", json=agent)
        assert (login.json()["role"], login.json()["point"]) == ("agent", "qingshan-cun")
        docs = httpx.get(f"{server.url}/openapi.json").json()
        assert "/api/v1/halls/{hall}/tickets" in docs["paths"]
    finally:
        server.stop()
