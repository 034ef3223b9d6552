"""The automatic no-show (过号): after the last allowed recall, a citizen who has not come is marked by the system.

The hall's clock is moved by the test; each server looks at its called tickets twice a second. With two servers
on one database, both look, and the ticket still gets exactly one no-show event.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from config.schema import HallConfig
from queue_server.protocol import TicketMessage
from tests.queue_server.conftest import Api, Board, Databases
from tests.queue_server.test_cluster import BoardListener
from tests.support.clock import FakeClock
from tests.support.server import RunningServer, start_server

LOOK_S = 0.5  # services/auto_no_show.py WATCH_EVERY_S


def _no_shows(api: Api) -> list[dict[str, Any]]:
    return [e for e in api.events() if e["type"] == "ticket.no_show"]


def _desk(api: Api, token: str) -> Any:
    answer = api.http.get("/console/desk", headers=api.bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _state(api: Api, track_token: str) -> str:
    return str(api.status(track_token).json()["state"])


def _wait_state(api: Api, track_token: str, wanted: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while (state := _state(api, track_token)) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return state


def _called_and_recalled(api: Api, clerk: str, window: int, category: str) -> dict[str, Any]:
    ticket = api.issue(category)
    api.ok(clerk, window, "call-next")
    for _ in range(3):  # the demo hall's recall_limit
        api.ok(clerk, window, "recall")
    return dict(ticket)


def test_after_the_last_recall_an_absent_citizen_becomes_a_no_show_by_itself(
    api: Api, clock: FakeClock, board: Callable[..., Board]
) -> None:
    clerk = api.open("liuxia", 1)
    ticket = _called_and_recalled(api, clerk, 1, "jisheng")
    recalled_at = clock()
    current = _desk(api, clerk)["current"]
    assert dt.datetime.fromisoformat(current["no_show_at"]) == recalled_at + dt.timedelta(seconds=120)
    screen = board(since=api.seq())

    clock.advance(seconds=119)
    time.sleep(3 * LOOK_S)
    assert _state(api, ticket["track_token"]) == "called"  # not before its time
    clock.advance(seconds=2)
    assert _wait_state(api, ticket["track_token"], "no_show") == "no_show"

    message = screen.recv()
    assert isinstance(message, TicketMessage)
    assert (message.event, message.ticket.number, message.window) == ("no_show", "A001", 1)
    [event] = _no_shows(api)
    assert (event["actor"], event["window"], event["payload"]) == (
        "system", 1, {"number": "A001", "recalls": 3, "automatic": True, "after_s": 120},
    )  # fmt: skip
    assert _desk(api, clerk)["current"] is None  # the window is free: the clerk calls the next citizen
    api.issue("jisheng")
    assert api.ok(clerk, 1, "call-next")["ticket"]["number"] == "A002"
    assert _desk(api, clerk)["current"]["no_show_at"] is None  # not recalled yet


def test_a_citizen_who_came_in_time_is_served(api: Api, clock: FakeClock) -> None:
    clerk = api.open("liuxia", 1)
    ticket = _called_and_recalled(api, clerk, 1, "jisheng")
    clock.advance(seconds=100)
    api.ok(clerk, 1, "start")
    assert _desk(api, clerk)["current"]["no_show_at"] is None
    clock.advance(seconds=600)
    time.sleep(3 * LOOK_S)
    assert _state(api, ticket["track_token"]) == "serving"
    assert _no_shows(api) == []


def test_before_the_last_recall_nothing_happens_and_zero_turns_it_off(
    start_hall: Callable[..., RunningServer],
    make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
    clock: FakeClock,
) -> None:
    hall = hall_config.halls[0]
    off = hall.model_copy(update={"queue": hall.queue.model_copy(update={"no_show_after_s": 0})})
    api = make_api(start_hall(hall_config.model_copy(update={"halls": [off]})))
    clerk = api.open("liuxia", 1)
    recalled = _called_and_recalled(api, clerk, 1, "jisheng")
    assert _desk(api, clerk)["current"]["no_show_at"] is None
    other = api.open("wangfang", 3)
    waiting = api.issue("minzheng")
    api.ok(other, 3, "call-next")
    api.ok(other, 3, "recall")  # one recall of three
    clock.advance(seconds=3600)
    time.sleep(3 * LOOK_S)
    assert [_state(api, t["track_token"]) for t in (recalled, waiting)] == ["called", "called"]
    assert _no_shows(api) == []
    setup = api.http.get("/console/setup", headers=api.bearer(clerk)).json()
    assert setup["no_show_after_s"] == 0


def test_two_servers_on_one_database_mark_each_absent_citizen_once(
    databases: Databases,
    clock: FakeClock,
    cheap_password_hashing: None,
    stop_later: Callable[[RunningServer], threading.Thread],
    make_api: Callable[[RunningServer], Api],
) -> None:
    db = databases.new()
    first, second = start_server(db, clock), start_server(db, clock)
    try:
        here, there = make_api(first), make_api(second)
        there._kiosk = here.kiosk
        boards = [BoardListener(first.ws_url), BoardListener(second.ws_url)]
        tickets = []
        for username, window, category in (("liuxia", 1, "jisheng"), ("wangfang", 3, "minzheng"),
                                           ("hujun", 5, "laobao"), ("xiaoming", 9, "huji")):  # fmt: skip
            tickets.append(_called_and_recalled(here, here.open(username, window), window, category))
        # The other server caught up with the recalls (from the log): it knows the deadline too.
        assert _desk(there, second.login("liuxia"))["current"]["no_show_at"] is not None
        seq = here.seq()
        clock.advance(seconds=121)
        for ticket in tickets:
            assert _wait_state(there, ticket["track_token"], "no_show") == "no_show"
        time.sleep(4 * LOOK_S)  # both servers have looked again since
        events = _no_shows(here)
        assert sorted(e["payload"]["number"] for e in events) == ["A001", "C001", "E001", "H001"]
        assert {e["actor"] for e in events} == {"system"}
        last = here.seq()
        assert last == seq + 4  # nothing else was written
        for listener in boards:
            listener.wait_for(last)
            assert listener.seqs[-4:] == list(range(seq + 1, last + 1))  # each event once, in order
            listener.close()
    finally:
        databases.drop(db, after=[stop_later(first), stop_later(second)])
