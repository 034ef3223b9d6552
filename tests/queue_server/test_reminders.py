"""Phone reminders (快到您了 and the call) through the hall's webhook, to a fake SMS gateway on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from config.schema import HallConfig, Notify
from queue_server.store.tables import notify_requests
from tests.queue_server.conftest import Api, Databases
from tests.support.clock import FakeClock
from tests.support.gateway import Gateway
from tests.support.server import RunningServer, start_server

PHONE = "13812345678"
SECRET = "test-gateway-secret"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    fake = Gateway()
    yield fake
    fake.close()


@pytest.fixture
def reminding(
    gateway: Gateway,
    start_hall: Callable[..., RunningServer],
    make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> Api:
    """The demo hall with its webhook pointed at the fake gateway: 快到您了 at 2 ahead, quick retries."""
    monkeypatch.setenv("BIANMIN_TEST_NOTIFY_SECRET", SECRET)
    notify = Notify(url=gateway.url, secret_env="BIANMIN_TEST_NOTIFY_SECRET", remind_ahead=2, timeout_s=5,
                    attempts=10, retry_min_s=0.05, retry_max_s=0.2)  # fmt: skip
    hall = hall_config.halls[0].model_copy(update={"notify": notify})
    return make_api(start_hall(hall_config.model_copy(update={"halls": [hall]})))


def _ask(api: Api, token: str, body: dict[str, Any] | None = None) -> Any:
    return api.http.post(
        f"/tickets/{token}/reminder", json=body if body is not None else {"phone": PHONE, "consent": True}
    )


def _stored_phones(server: RunningServer) -> int:
    with server.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(notify_requests)).scalar() or 0)


def test_with_consent_the_reminder_and_the_call_reach_the_phone_once_each(
    reminding: Api, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = reminding
    tickets = [api.issue("jisheng") for _ in range(5)]  # A001 … A005
    mine, other = tickets[3], tickets[4]  # A004 asks for the reminder; A005 does not
    answer = _ask(api, mine["track_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"available": True, "active": True, "phone": "138****5678", "remind_ahead": 2}
    assert api.http.get(f"/tickets/{other['track_token']}/reminder").json()["active"] is False
    time.sleep(0.5)
    assert gateway.bodies() == []  # 3 ahead: not yet

    clerk = api.open("liuxia", 1)
    api.ok(clerk, 1, "call-next")  # A001: now 2 are ahead of A004
    [soon] = gateway.wait_for(1)
    headers = gateway.received[0][0]
    assert headers["X-Bianmin-Secret"] == SECRET and headers["Content-Type"] == "application/json"
    assert {k: soon[k] for k in ("kind", "hall", "phone", "number", "window", "ahead")} == {
        "kind": "soon", "hall": "qingshan", "phone": PHONE, "number": "A004", "window": None, "ahead": 2,
    }  # fmt: skip
    assert "快到您了" in soon["text_zh"] and "A004号前面还有2人" in soon["text_zh"]
    for _ in range(3):  # A001, A002, A003 served; A004 called, then recalled
        api.serve(clerk, 1)
        api.ok(clerk, 1, "call-next")
    api.ok(clerk, 1, "recall")
    bodies = gateway.wait_for(2)
    time.sleep(0.5)
    assert len(gateway.bodies()) == 2  # once each: no second 快到您了, no message for the recall
    call = bodies[1]
    assert (call["kind"], call["number"], call["window"], call["phone"]) == ("call", "A004", 1, PHONE)
    assert call["text_zh"].endswith("请A004号到1号窗口办理。")
    assert len({b["id"] for b in bodies}) == 2
    assert all(b["number"] == "A004" for b in bodies)  # A005 gave no consent: nothing for it
    assert PHONE not in json.dumps(api.events())  # never in the event log
    assert PHONE not in caplog.text  # nor in a log line


def test_without_consent_nothing_is_stored_or_sent(reminding: Api, gateway: Gateway) -> None:
    api = reminding
    ticket = api.issue("jisheng")
    refused = _ask(api, ticket["track_token"], {"phone": PHONE, "consent": False})
    assert "请勾选同意" in api.error(refused, 400)
    api.error(_ask(api, ticket["track_token"], {"phone": "12345", "consent": True}), 422)
    api.error(_ask(api, "nosuchtoken0000000000000000", None), 404)
    assert _stored_phones(api.server) == 0
    clerk = api.open("liuxia", 1)
    api.ok(clerk, 1, "call-next")
    assert "仅排队中" in api.error(_ask(api, ticket["track_token"]), 409)  # called already
    time.sleep(0.5)
    assert gateway.bodies() == []


def test_a_hall_without_a_webhook_offers_no_reminder(api: Api) -> None:
    ticket = api.issue("jisheng")
    assert api.http.get(f"/tickets/{ticket['track_token']}/reminder").json() == {
        "available": False, "active": False, "phone": None, "remind_ahead": None,
    }  # fmt: skip
    assert "未开通" in api.error(_ask(api, ticket["track_token"]), 404)


def test_a_gateway_that_fails_is_retried_and_never_holds_up_a_call(reminding: Api, gateway: Gateway) -> None:
    api = reminding
    gateway.failures, gateway.delay_s = 3, 1.0  # three slow 503s, then it takes the message
    ticket = api.issue("jisheng")
    assert _ask(api, ticket["track_token"]).status_code == 200  # 0 ahead: 快到您了 at once
    clerk = api.open("liuxia", 1)
    started = time.monotonic()
    called = api.ok(clerk, 1, "call-next")
    took = time.monotonic() - started
    assert called["ticket"]["number"] == "A001" and took < 0.5, took  # the call did not wait for the gateway
    bodies = gateway.wait_for(2, timeout=15)
    assert sorted(b["kind"] for b in bodies) == ["call", "soon"]
    assert gateway.tries == 5  # 3 failed tries, then each delivered once
    time.sleep(0.5)
    assert len(gateway.bodies()) == 2


def test_the_phone_is_gone_when_the_day_closes(reminding: Api) -> None:
    api = reminding
    ticket = api.issue("jisheng")
    assert _ask(api, ticket["track_token"]).json()["active"] is True
    assert _stored_phones(api.server) == 1
    closed = api.http.post("/day/close", headers=api.bearer(api.manager))
    assert closed.status_code == 200, closed.text
    assert _stored_phones(api.server) == 0
    api.error(api.http.get(f"/tickets/{ticket['track_token']}/reminder"), 404)


def test_the_webhook_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="url"):
        Notify(url="ftp://gateway")
    with pytest.raises(ValidationError, match="retry_min_s"):
        Notify(url="http://gateway.lan/sms", retry_min_s=10, retry_max_s=1)
    with pytest.raises(ValidationError, match="secret_env"):
        Notify(url="http://gateway.lan/sms", secret_env="not a name")


def test_two_servers_on_one_database_send_each_message_once(
    gateway: Gateway,
    databases: Databases,
    clock: FakeClock,
    cheap_password_hashing: None,
    stop_later: Callable[[RunningServer], threading.Thread],
    make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:
    notify = Notify(url=gateway.url, remind_ahead=2, retry_min_s=0.05, retry_max_s=0.2)
    config = hall_config.model_copy(update={"halls": [hall_config.halls[0].model_copy(update={"notify": notify})]})
    db = databases.new()
    first, second = start_server(db, clock, config), start_server(db, clock, config)
    try:
        here, there = make_api(first), make_api(second)
        there._kiosk = here.kiosk
        tickets = [here.issue("jisheng") for _ in range(4)]
        assert _ask(there, tickets[3]["track_token"]).status_code == 200  # asked through the other server
        clerk = here.open("liuxia", 1)
        for i, api in enumerate((here, there, here, there)):  # the calls alternate between the servers
            if i:
                api.serve(clerk, 1)
            api.ok(clerk, 1, "call-next")
        bodies = gateway.wait_for(2)
        time.sleep(1.0)  # both servers published every event by now
        assert [(b["kind"], b["number"]) for b in gateway.bodies()] == [("soon", "A004"), ("call", "A004")]
        assert len(bodies) == 2
    finally:
        databases.drop(db, after=[stop_later(first), stop_later(second)])
