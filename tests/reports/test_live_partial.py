"""A live day's Partial kept ticket by ticket (LivePartial) equals the one-pass fold of the same tickets, exactly."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from queue_server.reports.figures import FigureBuilder
from queue_server.reports.partial import LivePartial, Partial, partial_of
from tests.reports.simulate import SHANGHAI, simulate

MONDAY = dt.date(2026, 3, 16)


def state(partial: Partial) -> tuple[object, ...]:
    """Everything a Partial holds, independent of the order its cells were made in."""
    cells = {cell: [*acc[:-1], sorted(acc[-1].items())] for cell, acc in partial.cells.items()}
    return cells, partial.hourly, partial.waits, partial.items, partial.daily


@pytest.mark.parametrize("seed", range(8))
def test_the_live_partial_equals_the_fold_after_every_chunk_of_events(seed: int) -> None:
    sim = simulate(seed, [MONDAY, MONDAY + dt.timedelta(days=1)])
    rng = random.Random(seed)
    builder, live = FigureBuilder(None, None), LivePartial(SHANGHAI)
    events, i, chunks = sim.events, 0, 0
    while i < len(events):
        rows = events[i : i + rng.choice([1, 1, 2, 5, 30, 120])]
        i += len(rows)
        builder.feed(rows)
        known = builder.tickets
        changed = list(known) if any(r.type == "day.closed" for r in rows) else {
            r.ticket_id for r in rows if r.ticket_id in known}  # fmt: skip
        handed_out = live.partial
        before = state(handed_out)
        got = live.update(known, changed)
        assert state(got) == state(partial_of(known.values(), SHANGHAI))
        assert state(handed_out) == before  # a Partial handed out earlier never changes
        chunks += 1
    assert chunks >= 10 and len(builder.tickets) > 100
    # Cells were left and joined (calls, transfers, recalls at another window): the case this is about.
    assert any(r.type == "ticket.transferred" for r in events) and any(r.type == "ticket.called" for r in events)
