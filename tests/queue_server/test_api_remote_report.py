"""远程取号 in the day's report (by channel), on SQLite and PostgreSQL: places taken, checked in, missed, cancelled."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from tests.queue_server.test_api_remote_tickets import check_in, take
from tests.support.clock import SHANGHAI, FakeClock

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api


def report(api: Api, day: str | None = None) -> dict[str, object]:
    params = {"period": "day", **({"date": day} if day else {})}
    answer = api.http.get("/reports", params=params, headers=api.bearer(api.manager))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_day_report_counts_remote_places_by_their_outcome(api: Api, clock: FakeClock) -> None:
    assert report(api)["remote"] is None  # none taken: no line
    api.http.post("/appointments", json={"category": "jisheng", "day": "2026-03-17", "start": "10:00"})  # a booking
    checked = take(api, device="phone-report-0000000001")
    take(api, "guotu", device="phone-report-0000000002")  # will be missed
    cancelled = take(api, "minzheng", device="phone-report-0000000003")
    assert check_in(api, checked["code"]).status_code == 201
    assert api.http.post(f"/appointments/{cancelled['code']}/cancel").status_code == 200
    clock.set(dt.datetime(2026, 3, 16, 17, 0, tzinfo=SHANGHAI))  # past every time to arrive and its grace
    api.http.get(f"/appointments/{checked['code']}")  # the missed sweep runs before a look-up
    figures = report(api)["remote"]
    assert figures == {"taken": 3, "checked_in": 1, "missed": 1, "cancelled": 1}
    assert report(api, "2026-03-17")["remote"] is None  # the next day: nothing
