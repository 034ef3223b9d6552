"""远程取号 against a real server: a place taken from the phone, kept until check-in at the kiosk; the hours, the
daily quota, one per phone, the no-show limit, bad input and the rate limit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from config.schema import HallConfig
from queue_server.api import ratelimit
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{8}$")
PHONE = "phone-0123456789abcdef"  # the page's random device id


def with_remote(config: HallConfig, **rules: Any) -> HallConfig:
    hall = config.hall("qingshan")
    remote = hall.remote.model_copy(update=rules)
    return config.model_copy(update={"halls": [hall.model_copy(update={"remote": remote})]})


def take_raw(api: Api, body: Any) -> httpx.Response:
    return api.http.post("/remote-tickets", json=body)


def take(api: Api, category: str = "jisheng", device: str = PHONE) -> dict[str, Any]:
    answer = take_raw(api, {"category": category, "device_id": device})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def check_in(api: Api, code: str) -> httpx.Response:
    return api.http.post(f"/appointments/{code}/check-in", headers=api.bearer(api.kiosk))


def at(clock: FakeClock, day: str, hhmm: str) -> None:
    clock.set(dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=SHANGHAI))


def test_a_remote_ticket_keeps_its_place_until_checked_in_at_the_kiosk(api: Api, clock: FakeClock) -> None:
    clerk = api.open("liuxia", 1)
    before = api.issue("jisheng")["number"]  # A001, taken at the hall before the remote one
    clock.advance(seconds=1)
    made = take(api)  # 09:00
    assert CODE.match(made["code"]) and made["kind"] == "remote" and made["state"] == "booked"
    assert made["state_label_zh"] == "已取号，待到厅签到"
    assert (made["start"], made["end"]) == ("09:00", "10:00")  # 60 minutes to arrive
    assert made["check_in_until"] == "2026-03-16T10:10:00+08:00"  # 10:00 and 10 minutes of grace
    assert made["ahead"] == 1 and made["expected_at"] is not None
    clock.advance(seconds=1)
    later = [api.issue("jisheng")["number"] for _ in range(2)]  # A002, A003 at the hall while it is on the way
    assert api.http.get(f"/appointments/{made['code']}").json()["ahead"] == 1  # they are behind its place

    clock.advance(minutes=40)  # 09:40: in the hall
    answer = check_in(api, made["code"])
    assert answer.status_code == 201, answer.text
    ticket = answer.json()
    assert (ticket["number"], ticket["priority"], ticket["ahead"]) == ("A004", "ordinary", 1)
    view = api.http.get(f"/appointments/{made['code']}").json()
    assert view["state"] == "checked_in" and view["ticket_number"] == "A004"
    assert view["track_path"] == f"/t/{ticket['track_token']}"
    assert check_in(api, made["code"]).json()["number"] == "A004"  # the kiosk retrying: the same ticket

    called = [api.ok(clerk, 1, "call-next")["ticket"]["number"]]
    for _ in range(3):
        api.serve(clerk, 1)
        called.append(api.ok(clerk, 1, "call-next")["ticket"]["number"])
    assert called == [before, "A004", *later]


def test_outside_the_hours_on_a_holiday_and_in_a_sessions_last_half_hour_is_refused_with_the_hours(
    api: Api, clock: FakeClock
) -> None:
    at(clock, "2026-03-16", "08:00")
    message = api.error(take_raw(api, {"category": "jisheng", "device_id": PHONE}), 409, "outside_hours")
    assert "现在不在远程取号时间内（08:30–11:30、14:30–17:00）" in message
    assert message.startswith("remote tickets are taken 08:30–11:30, 14:30–17:00 only")
    status = api.http.get("/remote-tickets").json()
    assert status["open"] is False and status["sessions"] == ["08:30–11:30", "14:30–17:00"]
    assert status["reason_zh"].startswith("现在不在远程取号时间内")
    at(clock, "2026-03-16", "11:45")  # the morning's last half hour
    api.error(take_raw(api, {"category": "jisheng", "device_id": PHONE}), 409, "outside_hours")
    at(clock, "2026-03-21", "09:00")  # a Saturday
    assert "今天不是工作日" in api.error(take_raw(api, {"category": "jisheng", "device_id": PHONE}), 409)
    at(clock, "2026-03-16", "14:40")
    assert take(api)["end"] == "15:40"
    at(clock, "2026-03-16", "11:20")  # (the clock only for this check) a place taken late ends with the session
    assert take(api, "guotu")["end"] == "12:00"


def test_the_daily_quota_of_a_category_and_one_place_per_phone(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_remote(hall_config, quota=5, category_quota={"jisheng": 2})))
    first = take(api, device="phone-aaaaaaaaaaaaaaaa")
    again = take_raw(api, {"category": "jisheng", "device_id": "phone-aaaaaaaaaaaaaaaa"})
    message = api.error(again, 409, "remote_held")
    assert "您已有该类业务的远程取号" in message
    take(api, device="phone-bbbbbbbbbbbbbbbb")
    message = api.error(take_raw(api, {"category": "jisheng", "device_id": "phone-cccccccccccccccc"}), 409)
    assert "今日该类业务2个远程取号名额已满" in message
    status = {c["code"]: c for c in api.http.get("/remote-tickets").json()["categories"]}
    assert (status["jisheng"]["quota"], status["jisheng"]["left"]) == (2, 0)
    assert (status["guotu"]["quota"], status["guotu"]["left"]) == (5, 5)
    assert api.http.post(f"/appointments/{first['code']}/cancel").json()["state"] == "cancelled"
    take(api, device="phone-cccccccccccccccc")  # a cancelled place is free again


def test_no_shows_void_the_place_and_too_many_refuse_the_phone_until_a_date(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig,
    clock: FakeClock,
) -> None:  # fmt: skip
    api = make_api(start_hall(with_remote(hall_config, no_show_limit=2, no_show_days=30, ban_days=7)))
    for day in ("2026-03-16", "2026-03-17"):
        at(clock, day, "09:00")
        made = take(api)
        at(clock, day, "10:11")  # past 10:00 and the 10 minutes' grace
        assert "未按时签到" in api.error(check_in(api, made["code"]), 409, "appointment_missed")
        view = api.http.get(f"/appointments/{made['code']}").json()
        assert (view["state"], view["state_label_zh"]) == ("missed", "未按时签到，已作废")
    at(clock, "2026-03-18", "09:00")
    message = api.error(take_raw(api, {"category": "guotu", "device_id": PHONE}), 409, "remote_banned")
    assert "近30天内已有2次远程取号未按时签到，3月24日前不能远程取号" in message
    take(api, device="phone-another-one-000")  # another phone is not refused
    at(clock, "2026-03-24", "09:00")
    take(api, "guotu")  # the refusal is over


def test_a_hall_that_takes_no_remote_tickets_says_so(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_remote(hall_config, enabled=False)))
    assert "本中心未开通远程取号" in api.error(api.http.get("/remote-tickets"), 404, "not_found")
    api.error(take_raw(api, {"category": "jisheng", "device_id": PHONE}), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"category": "jisheng"},  # no device id
        {"category": "jisheng", "device_id": "short"},
        {"category": "jisheng", "device_id": "x" * 65},
        {"category": "jisheng", "device_id": "phone<script>0000000"},
        {"category": "JISHENG!", "device_id": PHONE},
        {"category": "jisheng", "device_id": PHONE, "phone": "13800138000"},  # nothing personal is taken
        ["jisheng"],
    ],
)
def test_hostile_input_is_422_and_takes_nothing(api: Api, body: Any) -> None:
    api.error(take_raw(api, body), 422)
    assert [e for e in api.events() if e["type"] == "appointment.booked"] == []


def test_unknown_categories_and_items_are_404(api: Api) -> None:
    api.error(take_raw(api, {"category": "nothing", "device_id": PHONE}), 404)
    api.error(take_raw(api, {"item_id": "nothing", "device_id": PHONE}), 404)


def test_taking_is_rate_limited_per_client(
    monkeypatch: pytest.MonkeyPatch, start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:  # fmt: skip
    monkeypatch.setitem(ratelimit.RULES, "remote", ratelimit.Rule(per_ip=ratelimit.Rate(2, 1 / 60)))
    api = make_api(start_hall(hall_config))
    take(api, "jisheng")
    take(api, "guotu")
    refused = take_raw(api, {"category": "minzheng", "device_id": PHONE})
    assert "请求过于频繁" in api.error(refused, 429, "too_many_requests")
    status = {c["code"]: c["left"] for c in api.http.get("/remote-tickets").json()["categories"]}
    assert status["minzheng"] == 20


def test_the_event_log_and_board_messages_hold_no_device_id(api: Api) -> None:
    made = take(api)
    events = api.events()
    assert PHONE not in str(events) and made["code"] not in str(events)
    booked = [e for e in events if e["type"] == "appointment.booked"]
    assert booked[0]["payload"]["kind"] == "remote"
