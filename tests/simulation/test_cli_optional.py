"""`bianmin simulate` on the base install: without matplotlib it says so in one line before any work."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# matplotlib made unimportable in the child, as on `pip install -e .` without the `simulate` extra.
WITHOUT_MATPLOTLIB = (
    "import sys; sys.modules['matplotlib'] = None; sys.argv[0] = 'bianmin'; from queue_server.cli import main; main()"
)


def _simulate(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_MATPLOTLIB, "simulate", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize(
    "args",
    [
        ["--days", "5", "--staffing", "--target-minutes", "15", "--report", "r.md"],
        ["--days", "30", "--out", "charts"],
    ],
    ids=["report", "out"],
)
def test_missing_matplotlib_is_one_line_before_any_work(tmp_path: Path, args: list[str]) -> None:
    done, took = _simulate(tmp_path, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "matplotlib" in lines[0] and "pip install 'bianmin[simulate]'" in lines[0]
    assert done.stdout == ""  # no table printed: nothing was simulated
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "charts").exists()
    assert took < 30  # the report alone computes for minutes: this answer came before the work


def test_report_stages_are_announced_without_a_terminal(tmp_path: Path) -> None:
    """A long run in a log or a pipe (no progress bar) still says what it is doing, stage by stage."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-m", "queue_server.cli", "simulate", "--report", "r.md", "--replications", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert child.stderr is not None
    try:
        first, second = child.stderr.readline(), child.stderr.readline()
    finally:
        child.kill()
        child.wait(timeout=10)
        child.stderr.close()
    assert "a few minutes" in first
    assert second.startswith("M/M/c replications (") and "steps" in second
