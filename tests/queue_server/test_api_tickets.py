"""Issuing tickets at the kiosk and a ticket's public status, against a real server."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from config.schema import HallConfig
from queue_server.services.loading import IDEMPOTENCY_DAYS
from queue_server.store import tables
from tests.support.clock import FakeClock
from tests.support.server import PASSWORD, RunningServer, start_server

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
# What a citizen's phone may see of a ticket: nothing that names a person, a device or another ticket.
PUBLIC_STATUS_FIELDS = {
    "number", "category", "category_name_zh", "category_name_en", "item_id", "item_name_zh", "priority", "state",
    "state_label_zh", "state_label_en", "ahead", "estimated_wait_s", "estimated_wait_low_s", "estimated_wait_high_s",
    "estimate_rough", "window", "window_name_zh", "issued_at", "called_at", "day",
}  # fmt: skip
JISHENG_MINUTES = 7  # the demo hall's typical handling time of 计生服务
ZONGHE_MINUTES = 5  # and of 综合


def with_cap(config: HallConfig, category: str, cap: int) -> HallConfig:
    """The demo hall with a smaller daily cap for one category."""
    hall = config.hall("qingshan")
    categories = [c.model_copy(update={"daily_cap": cap}) if c.code == category else c for c in hall.categories]
    return config.model_copy(update={"halls": [hall.model_copy(update={"categories": categories})]})


# --- issuing ------------------------------------------------------------------------------------


def test_issue_by_category_answers_201_with_the_number_the_queue_and_a_tracking_token(api: Api) -> None:
    first = api.issue("jisheng")
    assert first["number"] == "A001"
    assert (first["category"], first["category_name_zh"], first["priority"]) == ("jisheng", "计生服务", "ordinary")
    assert first["state"] == "waiting"
    assert first["ahead"] == 0
    # No window serving 计生服务 is open yet: a rough figure from the two windows listing it, once open (busy):
    # (0 + 1) × 7 min / 2, never "no estimate".
    assert first["estimated_wait_s"] == 210 and first["estimate_rough"] is True
    assert first["estimated_wait_low_s"] < 210 < first["estimated_wait_high_s"]
    # The kiosk tile and the board say the same for the category: people wait, so an estimate, said rough.
    tile = next(q for q in api.http.get("/queues").json()["queues"] if q["category"] == "jisheng")
    assert (tile["waiting"], tile["wait_s"], tile["rough"]) == (1, 420, True)  # behind A001: 2 × 7 min / 2
    assert first["windows"] == [1, 10]
    assert isinstance(first["id"], int)
    token = first["track_token"]
    assert URL_SAFE.match(token) and len(token) * 6 >= 128, token  # base64url: 6 bits a character
    assert first["track_path"] == f"/t/{token}"

    second = api.issue("jisheng")
    other = api.issue("guotu")
    third = api.issue("jisheng")
    assert [second["number"], other["number"], third["number"]] == ["A002", "B001", "A003"]
    assert [second["ahead"], other["ahead"], third["ahead"]] == [1, 0, 2]
    assert len({t["track_token"] for t in (first, second, other, third)}) == 4
    assert len({t["id"] for t in (first, second, other, third)}) == 4


def test_issue_by_item_takes_the_items_category_and_names(api: Api) -> None:
    item = api.server.config.hall("qingshan").item("jisheng-childcare-subsidy")
    ticket = api.issue(item_id=item.id)
    assert (ticket["number"], ticket["category"], ticket["item_id"]) == ("A001", "jisheng", item.id)
    assert ticket["item_name_zh"] == item.name_zh
    both = api.issue_raw({"item_id": item.id, "category": "jisheng"})
    assert both.status_code == 201 and both.json()["number"] == "A002"


def test_the_wait_estimate_counts_the_open_windows(api: Api) -> None:
    api.open("liuxia", 1)  # window 1 serves 计生服务, and 综合 when no 计生 ticket waits
    tickets = []
    for _ in range(3):
        promised = {q["category"]: q["wait_s"] for q in api.board()["board"]["queues"]}["jisheng"]
        tickets.append(api.issue("jisheng"))
        assert tickets[-1]["estimated_wait_s"] == promised  # the kiosk tile told the truth
    assert [t["ahead"] for t in tickets] == [0, 1, 2]
    # Window 1 is idle: the first goes straight in, each later one waits one typical service more.
    assert [t["estimated_wait_s"] for t in tickets] == [0, JISHENG_MINUTES * 60, 2 * JISHENG_MINUTES * 60]


def test_the_arrivals_to_come_follow_yesterdays_and_survive_a_restart(
    new_db: Callable[[], str | Path],
    clock: FakeClock,
    cheap_password_hashing: None,
    make_api: Callable[[RunningServer], Api],
) -> None:
    # Window 1 serves 计生服务 first, 综合 when no 计生 ticket waits. On a first day nothing says 计生 tickets are
    # coming: the second 综合 ticket waits one 综合 service. After a morning with ten 计生 tickets at 9:00, the
    # next morning's 9:00 estimate keeps window 1 for the 计生 tickets that history says will come.
    zonghe_s = ZONGHE_MINUTES * 60
    db = new_db()
    server = start_server(db, clock)
    try:
        api = make_api(server)
        api.open("liuxia", 1)
        api.issue("zonghe")
        assert api.issue("zonghe")["estimated_wait_s"] == zonghe_s
        for _ in range(10):
            api.issue("jisheng")
        clock.advance(hours=24)  # 09:00 the next morning: yesterday's login has expired
        api.ok(server.login("liuxia"), 1, "open", {"post": "A"})
        api.issue("zonghe")
        second = api.issue("zonghe")
        assert second["estimated_wait_s"] > 1.3 * zonghe_s  # 10 × 7 min in the next 3 hours: 40% of window 1
        token = second["track_token"]
        shown = api.status(token).json()["estimated_wait_s"]
        assert shown > 1.3 * zonghe_s
    finally:
        server.stop()
    restarted = start_server(db, clock)  # the profile is read back from the tickets of the days before
    try:
        again = make_api(restarted).status(token).json()
        assert again["estimated_wait_s"] == shown
    finally:
        restarted.stop()


BAD_ISSUES = [
    pytest.param({"item_id": "jisheng-childcare-subsidy", "category": "guotu"}, 400, "bad_request",
                 "belongs to category jisheng", id="item-category-mismatch"),
    pytest.param({"item_id": "no-such-item"}, 404, "not_found", "没有该事项", id="unknown-item"),
    pytest.param({"category": "nosuch"}, 404, "not_found", "没有该业务类别", id="unknown-category"),
    pytest.param({}, 400, "bad_request", "item_id or category", id="neither"),
    pytest.param({"category": "jisheng", "priority": "vip"}, 422, "invalid_request", "priority", id="bad-priority"),
    pytest.param({"category": "jisheng", "priority": "appointment"}, 422, "invalid_request", "priority",
                 id="kiosk-cannot-book-appointments"),
    pytest.param({"category": "jisheng", "name": "张三"}, 422, "invalid_request", "name", id="extra-field"),
    pytest.param({"category": "JiSheng"}, 422, "invalid_request", "category", id="category-not-a-code"),
    pytest.param({"category": ["jisheng"]}, 422, "invalid_request", "category", id="category-not-a-string"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status", "code", "says"), BAD_ISSUES)
def test_a_bad_issue_is_refused_and_changes_nothing(
    api: Api, body: dict[str, Any], status: int, code: str, says: str
) -> None:
    assert api.issue("jisheng")["number"] == "A001"
    seq = api.seq()

    message = api.error(api.issue_raw(body, key="kiosk-retry-1"), status, code)
    assert says in message

    assert api.seq() == seq
    # The number was not used up, and neither was the Idempotency-Key.
    retry = api.issue_raw({"category": "jisheng"}, key="kiosk-retry-1")
    assert retry.status_code == 201, retry.text
    assert retry.json()["number"] == "A002"
    assert "Idempotent-Replayed" not in retry.headers


def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    seq = api.seq()
    response = api.http.post(
        "/tickets",
        content=b"category=jisheng",
        headers={**api.bearer(api.kiosk), "Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    api.error(response, 422, "invalid_request")
    assert api.seq() == seq


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_key_and_body_get_the_same_ticket_again(api: Api) -> None:
    first = api.issue_raw({"category": "jisheng"}, key="kiosk-1-0001")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    seq = api.seq()

    again = api.issue_raw({"category": "jisheng"}, key="kiosk-1-0001")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert {k: again.json()[k] for k in ("id", "number", "track_token")} == {
        k: first.json()[k] for k in ("id", "number", "track_token")
    }
    assert api.seq() == seq  # no second ticket.issued event
    assert api.issue("jisheng")["number"] == "A002"


def test_the_same_key_with_another_body_is_a_conflict(api: Api) -> None:
    api.issue_raw({"category": "jisheng"}, key="kiosk-1-0001")
    seq = api.seq()
    message = api.error(api.issue_raw({"category": "guotu"}, key="kiosk-1-0001"), 422, "idempotency_conflict")
    assert "Idempotency-Key" in message
    assert api.seq() == seq
    assert api.issue("guotu")["number"] == "B001"


def test_a_retry_after_midnight_gets_the_ticket_of_the_day_before_not_a_second_one(api: Api, clock: FakeClock) -> None:
    clock.advance(hours=14, minutes=59)  # 23:59 on Monday in Shanghai: the kiosk's answer is lost
    first = api.issue_raw({"category": "jisheng"}, key="kiosk-1-late")
    assert first.status_code == 201
    clock.advance(minutes=2)  # 00:01 on Tuesday: the kiosk retries the same tap

    again = api.issue_raw({"category": "jisheng"}, key="kiosk-1-late")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert {k: again.json()[k] for k in ("id", "number", "track_token", "issued_at")} == {
        k: first.json()[k] for k in ("id", "number", "track_token", "issued_at")
    }
    assert again.json()["state"] == "expired"  # Monday's ticket, closed with Monday: the kiosk shows it as it is
    assert [e["type"] for e in api.events()].count("ticket.issued") == 1
    assert api.issue("jisheng")["number"] == "A001"  # Tuesday's first ticket is another key's

    # The same after a restart (the runtime loaded again from the database), and with another body it is refused.
    api.server.store.forget_runtimes()
    assert api.issue_raw({"category": "jisheng"}, key="kiosk-1-late").json()["id"] == first.json()["id"]
    api.error(api.issue_raw({"category": "guotu"}, key="kiosk-1-late"), 422, "idempotency_conflict")

    # Keys are kept IDEMPOTENCY_DAYS days, today included: then the key is a new tap.
    clock.advance(days=IDEMPOTENCY_DAYS - 2)  # the last day the key is kept
    assert api.issue_raw({"category": "jisheng"}, key="kiosk-1-late").json()["id"] == first.json()["id"]
    clock.advance(days=1)
    later = api.issue_raw({"category": "jisheng"}, key="kiosk-1-late")
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 422), (b"", 422), ("键".encode(), 422), (b"two words", 422), (b"x" * 129, 422)],  # required, by pattern
    ids=["missing", "empty", "not-ascii", "space", "too-long"],
)
def test_an_issue_needs_an_idempotency_key_of_printable_ascii(api: Api, key: bytes | None, status: int) -> None:
    api.issue("jisheng")
    seq = api.seq()
    headers = [(name.encode(), value.encode()) for name, value in api.bearer(api.kiosk).items()]
    if key is not None:
        headers.append((b"Idempotency-Key", key))
    response = api.http.post("/tickets", json={"category": "jisheng"}, headers=headers)
    assert "idempotency-key" in api.error(response, status).lower()
    assert api.seq() == seq
    assert api.issue("jisheng")["number"] == "A002"


# --- the daily cap and the service day ------------------------------------------------------


def test_the_daily_cap_refuses_more_tickets_of_that_category_with_a_clear_message(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig,
    clock: FakeClock,
) -> None:  # fmt: skip
    api = make_api(start_hall(with_cap(hall_config, "jisheng", 2)))
    assert [api.issue("jisheng")["number"] for _ in range(2)] == ["A001", "A002"]
    seq = api.seq()

    message = api.error(api.issue_raw({"category": "jisheng"}), 409, "category_full")
    assert "daily cap of 2" in message
    assert "今日该类业务号已取完（每日限2个），请下一个工作日再来" in message
    assert api.seq() == seq
    assert api.issue("guotu")["number"] == "B001"  # other categories still issue

    clock.advance(days=1)
    assert api.issue("jisheng")["number"] == "A001"


def test_a_day_the_manager_closed_is_not_closed_again_the_next_morning(api: Api, clock: FakeClock) -> None:
    def next_morning() -> None:
        clock.advance(days=1)
        login = api.http.post(
            f"{api.server.url}/api/v1/auth/login", json={"username": "director", "password": PASSWORD}
        )
        api.server.tokens["director"] = login.json()["access_token"]  # yesterday's login has expired

    api.issue("jisheng")
    closed = api.http.post("/day/close", headers=api.bearer(api.manager))
    assert closed.status_code == 200 and closed.json()["expired"] == 1
    next_morning()
    assert api.issue("jisheng")["number"] == "A001"
    closes = [e["payload"] for e in api.events() if e["type"] == "day.closed"]
    assert closes == [{"day": "2026-03-16", "expired": 1}]  # the manager's close, and no second one at the roll

    # A day closed by hand that saw more afterwards (a ticket issued after the close) is closed again at the roll.
    assert api.http.post("/day/close", headers=api.bearer(api.manager)).json()["expired"] == 1
    api.issue("guotu")
    next_morning()
    api.issue("jisheng")
    closes = [e["payload"] for e in api.events() if e["type"] == "day.closed"]
    assert closes[1:] == [{"day": "2026-03-17", "expired": 1}, {"day": "2026-03-17", "expired": 1}]


def test_numbers_restart_on_the_next_service_day_and_yesterdays_tickets_expire(api: Api, clock: FakeClock) -> None:
    api.open("liuxia", 1)
    a1, a2 = api.issue("jisheng"), api.issue("jisheng")
    api.issue("guotu")
    clock.advance(hours=14, minutes=59)  # 23:59 in Shanghai (15:59 UTC): still Monday
    assert api.issue("jisheng")["number"] == "A003"

    clock.advance(minutes=2)  # 00:01 Tuesday in Shanghai, though still Monday in UTC
    api.error(api.status(a1["track_token"]), 404, "not_found")
    api.error(api.status(a2["track_token"]), 404, "not_found")
    fresh = api.issue("jisheng")
    assert fresh["number"] == "A001"
    assert fresh["track_token"] not in (a1["track_token"], a2["track_token"])
    assert api.issue("guotu")["number"] == "B001"

    with api.server.store.engine.connect() as conn:  # a plain reader, as the reports use
        rows = conn.execute(
            select(tables.tickets.c.number, tables.tickets.c.state).where(tables.tickets.c.day == dt.date(2026, 3, 16))
        ).all()
    assert {r.number: r.state for r in rows} == dict.fromkeys(("A001", "A002", "A003", "B001"), "expired")
    closed = [e for e in api.events() if e["type"] == "day.closed"]
    assert len(closed) == 1
    assert closed[0]["payload"] == {"day": "2026-03-16", "expired": 4}
    board = api.board()["board"]
    assert board["day"] == "2026-03-17"
    assert all(w["state"] == "closed" for w in board["windows"])  # the day close closed window 1
    waiting = {q["category"]: q["waiting"] for q in board["queues"]}
    assert (waiting["jisheng"], waiting["guotu"]) == (1, 1)


# --- a ticket's public status ---------------------------------------------------------------


def test_the_status_follows_a_ticket_from_waiting_to_finished(api: Api) -> None:
    clerk = api.open("liuxia", 1)
    a1, _a2, a3 = (api.issue("jisheng") for _ in range(3))

    waiting = api.status(a3["track_token"]).json()
    assert set(waiting) == PUBLIC_STATUS_FIELDS
    assert (waiting["number"], waiting["state"], waiting["state_label_zh"]) == ("A003", "waiting", "等候中")
    assert (waiting["ahead"], waiting["estimated_wait_s"]) == (2, 2 * JISHENG_MINUTES * 60)
    assert waiting["window"] is None and waiting["called_at"] is None
    assert waiting["day"] == "2026-03-16"

    api.ok(clerk, 1, "call-next")
    called = api.status(a1["track_token"]).json()
    assert (called["state"], called["state_label_zh"]) == ("called", "已叫号")
    assert (called["window"], called["window_name_zh"]) == (1, "计生服务窗口")
    assert called["ahead"] is None and called["called_at"] is not None
    # Window 1 is busy now: A003 has one ticket ahead and waits for two services.
    behind = api.status(a3["track_token"]).json()
    assert (behind["ahead"], behind["estimated_wait_s"]) == (1, 2 * JISHENG_MINUTES * 60)

    api.ok(clerk, 1, "start")
    assert api.status(a1["track_token"]).json()["state_label_zh"] == "办理中"
    api.ok(clerk, 1, "finish", {"case_class": "immediate"})
    finished = api.status(a1["track_token"]).json()
    assert (finished["state"], finished["state_label_zh"], finished["window"]) == ("finished", "已办结", None)


@pytest.mark.parametrize("token", ["short", "x" * 65, "has.a.dot.in.it.here"], ids=["short", "long", "alphabet"])
def test_a_malformed_tracking_token_is_422(shared_api: Api, token: str) -> None:
    shared_api.error(shared_api.status(token), 422, "invalid_request")  # a read refused: one server for the three


def test_an_unknown_tracking_token_is_404(api: Api) -> None:
    api.issue("jisheng")
    message = api.error(api.status("A" * 32), 404, "not_found")
    assert "未找到今日的该号票" in message


def test_an_unknown_hall_is_404(api: Api) -> None:
    response = api.http.get(f"{api.server.url}/api/v1/halls/nowhere/board")
    assert "nowhere" in api.error(response, 404, "not_found")
