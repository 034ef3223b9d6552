"""Staff login, logout, session expiry and the brake on password guessing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from queue_server.services.accounts import FREE_FAILURES, SESSION_HOURS
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
