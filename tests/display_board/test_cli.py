"""`bianmin board`: its options, and a clear message when Kivy is missing (Kivy is never imported here)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from queue_server.cli import main


def test_bianmin_help_lists_the_board_without_importing_kivy() -> None:
    code = "import sys; from queue_server.cli import main; print('kivy' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert answer.stdout.strip() == "False"
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "board" in result.output
    result = CliRunner().invoke(main, ["board", "--help"])
    assert result.exit_code == 0
    for option in ("--server", "--hall", "--window", "--fullscreen", "--no-sound", "--announce-max-age"):
        assert option in result.output


def test_without_kivy_the_board_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kivy", None)  # `import kivy...` now fails as if it were not installed
    monkeypatch.setenv("KIVY_NO_ARGS", "1")  # prepare_kivy sets these: keep them out of this process
    monkeypatch.setenv("KIVY_LOG_MODE", "MIXED")
    result = CliRunner().invoke(main, ["board", "--server", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "install bianmin[kiosk]" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "192.168.1.10:8000"], "not a server URL"),
        (["--server", "http://h:1", "--window", "0"], "1<=x<=999"),
        (["--server", "http://h:1", "--size", "big"], "expected WIDTHxHEIGHT"),
        (["--server", "http://h:1", "--size", "10x10"], "between 320x240"),
        ([], "Missing option '--server'"),
    ],
)
def test_bad_options_are_refused_before_any_window_opens(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["board", *args])
    assert result.exit_code == 2
    assert message in result.output
