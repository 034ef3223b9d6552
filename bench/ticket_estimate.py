"""One ticket's status estimate from the queue index, next to estimating the whole queue for it, at 1k–80k waiting.

Method
------
- Data: the demo hall (qingshan: its 9 categories, its windows with their preference lists, the configured
  service times), every window open, half of them busy. `n` callable tickets (1,000 / 10,000 / 80,000),
  categories drawn in proportion to 1/(1 + position), 5% green channel or appointment, 1% transferred to a
  window, arrival keys increasing with a few ties. Seeded: the same queue each run.
- Measured, per call, on 200 tickets drawn at random (the same for every variant), `--rounds` rounds,
  the median round shown:
  * baseline `estimate_waits(queue, windows, service_s)[id]`: what the phone's status does today
    (a scan of every ticket, sorting each category);
  * index, fresh fluid: `index.rank(id)`, `index.counts()` and `Forecast(counts.untargeted, windows,
    service_s).estimate(ticket, rank)` — a read view that runs the fluid again for every status request;
  * index, shared fluid: `index.rank(id)` and `forecast.estimate(ticket, rank)` with one Forecast made
    for the queue state (a read view that makes one per commit, its fluid run on the first request);
  * keeping the index in step: `index.put(changed)` + `index.discard(id)` + `index.add(ticket)` (a
    transfer and back, a call and a re-issue) per ticket; and building the index from the whole queue once.
  Each variant's answers are checked against the baseline's before anything is timed.
- Target: ≤ 2 ms per status at 80,000 waiting, off the writer thread.

    .venv/bin/python bench/ticket_estimate.py [--sizes 1000,10000,80000] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import code_version, machine_load, median, table, verdict
from config.loader import default_config_path, load_config
from queue_server.domain.estimate import Forecast, WindowLoad, estimate_waits
from queue_server.domain.queue_index import QueueIndex
from queue_server.domain.routing import QueuedTicket
from queue_server.domain.tickets import Priority

SAMPLE = 200  # tickets whose status is asked, per round
TARGET_MS = 2.0


def hall_inputs() -> tuple[list[str], list[WindowLoad], dict[str, float]]:
    hall = load_config(default_config_path()).halls[0]
    categories = [c.code for c in hall.categories]
    windows = [WindowLoad(w.number, tuple(w.categories), True, i % 2 == 0) for i, w in enumerate(hall.windows)]
    service_s = {c.code: c.service_minutes * 60.0 for c in hall.categories}
    return categories, windows, service_s


def make_queue(n: int, categories: Sequence[str], windows: Sequence[WindowLoad], seed: int) -> list[QueuedTicket]:
    rng = random.Random(seed)
    weights = [1.0 / (1 + i) for i in range(len(categories))]
    numbers = [w.number for w in windows]
    queue = []
    key = 1_000_000
    for ticket_id in range(1, n + 1):
        key += rng.choice((0, 1_000, 5_000, 20_000))  # some ties: broken by id
        roll = rng.random()
        priority = Priority.ORDINARY if roll >= 0.05 else (Priority.GREEN if roll < 0.03 else Priority.APPOINTMENT)
        target = rng.choice(numbers) if rng.random() < 0.01 else None
        queue.append(QueuedTicket(ticket_id, rng.choices(categories, weights)[0], priority, key, target))
    return queue


def per_call_ms(fn: Callable[[QueuedTicket], object], sample: Sequence[QueuedTicket], rounds: int) -> float:
    """The median over rounds of one round's time per call, in milliseconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for ticket in sample:
            fn(ticket)
        times.append((time.perf_counter() - started) * 1000.0 / len(sample))
    return median(times)


def measure(n: int, rounds: int, baseline_rounds: int, baseline_sample: int) -> list[list[object]]:
    categories, windows, service_s = hall_inputs()
    queue = make_queue(n, categories, windows, seed=n)
    rng = random.Random(n + 1)
    sample = rng.sample(queue, min(SAMPLE, n))

    started = time.perf_counter()
    index = QueueIndex(queue)
    build_ms = (time.perf_counter() - started) * 1000.0
    shared = Forecast(index.counts().untargeted, windows, service_s)

    def whole_queue(t: QueuedTicket) -> object:
        return estimate_waits(queue, windows, service_s)[t.id]

    def fresh_fluid(t: QueuedTicket) -> object:
        return Forecast(index.counts().untargeted, windows, service_s).estimate(t, index.rank(t.id))

    def shared_fluid(t: QueuedTicket) -> object:
        return shared.estimate(t, index.rank(t.id))

    def keep_in_step(t: QueuedTicket) -> object:
        moved = dataclasses.replace(t, target_window=windows[0].number if t.target_window is None else None)
        index.put(moved)  # transferred (or back)
        index.discard(t.id)  # called
        index.add(t)  # and queued again as it was
        return None

    expected = estimate_waits(queue, windows, service_s)
    wrong = sum(fresh_fluid(t) != expected[t.id] or shared_fluid(t) != expected[t.id] for t in sample)

    # The baseline costs ~0.1 s a call at 80k: fewer calls, still the median of several rounds.
    base_ms = per_call_ms(whole_queue, sample[:baseline_sample], baseline_rounds)
    fresh_ms = per_call_ms(fresh_fluid, sample, rounds)
    shared_ms = per_call_ms(shared_fluid, sample, rounds)
    step_ms = per_call_ms(keep_in_step, sample, rounds)
    wrong += sum(shared_fluid(t) != expected[t.id] for t in sample)  # the index is back where it was
    rows: list[list[object]] = [
        [n, "baseline: estimate_waits(...)[id]", f"{base_ms:.3f}", "1.0", ""],
        [n, "index rank + Forecast (fresh fluid)", f"{fresh_ms:.3f}", f"{base_ms / fresh_ms:.0f}", ""],
        [n, "index rank + shared Forecast", f"{shared_ms:.4f}", f"{base_ms / shared_ms:.0f}", ""],
        [n, "keep in step: put + discard + add", f"{step_ms:.4f}", "", ""],
        [n, "build the index once", f"{build_ms:.1f}", "", ""],
    ]
    rows[1][4] = f"{verdict(fresh_ms <= TARGET_MS and wrong == 0)} (≤ {TARGET_MS} ms, {wrong} wrong)"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,80000", help="queue lengths, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, 3 rounds")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rounds = args.rounds
    if args.quick:
        sizes, rounds = [s for s in sizes if s <= 10_000] or sizes[:1], 3

    print(code_version())
    print(machine_load())
    print(f"per status request, ms (median of {rounds} rounds over {SAMPLE} tickets; the baseline over fewer)\n")
    rows: list[list[object]] = []
    for n in sizes:
        baseline_sample = SAMPLE if n <= 1_000 else (40 if n <= 10_000 else 10)
        rows += measure(n, rounds, rounds, baseline_sample)
    print(table(["waiting", "what", "ms", "x faster", "target"], rows))
    print(f"\n{machine_load()}")


if __name__ == "__main__":
    main()
