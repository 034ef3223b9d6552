"""Staff login, logout, session expiry and the brake on password guessing."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import statistics
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from queue_server.api import ratelimit
from queue_server.services import accounts
from queue_server.services import login as login_service
from queue_server.services.accounts import FREE_FAILURES, SESSION_HOURS
from queue_server.store.tables import users
from tests.support.clock import FakeClock
from tests.support.server import PASSWORD

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api


def login(api: Api, username: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
    return api.http.post(
        f"{api.server.url}/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )


def me(api: Api, token: str | None) -> httpx.Response:
    return api.http.get(f"{api.server.url}/api/v1/auth/me", headers=api.bearer(token))


def logout(api: Api, token: str | None) -> httpx.Response:
    return api.http.post(f"{api.server.url}/api/v1/auth/logout", headers=api.bearer(token))


def test_a_clerk_logs_in_for_a_working_day(api: Api, clock: FakeClock) -> None:
    api.staff("liuxia", "clerk", name="刘霞")
    answer = login(api, "liuxia")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("bms_") and len(body["access_token"]) >= 40
    assert (body["username"], body["display_name"], body["role"]) == ("liuxia", "刘霞", "clerk")
    assert dt.datetime.fromisoformat(body["expires_at"]) == clock() + dt.timedelta(hours=SESSION_HOURS)

    who = me(api, body["access_token"])
    assert who.status_code == 200 and who.json() == {
        "username": "liuxia",
        "display_name": "刘霞",
        "role": "clerk",
        "halls": ["qingshan"],
        "county": None,
        "city": None,
        "point": None,
    }
    assert login(api, "  LiuXia ").status_code == 200  # the username as a person types it


def test_a_wrong_password_reads_the_same_as_an_unknown_user(api: Api) -> None:
    api.staff("liuxia")
    wrong = login(api, "liuxia", "not the password")
    unknown = login(api, "nobody", "not the password")
    assert api.error(wrong, 401, "unauthorized") == api.error(unknown, 401, "unauthorized")
    assert "用户名或密码错误" in wrong.json()["error"]["message"]
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"] == "Bearer"


def test_repeated_failures_make_the_next_attempt_wait(api: Api, clock: FakeClock) -> None:
    api.staff("liuxia")
    for _ in range(FREE_FAILURES + 1):
        api.error(login(api, "liuxia", "guess"), 401, "unauthorized")

    locked = login(api, "liuxia")  # even the right password has to wait
    message = api.error(locked, 429, "too_many_requests")
    assert locked.headers["Retry-After"] == "2"
    assert "try again in 2 s" in message and "登录失败次数过多" in message
    assert login(api, "liuxia", "guess").status_code == 429

    clock.advance(seconds=2)
    assert login(api, "liuxia").status_code == 200
    # A success clears the count: the next failures are free again.
    for _ in range(FREE_FAILURES):
        api.error(login(api, "liuxia", "guess"), 401, "unauthorized")
    assert login(api, "liuxia").status_code == 200


def test_failures_on_one_account_do_not_lock_another(api: Api) -> None:
    api.staff("liuxia")
    api.staff("chenjing")
    for _ in range(FREE_FAILURES + 1):
        login(api, "liuxia", "guess")
    assert login(api, "liuxia").status_code == 429
    assert login(api, "chenjing").status_code == 200


def test_a_login_expires_after_its_session(api: Api, clock: FakeClock) -> None:
    token = api.staff("liuxia")
    clock.advance(hours=SESSION_HOURS - 1)
    assert me(api, token).status_code == 200
    clock.advance(hours=2)  # 13 h after the login
    message = api.error(me(api, token), 401, "unauthorized")
    assert "登录已失效，请重新登录" in message
    api.error(api.act(token, 1, "open", {"post": "A"}), 401, "unauthorized")
    assert me(api, login(api, "liuxia").json()["access_token"]).status_code == 200


def test_logout_ends_the_login(api: Api) -> None:
    token = api.staff("liuxia")
    other = login(api, "liuxia").json()["access_token"]  # the same clerk on a second PC
    answer = logout(api, token)
    assert answer.status_code == 204 and answer.content == b""
    api.error(me(api, token), 401, "unauthorized")
    api.error(api.act(token, 1, "open", {"post": "A"}), 401, "unauthorized")
    api.error(logout(api, token), 401, "unauthorized")
    assert me(api, other).status_code == 200  # only that one login ended


@pytest.mark.parametrize(
    "body",
    [{"username": "liuxia"}, {"username": "", "password": "x"}, {"username": "liuxia", "password": PASSWORD, "otp": 1}],
    ids=["no-password", "empty-username", "extra-field"],
)
def test_a_malformed_login_is_422(api: Api, body: dict[str, Any]) -> None:
    answer = api.http.post(f"{api.server.url}/api/v1/auth/login", json=body)
    api.error(answer, 422, "invalid_request")


def test_a_device_token_is_no_login(api: Api) -> None:
    api.error(me(api, api.kiosk), 403, "forbidden")
    api.error(me(api, None), 401, "unauthorized")


# --- argon2 off the writer, and a brake on floods ----------------------------------------------------------


@pytest.fixture
def real_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost (~0.2 s of CPU a hash), for the accounts made and the unknown ones."""
    hasher = PasswordHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not a real password"))


