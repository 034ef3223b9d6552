"""Tables of simulated figures (as aligned text or Markdown) and the per-ticket CSV."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from queue_server.simulation.engine import DayResult, TicketRecord
from queue_server.simulation.metrics import ErrorSummary, QueueSummary, WaitSummary, WindowSummary
from queue_server.simulation.staffing import StaffingRow
from queue_server.simulation.validation import ErlangPoint

__all__ = [
    "Table",
    "erlang_table",
    "error_table",
    "estimator_grid_table",
    "queue_table",
    "staffing_table",
    "wait_table",
    "window_table",
    "write_tickets_csv",
]


@dataclass(frozen=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]

    def text(self) -> str:
        widths = [max(len(str(c)) for c in column) for column in zip(self.headers, *self.rows, strict=True)]
        lines = [self.title, "  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            cells = [c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "|".join("---" for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def _numeric(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] in "+-−.") and not cell.startswith("--")


def minutes(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds / 60:.1f}"


def wait_table(rows: Sequence[WaitSummary], days: int) -> Table:
    return Table(
        "Waits from ticket to first call (minutes)",
        ["category", "tickets/day", "no-shows", "mean", "p90", "max"],
        [
            [
                r.category,
                f"{r.tickets / days:.1f}",
                str(r.no_shows),
                minutes(r.mean_s),
                minutes(r.p90_s),
                minutes(r.max_s),
            ]
            for r in rows
        ],
    )


def window_table(rows: Sequence[WindowSummary], days: int) -> Table:
    return Table(
        "Windows (busy: from a call to its finish or no-show; shares of staffed time)",
        ["window", "categories", "utilization", "paused", "served/day", "staffed h/day"],
        [
            [
                str(r.number),
                ", ".join(r.categories),
                f"{r.utilization:.0%}",
                f"{r.paused_share:.1%}",
                f"{r.served / days:.1f}",
                f"{r.staffed_h:.1f}",
            ]
            for r in rows
        ],
    )


def queue_table(rows: Sequence[QueueSummary]) -> Table:
    return Table(
        "Queue lengths (waiting tickets; mean over the open sessions)",
        ["category", "mean", "max"],
        [[r.category, f"{r.mean:.1f}", str(r.max)] for r in rows],
    )


def error_table(rows: Sequence[ErrorSummary], labels: dict[str, str], baseline: str = "naive") -> Table:
    base = next((r.rmse_s for r in rows if r.name == baseline), math.nan)
    return Table(
        "Estimated wait at issue against the actual wait (minutes)",
        ["estimator", "what it is", "tickets", "RMSE", "bias", "MAE", "within 5 min", f"RMSE vs {baseline}"],
        [
            [
                r.name,
                labels.get(r.name, ""),
                str(r.tickets),
                minutes(r.rmse_s),
                f"{r.bias_s / 60:+.1f}",
                minutes(r.mae_s),
                f"{r.within_5min:.0%}",
                f"{r.rmse_s / base - 1:+.0%}",
            ]
            for r in rows
        ],
    )


def staffing_table(rows: Sequence[StaffingRow], quantile: float, target_min: float) -> Table:
    q = f"p{quantile:g}"
    return Table(
        f"Fewest dedicated windows for {quantile:g}% of waits under {target_min:g} minutes (waits in minutes)",
        [
            "category",
            "arrivals/day",
            "windows listing it now",
            f"{q} now",
            "dedicated needed",
            f"{q} then",
            "mean then",
            "utilization then",
        ],
        [
            [
                r.category,
                f"{r.arrivals_per_day:.1f}",
                str(r.current_windows),
                minutes(r.current_quantile_s),
                str(r.needed) if r.needed is not None else "more than the maximum tried",
                minutes(r.needed_quantile_s),
                minutes(r.needed_mean_s),
                f"{r.needed_utilization:.0%}",
            ]
            for r in rows
        ],
    )


def erlang_table(points: Sequence[ErlangPoint]) -> Table:
    return Table(
        "M/M/c mean wait: Erlang C against the simulation (service mean 5 min; waits in seconds)",
        [
            "c",
            "ρ",
            "Erlang C",
            "simulated",
            "95% CI ±",
            "difference",
            "agrees",
            "p90 theory",
            "p90 simulated",
            "tickets",
        ],
        [
            [
                str(p.servers),
                f"{p.rho:g}",
                f"{p.theory_s:.1f}",
                f"{p.sim_s:.1f}",
                f"{p.half_width_s:.1f}",
                f"{p.relative_error:+.1%}",
                "yes" if p.agrees else "NO",
                f"{p.theory_p90_s:.0f}",
                f"{p.sim_p90_s:.0f}",
                f"{p.customers:,}",
            ]
            for p in points
        ],
    )


def estimator_grid_table(points: Sequence[ErlangPoint], names: Sequence[str]) -> Table:
    def cell(p: ErlangPoint, name: str) -> str:
        ratio = p.error(name).rmse_s / p.error("full").rmse_s
        return f"{p.error(name).rmse_s:.0f} ({ratio:.2f}×)"

    return Table(
        "RMSE of the estimated wait in M/M/c (seconds; × the full-information RMSE; target ≤ 1.10×)",
        ["c", "ρ", "full information", *names],
        [[str(p.servers), f"{p.rho:g}", f"{p.error('full').rmse_s:.0f}", *(cell(p, n) for n in names)] for p in points],
    )


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def write_tickets_csv(days: Sequence[DayResult], names: Sequence[str], path: Path) -> Path:
    """One row per ticket: what happened to it, and each estimator's figure at its issue (seconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "day",
                "ticket",
                "category",
                "item_id",
                "priority",
                "issued",
                "called",
                "started",
                "finished",
                "window",
                "wait_s",
                "service_s",
                "no_show",
                "requeued",
                "ahead",
                *(f"estimate_{n}_s" for n in names),
            ]
        )
        for day in days:
            for t in day.tickets:
                writer.writerow(_row(t, names))
    return path


def _row(t: TicketRecord, names: Sequence[str]) -> list[str]:
    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    return [
        str(t.day),
        str(t.id),
        t.category,
        t.item_id or "",
        t.priority.value,
        _clock(t.issued_s),
        _clock(t.called_s),
        _clock(t.started_s),
        _clock(t.finished_s),
        str(t.window or ""),
        number(t.wait_s),
        f"{t.service_s:.0f}",
        "1" if t.no_show else "0",
        "1" if t.requeued_s is not None else "0",
        str(t.ahead),
        *(number(t.estimates.get(n)) for n in names),
    ]
