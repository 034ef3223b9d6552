"""The systemd units in docs/deploy/systemd: each restarts by itself, starts on boot and runs a real bianmin command."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import click
import pytest

from queue_server.cli import main

UNITS = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))


def _unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def _commands(exec_start: str) -> list[list[str]]:
    """The bianmin command lines of an ExecStart (a `sh -c` wrapper may hold several, each after `exec`)."""
    words = shlex.split(exec_start.replace("%%", "%"))
    if words[0] != "/bin/sh":
        return [words]
    return [shlex.split(part.split(";")[0]) for part in words[2].split("exec ")[1:]]


def test_every_long_running_unit_restarts_and_starts_on_boot() -> None:
    names = {path.name for path in SERVICES}
    assert {"bianmin-server.service", "bianmin-kiosk.service", "bianmin-board@.service"} <= names
    for path in SERVICES:
        unit = _unit(path)
        if unit.get("Service", "Type") == "oneshot":  # the backup: started by its timer
            assert (UNITS / path.name.replace(".service", ".timer")).exists()
            continue
        assert unit.get("Service", "Restart") == "always", path.name
        assert unit.get("Install", "WantedBy") in ("multi-user.target", "graphical.target"), path.name


@pytest.mark.parametrize("path", SERVICES, ids=[path.name for path in SERVICES])
def test_each_unit_runs_a_command_bianmin_has(path: Path) -> None:
    exec_start = _unit(path).get("Service", "ExecStart")
    if "bianmin" not in exec_start.split()[0] and "/bin/sh" not in exec_start:
        assert "--kiosk" in exec_start and "/board/" in exec_start  # Chromium showing the web board
        return
    for words in _commands(exec_start):
        assert words[0].endswith("/bin/bianmin"), words
        command: click.Command = main
        args = words[1:]
        while isinstance(command, click.Group):
            command, args = command.commands[args[0]], args[1:]
        known = {opt for param in command.params for opt in param.opts}
        given = [arg for arg in args if arg.startswith("--")]
        assert set(given) <= known, (path.name, set(given) - known)
        if command.name in ("kiosk", "board"):
            assert "--fullscreen" in given, path.name