def no_login_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the server's first request: its buckets are made then, from the rules of that moment.
    monkeypatch.setitem(ratelimit.RULES, "login", ratelimit.Rule(per_ip=ratelimit.Rate(100_000, 1_000.0)))


@pytest.mark.slow
def test_a_wrong_password_flood_does_not_stall_issuing(
    api: Api, monkeypatch: pytest.MonkeyPatch, real_password_hashing: None
) -> None:
    no_login_limit(monkeypatch)
    api.staff("liuxia")  # hashed at the real cost too
    answers: list[int] = []
    stop = threading.Event()

    def flood(client: int) -> None:
        # Unknown usernames: each costs a full hash and never locks (a known account locks after 3).
        with httpx.Client(base_url=api.server.url, timeout=30, trust_env=False) as http:
            n = 0
            while not stop.is_set():
                n += 1
                body = {"username": f"guess-{client}-{n}", "password": "not the password"}
                answers.append(http.post("/api/v1/auth/login", json=body).status_code)

    flooders = [threading.Thread(target=flood, args=(i,)) for i in range(8)]
    for thread in flooders:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(answers) < 8 and time.monotonic() < deadline:  # the flood is hashing
            time.sleep(0.05)
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            api.issue("laobao")
            latencies.append(time.perf_counter() - started)
        right = login(api, "liuxia")  # a clerk still logs in, waiting in line with the flood at worst
        hashed_meanwhile = len(answers)
    finally:
        stop.set()
        for thread in flooders:
            thread.join(timeout=30)
    assert right.status_code == 200, right.text
    assert set(answers) <= {401, 429} and answers.count(401) >= 8
    # With argon2 on the writer, every issue waited behind the hashes queued before it: ~1–2 s each.
    assert statistics.median(latencies) < 0.4, (latencies, hashed_meanwhile)


def test_logins_are_rate_limited_per_source_address(api: Api) -> None:
    api.staff("liuxia")  # one login from this address
    rule = ratelimit.RULES["login"].per_ip
    for _ in range(rule.burst - 1):
        api.error(login(api, "nobody", "guess"), 401, "unauthorized")
    refused = login(api, "liuxia")  # the right password too: the address is over its rate
    message = api.error(refused, 429, "too_many_requests")
    assert "请求过于频繁" in message and int(refused.headers["Retry-After"]) >= 1

    # Another address of the hall's LAN is not held back, and nor are the kiosks.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=api.server.url, transport=transport, trust_env=False) as other:
        answer = other.post("/api/v1/auth/login", json={"username": "liuxia", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
    assert api.issue("laobao")["number"]


def test_concurrent_wrong_passwords_are_each_counted(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    no_login_limit(monkeypatch)
    api.staff("liuxia")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: login(api, "liuxia", "guess").status_code, range(12)))
    assert set(statuses) <= {401, 429} and statuses.count(401) > FREE_FAILURES
    failures = api.server.store.run_global_sync(
        lambda conn, _now: conn.execute(select(users.c.failed_logins).where(users.c.username == "liuxia")).scalar()
    )
    # Each refusal that checked the password was counted: the count is read again on the writer, never lost.
    assert failures == statuses.count(401)


def test_a_login_flood_from_many_addresses_waits_in_a_bounded_line(
    api: Api, monkeypatch: pytest.MonkeyPatch, real_password_hashing: None
) -> None:
    no_login_limit(monkeypatch)
    monkeypatch.setattr(login_service, "checker", login_service.PasswordChecker(threads=1, max_waiting=2))
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: login(api, "nobody", "guess"), range(6)))
    busy = [a for a in answers if a.status_code == 429]
    assert {a.status_code for a in answers} == {401, 429} and len(busy) >= 2
    assert all("服务器繁忙" in api.error(a, 429, "too_many_requests") for a in busy)
    assert {a.headers["Retry-After"] for a in busy} == {"1"}


def test_an_unknown_user_still_costs_a_hash(api: Api, real_password_hashing: None) -> None:
    api.staff("liuxia")
    timings = {}
    for username in ("liuxia", "nobody"):
        started = time.perf_counter()
        api.error(login(api, username, "not the password"), 401, "unauthorized")
        timings[username] = time.perf_counter() - started
    # argon2 at its real cost takes well over 50 ms on any machine the hall runs on; a bare look-up a few ms.
    assert min(timings.values()) > 0.05, timings
