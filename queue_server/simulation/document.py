"""The simulation report (docs/simulation.md): every figure in it is computed by this run, with its charts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from config.schema import Hall
from queue_server.simulation import charts
from queue_server.simulation.arrivals import day_arrivals
from queue_server.simulation.engine import DayResult, TicketRecord
from queue_server.simulation.estimators import Estimator
from queue_server.simulation.metrics import (
    ErrorSummary,
    WaitSummary,
    WindowSummary,
    estimate_errors,
    queue_summary,
    recalibrated_rmse,
    wait_summary,
    window_summary,
)
from queue_server.simulation.quality import quality_section
from queue_server.simulation.report import (
    Table,
    erlang_table,
    error_table,
    estimator_grid_table,
    queue_table,
    staffing_table,
    wait_table,
    window_table,
)
from queue_server.simulation.runs import hall_estimators, simulate_days
from queue_server.simulation.scenario import Scenario, from_hall
from queue_server.simulation.staffing import StaffingRow, staffing
from queue_server.simulation.validation import GRID, ErlangPoint, erlang_grid

__all__ = ["write_report"]

Progress = Callable[[int, str], AbstractContextManager[Callable[[], None]]]

#: Section 7's table, written beside the charts by bench/estimate_quality.py --write.
QUALITY_FILE = "estimate-quality.md"
HALL_DAYS = 100
STAFFING_DAYS = 20
LOADS = (0.7, 0.5)  # the realistic day, and a quieter one for sensitivity
ALPHA, PREVIOUS_ALPHA = 0.01, 0.2  # the domain's ServiceTimes default, and the one it replaced
#: What the earlier server estimator measured (commit ece2863, this report with the same seed and days): it
#: cannot be rerun on the hall, its work-proportional split of shared windows is gone from the domain.
BEFORE = "1.17× to 1.79×", "8%"


def _hall_run(
    scenario: Scenario, seed: int, progress: Progress, label: str
) -> tuple[list[DayResult], list[Estimator], list[ErrorSummary]]:
    estimators = hall_estimators(scenario, ablation=True)
    with progress(HALL_DAYS, label) as step:
        days = simulate_days(scenario, HALL_DAYS, seed, estimators, on_day=step)
    records = [t for d in days for t in d.tickets]
    return days, estimators, estimate_errors(records, [e.name for e in estimators])


def _rmse(errors: Sequence[ErrorSummary], name: str) -> float:
    return next(e.rmse_s for e in errors if e.name == name)


def write_report(
    path: Path,
    hall: Hall,
    *,
    seed: int,
    replications: int,
    customers: int,
    target_min: float,
    progress: Progress,
) -> None:
    """Run the validation, the hall days and the staffing what-if, and write the report and its charts."""
    started = time.monotonic()
    figures = path.with_suffix("")
    rel = figures.name

    with progress(len(GRID) * replications, "M/M/c replications") as step:
        points = erlang_grid(replications, customers, seed, step)
    charts.erlang_chart(points, figures / "erlang.png")
    charts.rmse_chart(points, ["server", "previous", "naive"], figures / "rmse-mmc.png")

    scenario = from_hall(hall, load=LOADS[0])
    days, estimators, errors = _hall_run(scenario, seed, progress, f"hall days at load {LOADS[0]:g}")
    _, _, quiet_errors = _hall_run(from_hall(hall, load=LOADS[1]), seed, progress, f"hall days at load {LOADS[1]:g}")
    labels = {e.name: e.label for e in estimators}
    codes = [c.code for c in scenario.categories]
    records = [t for d in days for t in d.tickets]
    waits = wait_summary(records, codes)
    windows = window_summary(days)
    charts.wait_chart(waits, figures / "waits.png", target_min)
    charts.queue_chart(days, codes, figures / "queues.png")
    charts.utilization_chart(windows, figures / "utilization.png")
    charts.estimate_chart(records, ["server", "naive", "fair-naive"], figures / "estimates.png")

    staff_arrivals = [day_arrivals(scenario, seed, d) for d in range(STAFFING_DAYS)]
    with progress(len(codes), "staffing what-ifs") as step:
        rows = staffing(scenario, staff_arrivals, days[:STAFFING_DAYS], target_min * 60, seed=seed, on_step=step)
    charts.staffing_chart(rows, figures / "staffing.png", target_min)

    text = _document(
        hall,
        scenario,
        seed,
        replications,
        customers,
        target_min,
        points,
        days,
        labels,
        errors,
        quiet_errors,
        waits,
        windows,
        rows,
        rel,
        time.monotonic() - started,
    )
    quality = figures / QUALITY_FILE  # bench/estimate_quality.py --write: a longer run of its own
    text += "\n" + quality_section(quality.read_text(encoding="utf-8") if quality.exists() else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _document(
    hall: Hall,
    scenario: Scenario,
    seed: int,
    replications: int,
    customers: int,
    target_min: float,
    points: Sequence[ErlangPoint],
    days: Sequence[DayResult],
    labels: dict[str, str],
    errors: Sequence[ErrorSummary],
    quiet_errors: Sequence[ErrorSummary],
    waits: Sequence[WaitSummary],
    windows: Sequence[WindowSummary],
    rows: Sequence[StaffingRow],
    rel: str,
    elapsed_s: float,
) -> str:
    agree = sum(p.agrees for p in points)
    worst = max(points, key=lambda p: abs(p.relative_error))
    ratio = {n: [p.error(n).rmse_s / p.error("full").rmse_s for p in points] for n in ("server", "previous", "naive")}
    naive, server, fair = (_rmse(errors, n) for n in ("naive", "server", "fair-naive"))
    q_naive, q_server, q_fair = (_rmse(quiet_errors, n) for n in ("naive", "server", "fair-naive"))
    earlier = _rmse(errors, "queue-fluid")
    needed = sum(r.needed or 0 for r in rows)
    own, recalibrated = recalibrated_rmse(_records(days), "server")
    noise, previous_noise = (math.sqrt(a / (2 - a)) for a in (ALPHA, PREVIOUS_ALPHA))
    gain = 1 - recalibrated / own
    categories = ", ".join(f"{c.code} {c.per_day:.0f}" for c in scenario.categories)
    codes = [c.code for c in scenario.categories]
    command = "bianmin simulate --report docs/simulation.md"
    if (seed, replications, customers, target_min) != (1, 10, 20_000, 15.0):
        command += f" --seed {seed} --replications {replications} --customers {customers}"
        command += f" --target-minutes {target_min:g}"

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    def span(name: str) -> str:
        return f"{min(ratio[name]):.2f}× to {max(ratio[name]):.2f}×"

    grid = "c ∈ {1, 3, 8}, ρ ∈ {0.5, 0.8, 0.9}"
    realistic = f"realistic day (load {LOADS[0]:g})"
    summary = Table(
        "",
        ["check", "target", "result", ""],
        [
            [
                f"simulated mean wait against Erlang C, {grid}",
                "within 5% or the 95% CI",
                f"{agree} of {len(points)} agree; largest difference {worst.relative_error:+.1%}"
                f" (c={worst.servers}, ρ={worst.rho:g})",
                verdict(agree == len(points)),
            ],
            [
                "server estimator against full information (n+1)/(cμ), exponential",
                "RMSE ≤ 1.10×",
                span("server"),
                verdict(max(ratio["server"]) <= 1.10),
            ],
            [
                f"server estimator against the naive one, {realistic}",
                "≥ 30% lower RMSE",
                f"{1 - server / naive:.0%} lower",
                verdict(server <= 0.7 * naive),
            ],
        ],
    ).markdown()
    quiet = (
        f"server {q_server / 60:.1f} min, naive {q_naive / 60:.1f} min, fair naive {q_fair / 60:.1f} min RMSE"
        f" (server {1 - q_server / q_naive:.0%} lower than naive, {1 - q_server / q_fair:.0%} lower than fair naive)"
    )
    ablation = {n: _rmse(errors, n) for n in ("alpha-0.2", "start-finish")}
    left = "Little is left" if gain < 0.05 else "Some is left"
    server_exp, server_day = max(ratio["server"]) <= 1.10, server <= 0.7 * naive
    conclusion = " ".join(
        [
            "The simulator agrees with queueing theory."
            if agree == len(points)
            else "**The simulator disagrees with Erlang C at some point: its other figures are not to be trusted.**",
            f"The server's estimator {'meets' if server_exp else 'does not meet'} the exponential target"
            f" ({span('server')}) and {'meets' if server_day else 'does not meet'} the realistic-day one"
            f" ({1 - server / naive:.0%} lower RMSE than naive); before the changes of section 4 it measured"
            f" {BEFORE[0]} and {BEFORE[1]} lower.",
            f"Against the fair naive baseline it is {1 - server / fair:.0%} lower;"
            " section 7 compares it with the conditional-mean optimum, load by load.",
        ]
    )

    out = f"""# The hall simulator and the quality of wait estimates

