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
from queue_server.services.accounts import SESSION_HOURS
from queue_server.services.throttle import FREE_FAILURES, MAX_LOCK_S, SOURCE_FREE_FAILURES
from queue_server.store.tables import login_throttle
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
        # Unknown usernames, each new: each costs a full hash until its address has failed SOURCE_FREE_FAILURES
        # times. Each flooder at its own address (the clerk's is 127.0.0.1: a locked flooder never holds her up).
        transport = httpx.HTTPTransport(local_address=f"127.0.1.{client + 1}")
        with httpx.Client(base_url=api.server.url, transport=transport, timeout=30, trust_env=False) as http:
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
    for i in range(rule.burst - 1):  # unknown usernames, each new (one would lock after FREE_FAILURES)
        api.error(login(api, f"nobody{i}", "guess"), 401, "unauthorized")
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
        lambda conn, _now: conn.execute(
            select(login_throttle.c.failures).where(login_throttle.c.subject == "u:liuxia")
        ).scalar()
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


# --- throttled per (username, address) and per address: a guesser elsewhere locks nobody out -----------------------


def from_address(api: Api, address: str) -> httpx.Client:
    """A client of the hall's LAN at another loopback address (Linux answers all of 127.0.0.0/8)."""
    return httpx.Client(
        base_url=api.server.url, transport=httpx.HTTPTransport(local_address=address), trust_env=False, timeout=10
    )


def staff_audit(api: Api, token: str) -> list[dict[str, Any]]:
    answer = api.http.get("/staff-audit", headers=api.bearer(token))
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_a_guesser_at_another_address_cannot_lock_the_clerk_out(api: Api, clock: FakeClock) -> None:
    director = api.staff("director", "manager")
    api.staff("chenjing")
    with from_address(api, "127.0.0.3") as attacker:
        # Case, spaces and full-width letters are the same username: they count together.
        for typed in ("chenjing", "CHENJING ", " ChenJing", "ｃｈｅｎｊｉｎｇ"):
            answer = attacker.post("/api/v1/auth/login", json={"username": typed, "password": "guess"})
            assert answer.status_code == 401, answer.text
        locked = attacker.post("/api/v1/auth/login", json={"username": "chenjing", "password": PASSWORD})
        message = api.error(locked, 429, "too_many_requests")  # the right password too, from the guesser's address
        assert locked.headers["Retry-After"] == "2"
        assert (
            message.startswith("登录失败次数过多，请 2 秒后再试")
            and "too many failed logins: try again in 2 s" in message
        )

        # The clerk at her own PC logs in meanwhile, and her own mistakes count apart from the guesser's.
        assert login(api, "chenjing", "a typo").status_code == 401
        assert login(api, " CHENJING").status_code == 200
        for _ in range(6):  # the guesser keeps going: only its own address waits longer
            clock.advance(seconds=MAX_LOCK_S)
            assert (
                attacker.post("/api/v1/auth/login", json={"username": "chenjing", "password": "x"}).status_code == 401
            )
        assert login(api, "chenjing").status_code == 200

    # Each lock is in the staff audit the manager reads: the account, the address, how long.
    locks = [e for e in staff_audit(api, director) if e["action"] == "login.locked"]
    assert len(locks) == 7 and {e["subject"] for e in locks} == {"chenjing"}
    assert {e["source"] for e in locks} == {"127.0.0.3"} and locks[0]["actor"] is None
    assert (locks[-1]["details"], locks[-1]["action_zh"]) == (
        {"scope": "account", "failures": 4, "seconds": 2},
        "登录锁定",
    )
    assert locks[0]["details"]["seconds"] == 2**7 and locks[0]["halls"] == ["qingshan"]


def test_an_address_trying_many_usernames_waits_and_others_do_not(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    no_login_limit(monkeypatch)  # the per-address rate limit aside: this is the failure count's own lock
    director = api.staff("director", "manager")
    api.staff("liuxia")
    with from_address(api, "127.0.0.4") as sprayer:
        for i in range(SOURCE_FREE_FAILURES + 1):  # each username new: no username's own count locks
            answer = sprayer.post("/api/v1/auth/login", json={"username": f"user{i}", "password": "guess"})
            assert answer.status_code == 401, (i, answer.text)
        refused = sprayer.post("/api/v1/auth/login", json={"username": "liuxia", "password": PASSWORD})
        assert "登录失败次数过多" in api.error(refused, 429, "too_many_requests")
        assert int(refused.headers["Retry-After"]) >= 1
    assert login(api, "liuxia").status_code == 200  # from the clerk's own address
    lock = next(e for e in staff_audit(api, director) if e["action"] == "login.locked")
    assert lock["subject"] is None and lock["source"] == "127.0.0.4" and lock["halls"] is None
    assert lock["details"] == {"scope": "address", "failures": SOURCE_FREE_FAILURES + 1, "seconds": 2}


def test_an_unknown_username_locks_as_a_known_one_does(api: Api) -> None:
    # Otherwise the 429 would tell a guesser which usernames exist.
    api.staff("liuxia")
    answers = {
        name: [login(api, name, "guess").status_code for _ in range(FREE_FAILURES + 1)] + [login(api, name).status_code]
        for name in ("liuxia", "nobody")
    }
    assert answers["liuxia"] == answers["nobody"] == [401] * (FREE_FAILURES + 1) + [429]


def test_an_administrators_password_reset_lifts_the_locks_of_every_address(api: Api) -> None:
    root = api.staff("root", "admin")
    api.staff("liuxia")
    with from_address(api, "127.0.0.5") as there:
        for _ in range(FREE_FAILURES + 1):
            there.post("/api/v1/auth/login", json={"username": "liuxia", "password": "guess"})
        assert there.post("/api/v1/auth/login", json={"username": "liuxia", "password": PASSWORD}).status_code == 429
        staff = api.http.get(f"{api.server.url}/api/v1/staff", headers=api.bearer(root)).json()
        assert next(s for s in staff if s["username"] == "liuxia")["locked"]
        reset = api.http.post(
            f"{api.server.url}/api/v1/staff/liuxia/password",
            json={"password": "a new password"},
            headers=api.bearer(root),
        )
        assert reset.status_code == 204, reset.text
        fresh = there.post("/api/v1/auth/login", json={"username": "liuxia", "password": "a new password"})
        assert fresh.status_code == 200, fresh.text


def test_the_login_documents_its_refusals(api: Api) -> None:
    operation = api.http.get(f"{api.server.url}/openapi.json").json()["paths"]["/api/v1/auth/login"]["post"]
    responses = operation["responses"]
    assert {"200", "401", "422", "429"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]
    assert "登录失败次数过多" in responses["429"]["description"]
    assert responses["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_behind_the_county_nginx_the_forwarded_address_is_the_one_counted(api: Api) -> None:
    # nginx on the same machine (docs/deploy-county.md) connects from 127.0.0.1 with X-Forwarded-For, which uvicorn
    # trusts from there: each clerk's PC is its own address, not all of them the proxy's.
    api.staff("chenjing")
    proxied = {"X-Forwarded-For": "10.20.0.9"}
    for _ in range(FREE_FAILURES + 1):
        api.http.post(
            f"{api.server.url}/api/v1/auth/login", json={"username": "chenjing", "password": "x"}, headers=proxied
        )
    url, body = f"{api.server.url}/api/v1/auth/login", {"username": "chenjing", "password": PASSWORD}
    assert api.http.post(url, json=body, headers=proxied).status_code == 429
    assert api.http.post(url, json=body, headers={"X-Forwarded-For": "10.20.0.10"}).status_code == 200
