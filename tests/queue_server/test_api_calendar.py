"""Near and past the end of the working-day calendar: the wall warns, dates counted past it are provisional."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.queue_server.conftest import Api
from tests.queue_server.test_api_ratings import BAD, follow, rate, ratings, served
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.server import RunningServer

# The bundled calendar holds 2026 only (its last day: Thursday 31 December 2026).


def _hall_on(
    day: dt.date, clock: FakeClock, start_hall: Callable[..., RunningServer], make_api: Callable[..., Api]
) -> Api:
    clock.set(dt.datetime.combine(day, dt.time(9, 0), tzinfo=SHANGHAI))
    return make_api(start_hall())


def _alerts(api: Api) -> list[dict[str, Any]]:
    wall = api.http.get("/wall", headers=api.bearer(api.manager))
    assert wall.status_code == 200, wall.text
    return [alert for alert in wall.json()["alerts"] if alert["kind"] == "calendar"]


def test_the_wall_warns_from_sixty_days_before_the_calendar_runs_out(
    clock: FakeClock, start_hall: Callable[..., RunningServer], make_api: Callable[..., Api]
) -> None:
    api = _hall_on(dt.date(2026, 10, 30), clock, start_hall, make_api)  # Friday, 62 days left
    assert _alerts(api) == []
    clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))  # Monday, 59 days left
    api.server.login("director")  # the session of Friday has expired
    (alert,) = _alerts(api)
    assert alert["days_left"] == 59 and alert["minutes"] is None
    assert "2026-12-31" in alert["message_zh"] and "2027" in alert["message_zh"]
    assert "bianmin calendar add" in alert["message_en"]


def test_dates_past_the_calendar_are_provisional(
    clock: FakeClock, start_hall: Callable[..., RunningServer], make_api: Callable[..., Api]
) -> None:
    api = _hall_on(dt.date(2026, 12, 21), clock, start_hall, make_api)  # Monday
    clerk = api.staff("liuxia")
    near = api.http.get("/console/due-date", params={"days": 3}, headers=api.bearer(clerk)).json()
    assert near == {"days": 3, "from_day": "2026-12-21", "due_date": "2026-12-24", "provisional": False}
    far = api.http.get("/console/due-date", params={"days": 10}, headers=api.bearer(clerk)).json()
    assert far["due_date"] == "2027-01-04" and far["provisional"] is True  # 2027's 元旦 is not known yet

    # The desk and the finish of a promised case (20 working days) say so too.
    token = api.open("liuxia", 1)
    api.issue("jisheng", item_id="jisheng-childcare-subsidy")
    api.ok(token, 1, "call-next")
    desk = api.http.get("/console/desk", headers=api.bearer(token)).json()
    assert desk["current"]["due_date"] == "2027-01-18" and desk["current"]["due_provisional"] is True
    api.ok(token, 1, "start")
    finished = api.ok(token, 1, "finish", {"case_class": "promised"})
    assert finished["due_date"] == "2027-01-18" and finished["due_provisional"] is True
    quick = served(api)  # an immediate case: no due date, nothing provisional
    assert rate(api, quick, BAD).status_code == 201
    (record,) = ratings(api)["ratings"]
    assert record["due_on"].startswith("2027-01") and record["due_provisional"] is True  # 15 working days
    moved = follow(api, record["id"], "contacted")
    assert moved.status_code == 200 and moved.json()["due_provisional"] is True

    # Appointment days in 2027 may become holidays.
    clock.set(dt.datetime(2026, 12, 28, 8, 0, tzinfo=SHANGHAI))
    days = api.http.get("/appointments/slots", params={"category": "jisheng"}).json()["days"]
    marks = {d["day"]: d["provisional"] for d in days}
    assert marks["2026-12-28"] is False and marks["2027-01-01"] is True  # a Friday: offered, weekends only


def test_dates_inside_the_calendar_are_not_provisional(api: Api) -> None:
    clerk = api.staff("liuxia")
    answer = api.http.get("/console/due-date", params={"days": 20}, headers=api.bearer(clerk)).json()
    assert answer["due_date"] == "2026-04-14" and answer["provisional"] is False
    days = api.http.get("/appointments/slots", params={"category": "jisheng"}).json()["days"]
    assert days and all(not day["provisional"] for day in days)
    assert _alerts(api) == []  # March 2026: far from the end