Produced by `{command}` (seed {seed}; {elapsed_s / 60:.0f} minutes on the development machine). Every figure
below comes from that run: change the code, run it again, and this page follows.

`bianmin simulate` is a discrete-event simulation of a hall day that drives the server's own domain code:
windows call with `queue_server.domain.routing.pick_next`, returning no-shows are placed with `requeue_key`,
each window move goes through `windows.check_window_action` and each ticket move through
`tickets.check_transition`, and every ticket's estimated wait at issue comes from
`queue_server.domain.estimate.estimate_waits` with a live `ServiceTimes` mean learned from call to finish,
as the server computes it (`services/views.py`, `services/loading.py`, `services/window_actions.py`). The
functions are looked up on their modules at each call, never copied. Code: `queue_server/simulation/`
(arrivals, engine, estimators, metrics, theory, validation, staffing, proposals, charts, report, document,
cli).

## Summary

{summary}

{conclusion}

## 1. The model

A **day** is the hall's opening sessions ({", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in scenario.sessions)}).
Windows open at each session's start and call as soon as they are free; at a session's end the kiosk stops
issuing and each window serves what it can still pick, then closes (the overtime is measured, nobody is
sent home).

- **Arrivals**: per category a Poisson process whose rate follows an hourly profile (relative intensity
  {", ".join(f"{h}h {w:g}" for h, w in sorted(scenario.profile.items()))}: a morning peak), within the sessions.
  Demand per category is set so that the windows are busy a given share of the day on average (the
  *load*; each window's time is shared equally among the categories it lists). At load {LOADS[0]:g} the demo
  hall gets, per day: {categories}.
- **Service**: lognormal with the hall's `service_minutes` as mean and a coefficient of variation of
  {scenario.service_cv:g} (or exponential; per-item means can be set in a scenario file). The citizen walks to the
  window first (exponential, mean {scenario.walk_mean_s:.0f} s): the window is held, and the server's clock of
  the service, which runs from the call to the finish, counts the walk.
- **Green channel**: {scenario.green_share:.0%} of tickets; routing's priority streak of
  {scenario.priority_streak_max} applies.
- **No-shows**: {scenario.no_show_p:.0%} of called citizens do not come; the clerk recalls {scenario.recall_limit} times
  {scenario.recall_interval_s:.0f} s apart (the window is held {scenario.no_show_hold_s:.0f} s), then marks a no-show;
  {scenario.requeue_p:.0%} of them re-queue at the kiosk 5–30 minutes later, behind
  {scenario.requeue_behind} waiting tickets (`requeue_key`).
- **Clerk pauses**: {scenario.pause_per_hour:g} per window and open hour, exponential length of mean
  {scenario.pause_mean_s / 60:.0f} min, taken when the window is next free; a paused window is unavailable
  to the estimator, as on the server.
- Everything random about a citizen is drawn on arrival (item, priority, service time, walk, no-show), so
  the same day can be replayed under another staffing (common random numbers). `--seed` fixes all of it.

A scenario file (`--scenario FILE.toml`) overrides any of it: `per_day`, `service_minutes` and
`item_minutes` tables, `profile` (hour → intensity), `service`, `service_cv`, `green_share`,
`appointment_share`, `no_show_p`, `requeue_p`, `walk_seconds`, `pauses_per_hour`, `pause_minutes`.
`--arrivals FILE.csv` replays a real day instead (columns `time`, `category`, and optionally `priority`,
`item_id`, `service_minutes`).

## 2. Validation against Erlang C

One category on c dedicated windows, Poisson arrivals, exponential services of mean 5 minutes, FIFO:
M/M/c. Each point is {replications} independent replications of {customers:,} measured tickets after a warm-up of
{customers // 10:,} tickets (started empty); the interval is Student's t over the replications' means. Erlang C
is `queue_server/simulation/theory.py` (Erlang B recurrence; tested against published values). The 90th
percentile of the wait is checked too: P(W > t) = C·e^−(cμ−λ)t.

{erlang_table(points).markdown()}

![Erlang C against the simulation]({rel}/erlang.png)

## 3. Quality of the wait estimates

Every ticket's estimate at issue is recorded next to its actual wait (issue → first call). Compared, on the
same tickets of the same runs:

- **server** — `estimate_waits` with `ServiceTimes` (alpha {ALPHA:g}, prior 4, started from the configured
  times), learning from call to finish: what the kiosk prints;
- **previous** (exponential only) — the server's estimator before the changes of section 4, reproduced
  exactly in M/M/c (one category, no walk): `ServiceTimes` with alpha {PREVIOUS_ALPHA:g};
- **naive** (a) — people ahead × mean service time / windows listing the category, with the mean the server
  kept when the targets were set (an EWMA with alpha {PREVIOUS_ALPHA:g} of start → finish), so that the
  baseline does not move with the server;
- **full information** (b, exponential only) — (n + 1)/(cμ) with the true μ: the conditional mean of the
  wait given the queue, which no estimator can beat;
- **fair-naive** (a′) — (people ahead + 1 − idle windows) × the server's own mean (call → finish) / open
  windows of the category: the naive estimate without its handicaps;
- **queue-fluid** (on the hall) — the server before the changes of section 4, item 4; and the server without
  each of its service-time choices: **alpha-0.2** (the earlier short memory), **start-finish** (the earlier
  clock).

### 3.1 Exponential: against full information

{estimator_grid_table(points, ["server", "previous", "naive", "fair-naive"]).markdown()}

![RMSE relative to full information]({rel}/rmse-mmc.png)

The server's method is exact here — for one category on c windows, `estimate_waits` *is* (n + 1)·S/c — so
its whole excess error is the noise of its mean S. That error is multiplied by n + 1, so it grows with the
queue: with a relative standard deviation v of S, RMSE² / RMSE²(full) ≈ 1 + v²·E[(n+1)²]/E[n+1]
= 1 + v²·(1+ρ)/(1−ρ). A moving average with weight alpha has v = √(α/(2 − α)) for exponential times:
{noise:.2f} for the server's alpha {ALPHA:g} (a ratio of {math.sqrt(1 + noise**2 * 3):.2f} at ρ = 0.5 and
{math.sqrt(1 + noise**2 * 19):.2f} at ρ = 0.9; measured {span("server")}), {previous_noise:.2f} for the earlier
alpha {PREVIOUS_ALPHA:g} ({math.sqrt(1 + previous_noise**2 * 3):.2f} and {math.sqrt(1 + previous_noise**2 * 19):.2f};
measured {span("previous")}). With the prior of 4, the first services are averaged with the configured time
as a plain mean, so the longer memory does not slow the start.

### 3.2 A realistic day in the demo hall

{HALL_DAYS} days of {hall.name_en} at load {LOADS[0]:g} ({len(_records(days)):,} tickets), estimators learning
from day to day as a running server does.

{error_table(errors, labels).markdown()}

The same at load {LOADS[1]:g}: {quiet}.

![Estimated against actual waits]({rel}/estimates.png)

The server's estimate on this hall, category by category:

{_per_category(days, codes)}

What the server's estimate still leaves out:

- **Arrivals to come.** The fluid clears today's queues in each window's order of preference, but a window's
  first category refills while a later one waits, and green-channel tickets overtake ordinary ones: tickets
  of a shared window's later categories tend to be promised too little.
- **The service in progress** is counted as a full mean of the category called next, however long it has
  run.
- **A paused window** is not counted at all, though it is back in minutes (the open proposal).
- **The noise of the mean**, as in 3.1 — small now: without the longer memory (alpha-0.2) the RMSE would be
  {ablation["alpha-0.2"] / 60:.1f} min instead of {server / 60:.1f}; learning from start to finish instead of from
  the call (start-finish), {ablation["start-finish"] / 60:.1f} min.

### 3.3 How close to the best possible?

The remaining error is mostly the randomness of the services themselves: one window with 15–20-minute
services and three people ahead has a standard deviation of wait of ~20 minutes whatever is printed. As a
check, the server's estimate was recalibrated on the even days — replaced, per category, priority class and
5-minute bucket of the estimate, by the mean actual wait observed there — and scored on the odd days: its
RMSE goes from {own / 60:.1f} to {recalibrated / 60:.1f} minutes ({gain:+.0%} better). {left} for
any estimator that sees what this one sees (category, people ahead, windows' state). The 30% target
against the naive estimator is therefore a property of the hall as much as of the estimator: how much
worse the naive one is depends on how many windows are shared or paused and how long the queues get.

## 4. Changes to the estimator

The simulator measured the server's earlier estimator at {BEFORE[0]} of full information (exponential) and
{BEFORE[1]} below the naive one on the realistic day, and proposed the first three changes below, with code
and measurements (commit ece2863: the fluid alone 23% below naive, the longer memory alone 16%, both 30%,
with the call → finish clock 31%). They are now the domain's, and this report measures the result as
**server**:

1. **`ServiceTimes`: a longer memory, with a quick start** (`queue_server/domain/estimate.py`). The k-th
   observation of a category weighs max(alpha, 1/(k + 1 + prior)) with alpha = {ALPHA:g} and prior = 4 (the
   configured time counts as four observations): the first services are averaged with the configured time,
   so a wrong configuration is corrected within a few services; then the mean is a moving average
   remembering ~200 services (relative noise {noise:.2f} instead of {previous_noise:.2f}). The clipping rule is
   unchanged. At start-up `services/loading.py` replays the last `SERVICE_TIME_HISTORY` = 200 services *of
   each category*, so a restart keeps that precision.
2. **`estimate_waits`: the fluid, in each window's order of preference.** Idle windows call at once; then
   every available window calls the first category in *its* order that still has uncalled tickets, at rate
   1/S of that category; when a category runs out its windows move on to their next one. A ticket with
   `ahead` tickets before it waits until its category's calls reach ahead + 1. For one category on c
   windows this is the earlier (ahead + 1 − idle)·S/c (so the M/M/c optimality is kept); for shared windows
   it follows routing instead of splitting windows in proportion to the work waiting. `estimate_new` runs
   the same fluid with one more ticket in each category.
3. **Learn the time a window is held** (`services/window_actions.finish`): observe finish − called_at
   (the walk to the window included) instead of finish − started_at.

4. **What the hall knows beyond the queue** (issue 17; section 7 measures it against the optimum): a paused
   window counts as available and busy (`runtime.window_loads`); a service in progress counts by its expected
   rest given how long it has run (`estimate.expected_rest`); today's arrivals to come take their share of
   the windows that prefer them, at the rate of the last half hour, until the session ends, and priority
   arrivals go ahead of ordinary tickets (`domain/opening.py`, the fluid's inflow). The server before this,
   **queue-fluid**, measures {earlier / 60:.1f} min RMSE on the realistic day against {server / 60:.1f}.

## 5. Staffing what-if

`bianmin simulate --staffing --target-minutes {target_min:g}`: for each category, the fewest *dedicated*
windows whose 90th-percentile wait is at most {target_min:g} minutes, on the same {STAFFING_DAYS} days of arrivals
(same citizens, same service times) as the current layout. Dedicated windows make categories independent;
shared windows can only do better with the same total.

{staffing_table(rows, 90, target_min).markdown()}

Dedicated windows needed in all: **{needed}** (the hall has {len(scenario.windows)}, several shared). The waits of the
current layout at load {LOADS[0]:g}:

{wait_table(waits, len(days)).markdown()}

![Waits per category]({rel}/waits.png)

![Staffing]({rel}/staffing.png)

{window_table(windows, len(days)).markdown()}

![Window utilization]({rel}/utilization.png)

{queue_table(queue_summary(days, codes)).markdown()}

![Queue lengths]({rel}/queues.png)

## 6. Running it

```
bianmin simulate --days 20 --out var/sim        # tables, tickets.csv and charts of 20 demo days
bianmin simulate --staffing --target-minutes 15
bianmin simulate --validate                     # the Erlang C table and the estimator grid
bianmin simulate --config my-hall.toml --scenario busy-monday.toml --arrivals monday.csv --staffing
{command}
```

Tests: `tests/simulation/` (Erlang C values; simulation against Erlang C at points drawn at random, with a
statistical tolerance; the estimators' targets and ordering on fixed seeds; the optimum by forward runs, the
90% range's coverage; the simulator calls the real `pick_next`, `requeue_key` and `estimate_waits`; the CLI)."""
    return out


def _records(days: Sequence[DayResult]) -> list[TicketRecord]:
    return [t for d in days for t in d.tickets]


def _hhmm(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}"


def _per_category(days: Sequence[DayResult], codes: Sequence[str]) -> str:
    names = ("server", "naive", "fair-naive")
    rows = []
    for code in codes:
        errors = estimate_errors([t for d in days for t in d.tickets if t.category == code], names)
        rows.append([code, str(errors[0].tickets)] + [f"{e.rmse_s / 60:.1f} ({e.bias_s / 60:+.1f})" for e in errors])
    return Table("", ["category", "tickets", *(f"{n} RMSE (bias), min" for n in names)], rows).markdown()
