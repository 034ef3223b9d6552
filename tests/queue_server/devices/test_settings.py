"""`bianmin devices --help` and a bad configuration: one clear line per problem, exit code 2, nothing started."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from queue_server.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["devices", *args])
    return result.exit_code, result.output


def test_help_describes_the_options() -> None:
    code, out = run("--help")
    assert code == 0
    for words in ("--config FILE", "--check", "--verbose", "caller keypads (呼叫器)", "Exit code 2"):
        assert words in out


def test_a_bad_configuration_names_every_problem(tmp_path: Path) -> None:
    (tmp_path / "strip.token").write_text("", encoding="utf-8")
    bad = tmp_path / "devices.toml"
    bad.write_text(
        """server = "127.0.0.1:8000"
hall = "qingshan"
[[devices]]
id = "strip-1"
kind = "led_strip"
window = 0
token_file = "strip.token"
text = "请{number}号到{windw}号窗口"
transport = { type = "tcp", host = "10.0.0.5", port = 70000 }
[[devices]]
id = "caller-1"
kind = "caller"
window = 1
token_file = "caller.token"
keys = { "1" = "call_next", "2" = "explode" }
transport = { type = "serial", port = "/dev/ttyUSB0", parity = "X" }
""",
        encoding="utf-8",
    )
    code, out = run("--config", str(bad))
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "error: the device configuration is not valid:"
    for words in (
        "server: String should match pattern",
        "devices[0].window: Input should be greater than or equal to 1",
        "devices[0].text: text may use {number}, {window} and {window_name}, not ['windw']",
        "devices[0].transport.port: Input should be less than or equal to 65535",
        "devices[1].keys.2: Input should be 'call_next', 'recall', 'start', 'finish', 'pause' or 'resume'",
        "devices[1].transport.parity: Input should be 'N', 'E' or 'O'",
    ):
        assert any(words in line and line.startswith(f"{bad}: ") for line in lines), (words, out)


def test_a_missing_token_file_and_a_good_check(tmp_path: Path) -> None:
    config = tmp_path / "devices.toml"
    body = """server = "http://127.0.0.1:8000"
hall = "qingshan"
[[devices]]
id = "strip-1"
kind = "led_strip"
window = 1
token_file = "strip.token"
encoding = "gb2312"
transport = { type = "tcp", host = "127.0.0.1", port = 4001 }
"""
    config.write_text(body, encoding="utf-8")
    code, out = run("--config", str(config), "--check")
    assert code == 2
    assert f"devices[0].token_file: cannot read {tmp_path / 'strip.token'}: No such file or directory" in out
    (tmp_path / "strip.token").write_text("bmd_x\n", encoding="utf-8")
    code, out = run("--config", str(config), "--check")
    assert (code, out) == (0, "led_strip strip-1: window 1, tcp 127.0.0.1:4001, bianmin-text (gb2312)\n")
