"""The wall's day charts folded from events: queue and wait per hour, load per window and clerk, service level."""

from __future__ import annotations

from queue_server.reports.day_chart import US, day_chart
from queue_server.reports.events import EventRow

MIN = 60 * US


def at(hour: int, minute: int) -> int:
    return (hour * 60 + minute) * MIN


def ev(seq: int, kind: str, when: int, *, ticket: int | None = None, window: int | None = None,
       actor: str | None = None) -> EventRow:  # fmt: skip
    return EventRow(seq, kind, when, actor, window, None, ticket)


DAY = [
    ev(1, "window.opened", at(8, 0), window=1, actor="liuxia"),
    ev(2, "ticket.issued", at(8, 10), ticket=1),
    ev(3, "ticket.issued", at(8, 20), ticket=2),
    ev(4, "ticket.called", at(8, 30), ticket=1, window=1, actor="liuxia"),
    ev(5, "ticket.started", at(8, 32), ticket=1, window=1, actor="liuxia"),
    ev(6, "ticket.finished", at(8, 40), ticket=1, window=1, actor="liuxia"),
    ev(7, "window.paused", at(8, 50), window=1, actor="liuxia"),
    ev(8, "window.opened", at(9, 0), window=2, actor="wangfang"),
    ev(9, "window.resumed", at(9, 0), window=1, actor="liuxia"),
    ev(10, "ticket.issued", at(9, 2), ticket=4),
    ev(11, "ticket.called", at(9, 5), ticket=2, window=1, actor="liuxia"),
    ev(12, "ticket.recalled", at(9, 7), ticket=2, window=1, actor="liuxia"),
    ev(13, "ticket.called", at(9, 10), ticket=4, window=2, actor="wangfang"),
    ev(14, "ticket.no_show", at(9, 15), ticket=2, window=1, actor="liuxia"),
    ev(15, "ticket.issued", at(9, 20), ticket=3),
    ev(16, "ticket.finished", at(9, 25), ticket=4, window=2, actor="wangfang"),
]


def test_the_day_is_folded_into_hours_loads_and_the_service_level() -> None:
    chart = day_chart(DAY, start_us=0, now_us=at(9, 30), target_minutes=15)
    eight, nine, ten = chart.hours[8], chart.hours[9], chart.hours[10]
    # 08:00–09:00: 0 for 10 min, 1 for 10, 2 for 10, 1 for 30 → 60 ticket-minutes over 60 minutes.
    assert (eight.queue_mean, eight.queue_max, eight.called, eight.wait_mean_s, eight.wait_max_s) == (
        1.0, 2, 1, 1200.0, 1200.0)  # fmt: skip
    # 09:00–09:30 (now): 1·2 + 2·3 + 1·5 + 0·10 + 1·10 = 23 over 30 minutes; waits 45 and 8 minutes.
    assert (nine.queue_mean, nine.queue_max, nine.called, nine.wait_mean_s, nine.wait_max_s) == (
        0.77, 2, 2, 1590.0, 2700.0)  # fmt: skip
    assert ten.queue_mean is None and ten.called == 0 and chart.hours[7].queue_mean == 0.0
    loads = {w.key: (w.serving_s, w.idle_s, w.paused_s) for w in chart.windows}
    assert loads == {"1": (1200.0, 3600.0, 600.0), "2": (900.0, 900.0, 0.0)}
    assert {c.key: (c.serving_s, c.idle_s, c.paused_s) for c in chart.clerks} == {
        "liuxia": loads["1"], "wangfang": loads["2"]}  # fmt: skip
    # Called within 15 minutes: ticket 4 only; 1 (20 min) and 2 (45 min) missed; 3 waits 10 min: not yet counted.
    level = chart.service_level
    assert (level.within, level.counted, level.rate, level.target_minutes) == (1, 3, 0.3333, 15)


def test_a_ticket_waiting_past_the_target_counts_as_missed_and_a_target_moves_the_figure() -> None:
    later = day_chart(DAY, start_us=0, now_us=at(9, 40), target_minutes=15)
    assert (later.service_level.within, later.service_level.counted) == (1, 4)  # ticket 3: 20 minutes now
    generous = day_chart(DAY, start_us=0, now_us=at(9, 40), target_minutes=50)
    assert (generous.service_level.within, generous.service_level.counted, generous.service_level.rate) == (3, 3, 1.0)


def test_an_empty_day_has_no_rate_and_a_closed_day_stops_the_clocks() -> None:
    empty = day_chart([], start_us=0, now_us=at(9, 0), target_minutes=15)
    assert empty.service_level.rate is None and empty.windows == [] and empty.hours[8].queue_max == 0
    closed = day_chart([*DAY, ev(17, "day.closed", at(9, 26))], start_us=0, now_us=at(12, 0), target_minutes=15)
    assert {w.key: w.idle_s for w in closed.windows} == {"1": 3600.0 - 4 * 60, "2": 600.0 + 60}
    assert closed.hours[11].queue_max == 0  # the waiting ticket expired with the day
