"""`bianmin simulate`: hall days, staffing what-ifs, the Erlang C validation and the full report."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from config.schema import Hall

# Nothing heavy is imported at module level: `bianmin --help` stays fast. matplotlib is imported only when
# charts are written.


CHARTS_MISSING = (
    "图表需要 matplotlib，未安装 / the charts need matplotlib, which is not installed: "
    "pip install 'bianmin[simulate]' (from the source tree: pip install -e '.[simulate]')"
)


def _require_charts() -> None:
    """Stop before any work when charts are asked for and matplotlib cannot be imported: one line, no traceback."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException(CHARTS_MISSING) from None


@contextmanager
def _progress(total: int, label: str, show: bool, announce: bool = False) -> Iterator[Callable[[], None]]:
    if not show or total <= 1:
        if announce:  # a long run without a terminal (a log, a pipe): one line as each stage starts
            click.echo(f"{label} ({total} steps) ...", err=True)
        yield lambda: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True) as bar:
        yield lambda: bar.update(1)


def _hall(config_file: Path | None, hall_id: str | None) -> Hall:
    from config.loader import ConfigError, default_config_path, load_config

    path = config_file or default_config_path()
    try:
        loaded = load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"the configuration {path} has {len(error.problems)} problem(s)") from None
    if hall_id is None:
        return loaded.halls[0]
    try:
        return loaded.hall(hall_id)
    except KeyError:
        known = ", ".join(h.id for h in loaded.halls)
        raise click.ClickException(f"no hall {hall_id!r} in {path} (halls: {known})") from None


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="hall configuration (TOML); default: the bundled demo hall",
)
@click.option("--hall", "hall_id", help="which hall of the configuration (default: the first)")
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML overriding demand, service times and behaviour (see docs/simulation.md)",
)
@click.option(
    "--arrivals",
    "arrivals_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of a real day's arrivals (time, category[, priority, item_id, service_minutes])",
)
@click.option("--days", default=1, show_default=True, type=click.IntRange(1, 2000), help="days to simulate")
@click.option("--seed", default=1, show_default=True, type=int, help="random seed: same seed, same figures")
@click.option(
    "--load",
    default=0.7,
    show_default=True,
    type=click.FloatRange(0.01, 3.0),
    help="demand as the windows' mean utilization over the day",
)
@click.option("--service", type=click.Choice(["lognormal", "exponential"]), default="lognormal", show_default=True)
@click.option(
    "--cv",
    default=0.6,
    show_default=True,
    type=click.FloatRange(0.05, 5.0),
    help="coefficient of variation of lognormal service times",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write tickets.csv and PNG charts into this folder",
)
@click.option("--staffing", is_flag=True, help="find the fewest windows per category that meet --target-minutes")
@click.option("--target-minutes", default=15.0, show_default=True, type=click.FloatRange(0.5, 600))
@click.option(
    "--percentile",
    "quantile",
    default=90.0,
    show_default=True,
    type=click.FloatRange(50, 99.9),
    help="share of waits that must be under the target, in %",
)
@click.option("--validate", is_flag=True, help="check M/M/c against Erlang C and the estimators against theory")
@click.option("--replications", default=10, show_default=True, type=click.IntRange(2, 1000))
@click.option(
    "--customers",
    default=20_000,
    show_default=True,
    type=click.IntRange(100, 10_000_000),
    help="measured tickets per replication in --validate",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="run everything and write this Markdown report (charts in a folder beside it)",
)
@click.option("--progress/--no-progress", default=None, help="progress bar (default: when stderr is a terminal)")
def simulate(
    config_file: Path | None,
    hall_id: str | None,
    scenario_file: Path | None,
    arrivals_file: Path | None,
    days: int,
    seed: int,
    load: float,
    service: str,
    cv: float,
    out_dir: Path | None,
    staffing: bool,
    target_minutes: float,
    quantile: float,
    validate: bool,
    replications: int,
    customers: int,
    report_file: Path | None,
    progress: bool | None,
) -> None:
    """Simulate days in a hall with the server's own routing and wait estimates, and report the figures.

    \b
    Examples:
      bianmin simulate --days 20 --out var/sim          waits, windows, queues, estimate errors, CSV, charts
      bianmin simulate --staffing --target-minutes 15   fewest windows per category for 90% under 15 min
      bianmin simulate --validate                       M/M/c against Erlang C
      bianmin simulate --report docs/simulation.md      everything, as the documented report
    """
    show = sys.stderr.isatty() if progress is None else progress
    if report_file is not None or out_dir is not None:
        _require_charts()
    if report_file is not None:
        from queue_server.simulation.document import write_report

        hall = _hall(config_file, hall_id)
        click.echo(
            "the report runs the M/M/c validation, the hall days and the staffing what-ifs: a few minutes", err=True
        )
        write_report(
            report_file,
            hall,
            seed=seed,
            replications=replications,
            customers=customers,
            target_min=target_minutes,
            progress=lambda total, label: _progress(total, label, show, announce=True),
        )
        click.echo(f"wrote {report_file} and its charts in {report_file.with_suffix('')}/")
        return
    if validate:
        _validate(seed, replications, customers, show)
        return
    _hall_days(
        _hall(config_file, hall_id),
        scenario_file,
        arrivals_file,
        days,
        seed,
        load,
        service,
        cv,
        out_dir,
        staffing,
        target_minutes,
        quantile,
        show,
    )


