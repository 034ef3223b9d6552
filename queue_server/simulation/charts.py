"""PNG charts of simulated days and of the validation (matplotlib, Agg canvas: no display, no global backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from queue_server.simulation.engine import DayResult, TicketRecord
from queue_server.simulation.metrics import WaitSummary, WindowSummary

if TYPE_CHECKING:
    from queue_server.simulation.staffing import StaffingRow
    from queue_server.simulation.validation import ErlangPoint

__all__ = [
    "erlang_chart",
    "estimate_chart",
    "queue_chart",
    "rmse_chart",
    "staffing_chart",
    "utilization_chart",
    "wait_chart",
]


def _figure(width: float = 8.0, height: float = 4.5) -> Any:
    # Imported here: `bianmin --help` and the engine never pay for matplotlib. The Agg canvas is attached to the
    # figure directly, so no interactive backend is ever chosen or switched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def wait_chart(rows: Sequence[WaitSummary], path: Path, target_min: float | None = None) -> Path:
    """Mean and 90th-percentile wait per category."""
    rows = [r for r in rows if r.category != "(all)"]
    figure = _figure()
    ax = figure.add_subplot()
    x = list(range(len(rows)))
    ax.bar([i - 0.2 for i in x], [r.mean_s / 60 for r in rows], width=0.4, label="mean")
    ax.bar([i + 0.2 for i in x], [r.p90_s / 60 for r in rows], width=0.4, label="90th percentile")
    if target_min is not None:
        ax.axhline(target_min, color="black", linestyle="--", linewidth=1, label=f"target {target_min:g} min")
    ax.set_xticks(x, [r.category for r in rows], rotation=30, ha="right")
    ax.set_ylabel("wait from ticket to call (minutes)")
    ax.set_title("Waits per category")
    ax.legend()
    return _save(figure, path)


def queue_chart(days: Sequence[DayResult], categories: Sequence[str], path: Path) -> Path:
    """Waiting tickets per category through the day, averaged over the simulated days."""
    figure = _figure(9.0, 4.5)
    ax = figure.add_subplot()
    by_time: dict[float, list[dict[str, int]]] = {}
    for day in days:
        for at, counts in day.queue_samples:
            by_time.setdefault(at, []).append(counts)
    times = sorted(by_time)
    for code in categories:
        ax.plot(
            [t / 3600 for t in times],
            [sum(c.get(code, 0) for c in by_time[t]) / len(days) for t in times],
            label=code,
            linewidth=1.2,
        )
    ax.set_xlabel("hour of day")
    ax.set_ylabel(f"waiting tickets (mean over {len(days)} day{'s' if len(days) != 1 else ''})")
    ax.set_title("Queue lengths through the day")
    ax.legend(ncols=3, fontsize="small")
    return _save(figure, path)


def utilization_chart(rows: Sequence[WindowSummary], path: Path) -> Path:
    """Busy and paused shares of each window's staffed time."""
    figure = _figure()
    ax = figure.add_subplot()
    labels = [f"{r.number}\n{'+'.join(c[:3] for c in r.categories)}" for r in rows]
    busy = [r.utilization * 100 for r in rows]
    ax.bar(labels, busy, label="busy (call to finish)")
    ax.bar(labels, [r.paused_share * 100 for r in rows], bottom=busy, label="paused")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of staffed time")
    ax.set_title("Window utilization")
    ax.tick_params(axis="x", labelsize="x-small")
    ax.legend()
    return _save(figure, path)


def estimate_chart(records: Sequence[TicketRecord], names: Sequence[str], path: Path) -> Path:
    """Estimated wait at issue against the actual wait, one panel per estimator."""
    figure = _figure(4.0 * len(names), 4.2)
    axes = figure.subplots(1, len(names), sharex=True, sharey=True, squeeze=False)[0]
    pairs = [(r, r.wait_s) for r in records if r.wait_s is not None]
    top = max((w for _, w in pairs), default=60.0) / 60
    for ax, name in zip(axes, names, strict=True):
        points = [(e / 60, w / 60) for r, w in pairs if (e := r.estimates.get(name)) is not None]
        ax.scatter([p[0] for p in points], [p[1] for p in points], s=3, alpha=0.25, linewidths=0)
        ax.plot([0, top], [0, top], color="black", linewidth=0.8)
        ax.set_title(name)
        ax.set_xlabel("estimated at issue (min)")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
    axes[0].set_ylabel("actual wait (min)")
    return _save(figure, path)


def erlang_chart(points: Sequence[ErlangPoint], path: Path) -> Path:
    """Simulated mean wait (95% CI) against Erlang C, per windows and utilization."""
    figure = _figure(8.0, 4.5)
    ax = figure.add_subplot()
    for servers in sorted({p.servers for p in points}):
        mine = [p for p in points if p.servers == servers]
        line = ax.plot([p.rho for p in mine], [p.theory_s / 60 for p in mine], label=f"Erlang C, c={servers}")[0]
        ax.errorbar(
            [p.rho for p in mine],
            [p.sim_s / 60 for p in mine],
            yerr=[p.half_width_s / 60 for p in mine],
            fmt="o",
            color=line.get_color(),
            capsize=3,
            label=f"simulated, c={servers}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("utilization ρ")
    ax.set_ylabel("mean wait (minutes, log scale; service mean 5 min)")
    ax.set_title("M/M/c: simulation against Erlang C")
    ax.legend(fontsize="small", ncols=2)
    return _save(figure, path)


def rmse_chart(points: Sequence[ErlangPoint], names: Sequence[str], path: Path) -> Path:
    """Each estimator's RMSE over the full-information RMSE, per (c, ρ)."""
    figure = _figure(9.0, 4.5)
    ax = figure.add_subplot()
    width = 0.8 / len(names)
    x = list(range(len(points)))
    for i, name in enumerate(names):
        ax.bar(
            [j + (i - (len(names) - 1) / 2) * width for j in x],
            [p.error(name).rmse_s / p.error("full").rmse_s for p in points],
            width=width,
            label=name,
        )
    ax.axhline(1.1, color="black", linestyle="--", linewidth=1, label="target: 1.1 × full information")
    ax.set_xticks(x, [f"c={p.servers}\nρ={p.rho:g}" for p in points], fontsize="small")
    ax.set_ylabel("RMSE / full-information RMSE")
    ax.set_title("Estimate error in M/M/c, relative to the best possible")
    ax.legend(fontsize="small")
    return _save(figure, path)


def staffing_chart(rows: Sequence[StaffingRow], path: Path, target_min: float) -> Path:
    """Windows per category: as configured against the dedicated windows needed for the target."""
    figure = _figure()
    ax = figure.add_subplot()
    x = list(range(len(rows)))
    ax.bar([i - 0.2 for i in x], [r.current_windows for r in rows], width=0.4, label="windows listing it now")
    ax.bar([i + 0.2 for i in x], [r.needed or 0 for r in rows], width=0.4, label="dedicated windows needed")
    ax.set_xticks(x, [r.category for r in rows], rotation=30, ha="right")
    ax.set_ylabel("windows")
    ax.set_title(f"Staffing for 90% of waits under {target_min:g} minutes")
    ax.legend()
    return _save(figure, path)
