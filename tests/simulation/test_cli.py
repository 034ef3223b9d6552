"""`bianmin simulate` from the command line: tables, files, staffing, bad input."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from queue_server.cli import main


def test_simulate_prints_tables_and_writes_csv_and_charts(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "--days", "2", "--seed", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for heading in ("Waits from ticket to first call", "Windows", "Queue lengths", "RMSE vs naive"):
        assert heading in result.output
    csv = (tmp_path / "tickets.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0].startswith("day,ticket,category") and "estimate_server_s" in csv[0] and len(csv) > 100
    for name in ("waits", "queues", "utilization", "estimates"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_same_seed_same_output() -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["simulate", "--seed", "5"])
    second = runner.invoke(main, ["simulate", "--seed", "5"])
    assert first.exit_code == 0 and first.output == second.output


def test_staffing_option() -> None:
    result = CliRunner().invoke(main, ["simulate", "--staffing", "--target-minutes", "20", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "Fewest dedicated windows for 90% of waits under 20 minutes" in result.output
    assert "dedicated windows needed in all" in result.output


def test_arrivals_csv(tmp_path: Path) -> None:
    day = tmp_path / "day.csv"
    day.write_text(
        "time,category,priority,service_minutes\n08:31,huji,,10\n08:32,huji,green,5\n08:33,huji,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["simulate", "--arrivals", str(day), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "tickets.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 3 and all(",huji," in r for r in rows)


def test_bad_arrivals_and_scenario_are_named(tmp_path: Path) -> None:
    day = tmp_path / "day.csv"
    day.write_text("time,category\n08:31,nosuch\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--arrivals", str(day)])
    assert result.exit_code != 0 and f"{day}:2" in result.output and "nosuch" in result.output
    scenario = tmp_path / "s.toml"
    scenario.write_text("green_share = 2\n[per_day]\nhuji = 40\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--scenario", str(scenario)])
    assert result.exit_code != 0 and "green_share" in result.output


def test_scenario_file_overrides_demand(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("[per_day]\nhuji = 0\n[service_minutes]\nsifa = 5\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--scenario", str(scenario), "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "\nhuji " not in result.output.split("Windows")[0]


def test_validate_runs_small() -> None:
    result = CliRunner().invoke(main, ["simulate", "--validate", "--replications", "2", "--customers", "300"])
    assert "Erlang C against the simulation" in result.output
    assert "full information" in result.output