def _validate(seed: int, replications: int, customers: int, show: bool) -> None:
    from queue_server.simulation.report import erlang_table, estimator_grid_table
    from queue_server.simulation.validation import GRID, erlang_grid

    with _progress(len(GRID) * replications, "M/M/c replications", show) as step:
        points = erlang_grid(replications, customers, seed, step)
    click.echo(erlang_table(points).text())
    click.echo()
    click.echo(estimator_grid_table(points, ["server", "previous", "naive", "fair-naive"]).text())
    if not all(p.agrees for p in points):
        raise click.ClickException("the simulation disagrees with Erlang C at some point (see the table)")


def _hall_days(
    hall: Hall,
    scenario_file: Path | None,
    arrivals_file: Path | None,
    days: int,
    seed: int,
    load: float,
    service: str,
    cv: float,
    out_dir: Path | None,
    staffing: bool,
    target_minutes: float,
    quantile: float,
    show: bool,
) -> None:
    from queue_server.simulation.arrivals import day_arrivals, read_arrivals_csv
    from queue_server.simulation.metrics import estimate_errors, queue_summary, wait_summary, window_summary
    from queue_server.simulation.report import (
        error_table,
        queue_table,
        staffing_table,
        wait_table,
        window_table,
        write_tickets_csv,
    )
    from queue_server.simulation.runs import hall_estimators, simulate_days
    from queue_server.simulation.scenario import ScenarioError, apply_scenario_file, from_hall

    scenario = from_hall(
        hall, load=load, service="exponential" if service == "exponential" else "lognormal", service_cv=cv
    )
    try:
        if scenario_file is not None:
            scenario = apply_scenario_file(scenario, scenario_file)
        given = [read_arrivals_csv(arrivals_file, scenario, seed)] if arrivals_file is not None else None
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None
    arrivals = given or [day_arrivals(scenario, seed, d) for d in range(days)]
    count = len(arrivals)
    estimators = hall_estimators(scenario)
    with _progress(count, "simulating days", show) as step:
        results = simulate_days(scenario, count, seed, estimators, arrivals=arrivals, on_day=step)
    codes = [c.code for c in scenario.categories]
    records = [t for d in results for t in d.tickets]
    names = [e.name for e in estimators]
    waits = wait_summary(records, codes)
    windows = window_summary(results)
    click.echo(f"{hall.name_en} ({hall.id}): {count} day(s), seed {seed}, {len(records)} tickets")
    for table in (
        wait_table(waits, count),
        window_table(windows, count),
        queue_table(queue_summary(results, codes)),
        error_table(estimate_errors(records, names), {e.name: e.label for e in estimators}),
    ):
        click.echo()
        click.echo(table.text())
    overtime = [max(0.0, d.closed_s - scenario.sessions[-1][1]) / 60 for d in results]
    click.echo(
        f"\novertime after the last session: mean {sum(overtime) / count:.0f} min, max {max(overtime):.0f} min;"
        f" no-shows who came back too late: {sum(d.lost_requeues for d in results)}"
    )
    rows = None
    if staffing:
        from queue_server.simulation.staffing import staffing as find_staffing

        with _progress(len(codes), "staffing what-ifs", show) as step:
            rows = find_staffing(
                scenario, arrivals, results, target_minutes * 60, quantile=quantile, seed=seed, on_step=step
            )
        click.echo()
        click.echo(staffing_table(rows, quantile, target_minutes).text())
        total = sum(r.needed or 0 for r in rows)
        click.echo(f"dedicated windows needed in all: {total} (the hall has {len(scenario.windows)})")
    if out_dir is not None:
        from queue_server.simulation import charts

        written = [
            write_tickets_csv(results, names, out_dir / "tickets.csv"),
            charts.wait_chart(waits, out_dir / "waits.png", target_minutes if staffing else None),
            charts.queue_chart(results, codes, out_dir / "queues.png"),
            charts.utilization_chart(windows, out_dir / "utilization.png"),
            charts.estimate_chart(records, names, out_dir / "estimates.png"),
        ]
        if rows is not None:
            written.append(charts.staffing_chart(rows, out_dir / "staffing.png", target_minutes))
        click.echo("\nwrote " + ", ".join(str(p) for p in written))
