"""办事预约 against a real server: slots on working days, capacity, days ahead, cancel, kiosk check-in, missed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pydantic import ValidationError

from config.schema import HallConfig
from queue_server.api import ratelimit
from queue_server.protocol import AppointmentMessage, TicketMessage
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api, Board

MONDAY = "2026-03-16"  # the FakeClock's first day (09:00 Shanghai)
CODE = re.compile(r"^[2-9A-HJ-NP-Z]{8}$")


def with_appointments(config: HallConfig, **rules: Any) -> HallConfig:
    """The demo hall with other appointment rules."""
    hall = config.hall("qingshan")
    appointments = hall.appointments.model_copy(update=rules)
    return config.model_copy(update={"halls": [hall.model_copy(update={"appointments": appointments})]})


def book_raw(api: Api, body: Any) -> httpx.Response:
    return api.http.post("/appointments", json=body)


def book(api: Api, start: str, day: str = MONDAY, **what: str) -> dict[str, Any]:
    response = book_raw(api, {**(what or {"category": "jisheng"}), "day": day, "start": start})
    assert response.status_code == 201, response.text
    return dict(response.json())


def check_in(api: Api, code: str, token: str | None = "kiosk") -> httpx.Response:
    return api.http.post(f"/appointments/{code}/check-in", headers=api.bearer(api.kiosk if token == "kiosk" else token))


def slots(api: Api, **query: str) -> dict[str, Any]:
    response = api.http.get("/appointments/slots", params=query or {"category": "jisheng"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def at(clock: FakeClock, day: str, hhmm: str) -> None:
    clock.set(dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=SHANGHAI))


# --- slots and booking ------------------------------------------------------------------------------


def test_booking_answers_a_code_the_slot_and_when_to_check_in(api: Api) -> None:
    item = api.server.config.hall("qingshan").item("jisheng-childcare-subsidy")
    made = book(api, "10:00", item_id=item.id)
    assert CODE.match(made["code"]), made["code"]
    assert (made["day"], made["start"], made["end"], made["state"]) == (MONDAY, "10:00", "10:30", "booked")
    assert (made["category"], made["item_id"], made["item_name_zh"]) == ("jisheng", item.id, item.name_zh)
    assert made["check_in_from"] == "2026-03-16T09:30:00+08:00"  # 30 minutes before
    assert made["check_in_until"] == "2026-03-16T10:15:00+08:00"  # 15 minutes after the start
    assert made["qr_path"] == f"/api/v1/halls/qingshan/appointments/{made['code']}/qr.svg"

    looked_up = api.http.get(f"/appointments/{made['code'].lower()}")  # codes are read in either case
    assert looked_up.status_code == 200 and looked_up.json() == made
    qr = api.http.get(made["qr_path"].removeprefix("/api/v1/halls/qingshan"))
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.lstrip().startswith("<?xml") and "<svg" in qr.text


def test_slots_start_at_each_session_and_say_what_is_left(api: Api) -> None:
    book(api, "10:00")
    answer = slots(api)
    assert (answer["slot_minutes"], answer["days_ahead"], answer["today"]) == (30, 7, MONDAY)
    monday = answer["days"][0]
    assert monday["day"] == MONDAY and monday["weekday_zh"] == "周一"
    starts = [s["start"] for s in monday["slots"]]
    # 08:30–12:00 and 14:30–17:30 in slots of 30 minutes
    assert starts == ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "14:30", "15:00", "15:30",
                      "16:00", "16:30", "17:00"]  # fmt: skip
    by_start = {s["start"]: s for s in monday["slots"]}
    assert by_start["08:30"]["open"] is False and by_start["09:00"]["open"] is False  # it is 09:00: both have begun
    assert by_start["09:30"] == {"start": "09:30", "end": "10:00", "capacity": 4, "booked": 0, "left": 4, "open": True}
    assert (by_start["10:00"]["booked"], by_start["10:00"]["left"]) == (1, 3)
    # Monday 16th to Monday 23rd: the weekend of 21st/22nd has no slots.
    assert [d["day"] for d in answer["days"]] == [
        "2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-20", "2026-03-23",
    ]  # fmt: skip


def test_holidays_have_no_slots_and_a_makeup_saturday_has(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig,
    clock: FakeClock,
) -> None:  # fmt: skip
    api = make_api(start_hall(with_appointments(hall_config, days_ahead=10)))
    at(clock, "2026-04-30", "08:00")
    days = [d["day"] for d in slots(api)["days"]]
    # 劳动节 2026-05-01..05 is off; Saturday 05-09 is a make-up working day (调休), Sunday 05-10 is not.
    assert days == ["2026-04-30", "2026-05-06", "2026-05-07", "2026-05-08", "2026-05-09"]
    for holiday in ("2026-05-01", "2026-05-04", "2026-05-05", "2026-05-10"):
        message = api.error(
            book_raw(api, {"category": "jisheng", "day": holiday, "start": "09:00"}), 409, "not_bookable"
        )
        assert "节假日" in message and holiday in message
    assert book(api, "09:00", "2026-05-09")["day"] == "2026-05-09"


def test_days_ahead_and_the_past_are_refused(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_appointments(hall_config, days_ahead=3)))
    assert [d["day"] for d in slots(api)["days"]] == ["2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19"]
    assert book(api, "09:00", "2026-03-19")["day"] == "2026-03-19"  # today + 3
    message = api.error(book_raw(api, {"category": "jisheng", "day": "2026-03-20", "start": "09:00"}), 409)
    assert "最多预约3天内" in message and "2026-03-19" in message
    message = api.error(book_raw(api, {"category": "jisheng", "day": "2026-03-13", "start": "09:00"}), 409)
    assert "已过" in message
    # Today: a slot that has begun cannot be booked (it is 09:00), the next one can.
    message = api.error(book_raw(api, {"category": "jisheng", "day": MONDAY, "start": "09:00"}), 409, "not_bookable")
    assert "已开始" in message
    assert book(api, "09:30")["start"] == "09:30"


@pytest.mark.parametrize("start", ["09:10", "12:00", "13:00", "17:30", "08:00"])
def test_a_start_that_is_no_slot_is_refused_with_the_slots(api: Api, start: str) -> None:
    message = api.error(
        book_raw(api, {"category": "jisheng", "day": "2026-03-17", "start": start}), 409, "not_bookable"
    )
    assert f"no slot starts at {start}" in message and "08:30, 09:00" in message and "没有该时段" in message


def test_capacity_per_slot_and_category(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    config = with_appointments(hall_config, capacity=2, category_capacity={"guotu": 1})
    api = make_api(start_hall(config))
    first, _second = book(api, "10:00", "2026-03-17"), book(api, "10:00", "2026-03-17")
    message = api.error(book_raw(api, {"category": "jisheng", "day": "2026-03-17", "start": "10:00"}), 409, "slot_full")
    assert "约满" in message
    # Another slot, another category: their own capacity.
    book(api, "10:30", "2026-03-17")
    book(api, "10:00", "2026-03-17", category="guotu")
    api.error(book_raw(api, {"category": "guotu", "day": "2026-03-17", "start": "10:00"}), 409, "slot_full")
    tuesday = slots(api, category="jisheng")["days"][1]
    by_start = {s["start"]: s for s in tuesday["slots"]}
    assert (by_start["10:00"]["left"], by_start["10:30"]["left"], by_start["11:00"]["left"]) == (0, 1, 2)
    assert {s["capacity"] for s in slots(api, category="guotu")["days"][1]["slots"]} == {1}
    # A cancelled appointment frees its place.
    assert api.http.post(f"/appointments/{first['code']}/cancel").json()["state"] == "cancelled"
    assert book(api, "10:00", "2026-03-17")["state"] == "booked"
    api.error(book_raw(api, {"category": "jisheng", "day": "2026-03-17", "start": "10:00"}), 409, "slot_full")


def test_a_capacity_for_an_unknown_category_is_a_config_error(hall_config: HallConfig) -> None:
    data = hall_config.model_dump(mode="json")
    data["halls"][0]["appointments"] = {"category_capacity": {"nosuch": 2}}
    with pytest.raises(ValidationError, match="category_capacity names unknown categories: nosuch"):
        HallConfig.model_validate(data)
    data["halls"][0]["appointments"] = {"capacity": -1, "slot_minutes": 2, "surprise": True}
    with pytest.raises(ValidationError) as raised:
        HallConfig.model_validate(data)
    assert {e["loc"][-1] for e in raised.value.errors()} == {"capacity", "slot_minutes", "surprise"}


def test_items_that_take_no_appointment_and_unknown_ones(api: Api) -> None:
    message = api.error(
        book_raw(api, {"item_id": "zonghe-policy-consultation", "day": "2026-03-17", "start": "09:00"}),
        409,
        "not_bookable",
    )
    assert "不接受预约" in message
    api.error(book_raw(api, {"item_id": "no-such-item", "day": "2026-03-17", "start": "09:00"}), 404, "not_found")
    api.error(book_raw(api, {"category": "nosuch", "day": "2026-03-17", "start": "09:00"}), 404, "not_found")
    api.error(book_raw(api, {"day": "2026-03-17", "start": "09:00"}), 409, "not_bookable")
    api.error(api.http.get("/appointments/slots", params={"item_id": "zonghe-policy-consultation"}), 409)


def test_a_hall_without_appointments_says_so(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_appointments(hall_config, enabled=False)))
    assert "未开通办事预约" in api.error(api.http.get("/appointments/slots", params={"category": "jisheng"}), 404)
    api.error(book_raw(api, {"category": "jisheng", "day": "2026-03-17", "start": "09:00"}), 404, "not_found")


# --- cancel ---------------------------------------------------------------------------------------------


def test_cancel_once_before_the_slot_begins(api: Api, clock: FakeClock) -> None:
    made = book(api, "10:00")
    cancelled = api.http.post(f"/appointments/{made['code']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["state_label_zh"] == "已取消"
    assert "已取消" in api.error(api.http.post(f"/appointments/{made['code']}/cancel"), 409, "conflict")
    clock.advance(minutes=45)  # 09:45: in the check-in time of 10:00
    assert "请取普通号" in api.error(check_in(api, made["code"]), 409, "appointment_cancelled")

    later = book(api, "10:30")
    clock.advance(minutes=50)  # 10:35
    assert "不能取消" in api.error(api.http.post(f"/appointments/{later['code']}/cancel"), 409, "conflict")
    api.error(api.http.post("/appointments/ZZZZZZZZ/cancel"), 404, "not_found")


# --- check-in at the kiosk ------------------------------------------------------------------------------


def test_check_in_gives_an_appointment_ticket_served_before_the_queue(api: Api, clock: FakeClock) -> None:
    made = book(api, "10:00")
    clerk = api.open("liuxia", 1)
    ordinary = [api.issue("jisheng")["number"] for _ in range(3)]
    assert ordinary == ["A001", "A002", "A003"]

    assert "请于09:30后签到" in api.error(check_in(api, made["code"]), 409, "too_early")
    clock.advance(minutes=31)  # 09:31
    answer = check_in(api, made["code"])
    assert answer.status_code == 201, answer.text
    ticket = answer.json()
    assert (ticket["number"], ticket["priority"], ticket["category"], ticket["state"]) == (
        "A004", "appointment", "jisheng", "waiting",
    )  # fmt: skip
    assert ticket["ahead"] == 0  # first in line, though three ordinary tickets were there before it
    again = check_in(api, made["code"].lower())  # a kiosk that retries, or the citizen scanning twice
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == "A004" and again.json()["track_token"] == ticket["track_token"]
    assert api.http.get(f"/appointments/{made['code']}").json()["ticket_number"] == "A004"
    assert api.http.get(f"/appointments/{made['code']}").json()["state"] == "checked_in"

    called = [api.ok(clerk, 1, "call-next")["ticket"]["number"]]
    for _ in range(3):
        api.serve(clerk, 1)
        called.append(api.ok(clerk, 1, "call-next")["ticket"]["number"])
    assert called == ["A004", "A001", "A002", "A003"]
    issued = [e for e in api.events() if e["type"] == "ticket.issued" and e["payload"]["number"] == "A004"]
    assert issued[0]["payload"]["priority"] == "appointment"


def test_check_in_on_another_day_late_or_without_a_kiosk_token(api: Api, clock: FakeClock) -> None:
    tomorrow = book(api, "10:00", "2026-03-17")
    message = api.error(check_in(api, tomorrow["code"]), 409, "appointment_not_today")
    assert "3月17日 10:00" in message
    today = book(api, "09:30")
    api.error(check_in(api, today["code"], token=None), 401, "unauthorized")
    api.error(check_in(api, today["code"], token=api.staff("liuxia")), 403, "forbidden")
    api.error(check_in(api, "ZZZZZZZZ"), 404, "not_found")
    clock.advance(minutes=46)  # 09:46: more than 15 minutes after 09:30
    assert "已失约" in api.error(check_in(api, today["code"]), 409, "appointment_missed")
    assert api.http.get(f"/appointments/{today['code']}").json()["state"] == "missed"


def test_a_missed_appointment_is_recorded_for_the_managers(
    api: Api, clock: FakeClock, board: Callable[..., Board]
) -> None:
    kept, missed = book(api, "09:30"), book(api, "10:00")
    clock.advance(minutes=35)  # 09:35
    assert check_in(api, kept["code"]).status_code == 201
    seq = api.seq()
    watcher = board(since=seq)
    clock.advance(minutes=45)  # 10:20: the 10:00 appointment's check-in time is over
    listed = api.http.get("/appointments", params={"day": MONDAY}, headers=api.bearer(api.manager))
    assert listed.status_code == 200, listed.text
    day = listed.json()
    assert day["counts"] == {"booked": 0, "cancelled": 0, "checked_in": 1, "missed": 1}
    assert [(a["start"], a["state"], a["ticket_number"]) for a in day["appointments"]] == [
        ("09:30", "checked_in", "A001"), ("10:00", "missed", None),
    ]  # fmt: skip
    assert all("code" not in a for a in day["appointments"])  # the code is the holder's key, not the office's
    message = watcher.recv()
    assert isinstance(message, AppointmentMessage)
    assert (message.event, message.slot_start, message.category) == ("missed", "10:00", "jisheng")
    assert missed["code"] not in message.model_dump_json()
    missed_events = [e for e in api.events() if e["type"] == "appointment.missed"]
    assert len(missed_events) == 1 and missed["code"] not in str(missed_events[0])
    # Once recorded, it stays recorded: a second list does not log it again.
    api.http.get("/appointments", params={"day": MONDAY}, headers=api.bearer(api.manager))
    assert len([e for e in api.events() if e["type"] == "appointment.missed"]) == 1
    api.error(api.http.get("/appointments", params={"day": MONDAY}, headers=api.bearer(api.staff("liuxia"))), 403)
    api.error(api.http.get("/appointments", params={"day": MONDAY}), 401)


def test_public_messages_carry_the_slot_not_the_code(api: Api, board: Callable[..., Board], clock: FakeClock) -> None:
    watcher = board(since=api.seq())
    made = book(api, "10:00")
    booked = watcher.recv()
    assert isinstance(booked, AppointmentMessage) and booked.event == "booked"
    assert (booked.day, booked.slot_start, booked.category) == (dt.date(2026, 3, 16), "10:00", "jisheng")
    clock.advance(minutes=45)
    check_in(api, made["code"])
    issued, checked = watcher.recv(), watcher.recv()
    assert isinstance(issued, TicketMessage) and issued.ticket.priority == "appointment"
    assert isinstance(checked, AppointmentMessage) and checked.event == "checked_in"
    for message in (booked, issued, checked):
        assert made["code"] not in message.model_dump_json()
    assert all(made["code"] not in str(e["payload"]) for e in api.events())


# --- hostile input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"category": "jisheng", "day": "2026-03-17", "start": "09:00", "name": "张三"},  # unknown field
        {"category": "jisheng", "day": 20260317, "start": "09:00"},
        {"category": "jisheng", "day": "2026-03-17", "start": 900},
        {"category": ["jisheng"], "day": "2026-03-17", "start": "09:00"},
        {"category": "jisheng", "day": "2026-02-30", "start": "09:00"},
        {"category": "jisheng", "day": "tomorrow", "start": "09:00"},
        {"category": "jisheng", "day": "2026-03-17", "start": "9:00"},
        {"category": "jisheng", "day": "2026-03-17", "start": "25:00"},
        {"category": "<script>alert(1)</script>", "day": "2026-03-17", "start": "09:00"},
        {"category": "j" * 5000, "day": "2026-03-17", "start": "09:00"},
        {"item_id": "x" * 100_000, "day": "2026-03-17", "start": "09:00"},
        {"category": "jisheng", "day": "2026-03-17", "start": "09:00\n"},
        {"category": None, "item_id": None, "day": None, "start": None},
        [],
        "book me",
    ],
    ids=[
        "unknown-field", "day-int", "start-int", "category-list", "day-impossible", "day-word", "start-short",
        "start-25h", "script", "long-category", "huge-item", "start-newline", "nulls", "list", "string",
    ],
)  # fmt: skip
def test_hostile_booking_input_is_422_and_changes_nothing(api: Api, body: Any) -> None:
    seq = api.seq()
    response = book_raw(api, body)
    api.error(response, 422, "invalid_request")
    assert "<script>" not in response.text  # the answer names the field and the problem, never echoes the input
    assert api.seq() == seq


@pytest.mark.parametrize(
    "code", ["<script>", "AAAA", "A" * 9, "OOOOOOOO", "11111111", "ab%20cdefg", "A" * 500], ids=str
)
def test_malformed_codes_are_refused_before_any_lookup(api: Api, code: str) -> None:
    for response in (
        api.http.get(f"/appointments/{code}"),
        api.http.post(f"/appointments/{code}/cancel"),
        check_in(api, code),
    ):
        assert response.status_code in (404, 422), response.text


def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    json_type = {"Content-Type": "application/json"}
    api.error(api.http.post("/appointments", content=b'{"category": "jisheng",', headers=json_type), 422)
    # Not even UTF-8: FastAPI refuses to parse it (400), in the same error shape.
    api.error(api.http.post("/appointments", content=b"\xff\xfe not json", headers=json_type), 400)


# --- rate limits -----------------------------------------------------------------------------------------


def test_booking_is_rate_limited_per_client(
    monkeypatch: pytest.MonkeyPatch, start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:  # fmt: skip
    monkeypatch.setitem(ratelimit.RULES, "book", ratelimit.Rule(per_ip=ratelimit.Rate(3, 1 / 60)))
    api = make_api(start_hall(hall_config))
    for start in ("10:00", "10:30", "11:00"):
        book(api, start, "2026-03-17")
    refused = book_raw(api, {"category": "jisheng", "day": "2026-03-17", "start": "11:30"})
    message = api.error(refused, 429, "too_many_requests")
    assert "请求过于频繁" in message
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert slots(api)["days"][1]["slots"][6]["booked"] == 0  # 11:30 was not booked


def test_guessing_codes_is_rate_limited(
    monkeypatch: pytest.MonkeyPatch, start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:  # fmt: skip
    monkeypatch.setitem(
        ratelimit.RULES, "appointment", ratelimit.Rule(per_ip=ratelimit.Rate(5, 0.01), per_key=ratelimit.Rate(2, 0.01))
    )
    api = make_api(start_hall(hall_config))
    made = book(api, "10:00", "2026-03-17")
    assert api.http.get(f"/appointments/{made['code']}").status_code == 200
    assert api.http.get(f"/appointments/{made['code'].lower()}").status_code == 200
    api.error(api.http.get(f"/appointments/{made['code']}"), 429)  # per code, in either case
    statuses = [api.http.get(f"/appointments/{guess}").status_code for guess in ("ZZZZZZZ2", "ZZZZZZZ3", "ZZZZZZZ4")]
    assert statuses == [404, 404, 429]  # per client
