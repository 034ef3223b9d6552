"""Staff accounts and roles, managed by administrators: list, add, change role or name, deactivate, reset password."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.clock import FakeClock
from tests.support.server import PASSWORD

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api


def staff_api(api: Api, method: str, path: str = "", token: str | None = None, body: Any = None) -> httpx.Response:
    return api.http.request(method, f"{api.server.url}/api/v1/staff{path}", json=body, headers=api.bearer(token))


def login(api: Api, username: str, password: str) -> httpx.Response:
    return api.http.post(f"{api.server.url}/api/v1/auth/login", json={"username": username, "password": password})


NEW = {"username": "zhangli", "display_name": "张丽", "role": "clerk", "password": "a good password"}
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("POST", "", NEW),
    ("PATCH", "/liuxia", {"role": "manager"}),
    ("POST", "/liuxia/password", {"password": "another password"}),
]
WHO = ["nobody", "unknown", "device", "clerk", "manager", "admin"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p or '/'}" for m, p, _ in ENDPOINTS])
def test_only_an_administrator_manages_staff(api: Api, method: str, path: str, body: Any, who: str) -> None:
    api.staff("liuxia")
    token = {
        "nobody": None,
        "unknown": "bms_" + "y" * 43,
        "device": api.kiosk if who == "device" else None,
        "clerk": api.staff("clerk2") if who == "clerk" else None,
        "manager": api.manager if who == "manager" else None,
        "admin": api.staff("root", "admin") if who == "admin" else None,
    }[who]
    response = staff_api(api, method, path, token, body)
    if who == "admin":
        assert response.status_code in (200, 201, 204), response.text
    elif who in ("nobody", "unknown"):
        api.error(response, 401, "unauthorized")
    else:
        message = api.error(response, 403, "forbidden")
        assert ("仅限系统管理员" if who != "device" else "设备令牌") in message
    if who != "admin":  # nothing changed
        assert login(api, "liuxia", PASSWORD).status_code == 200
        assert login(api, "zhangli", NEW["password"]).status_code == 401


def test_an_administrator_adds_a_clerk_who_can_then_log_in(api: Api) -> None:
    root = api.staff("root", "admin")
    added = staff_api(api, "POST", "", root, {**NEW, "username": "  ZhangLi "})
    assert added.status_code == 201, added.text
    assert added.json() | {"created_at": None} == {
        "username": "zhangli", "display_name": "张丽", "role": "clerk", "role_label_zh": "窗口工作人员",
        "active": True, "locked": False, "created_at": None, "halls": ["qingshan"], "county": None,
        "city": None, "point": None, "staff_no": None,
    }  # fmt: skip
    assert "password" not in added.text and "hash" not in added.text
    assert login(api, "zhangli", NEW["password"]).json()["role"] == "clerk"
    listed = staff_api(api, "GET", "", root).json()
    assert [s["username"] for s in listed] == sorted(s["username"] for s in listed)
    assert "zhangli" in [s["username"] for s in listed]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**NEW, "username": "liuxia"}, 409, "already exists"),
        ({**NEW, "username": "张丽"}, 400, "username"),
        ({**NEW, "password": "short"}, 422, "8"),  # in the document: 8 to 200 characters
        ({**NEW, "role": "superuser"}, 422, "role"),
        ({**NEW, "display_name": "   "}, 400, "display name"),
        ({**NEW, "extra": 1}, 422, "extra"),
    ],
)
def test_a_bad_new_account_is_a_clear_error(api: Api, body: dict[str, Any], status: int, words: str) -> None:
    api.staff("liuxia")
    message = api.error(staff_api(api, "POST", "", api.staff("root", "admin"), body), status)
    assert words in message


def test_a_role_change_takes_effect_at_the_next_request(api: Api) -> None:
    clerk = api.staff("liuxia")
    api.error(api.http.get("/wall", headers=api.bearer(clerk)), 403)
    changed = staff_api(api, "PATCH", "/liuxia", api.staff("root", "admin"), {"role": "manager"})
    assert changed.json()["role"] == "manager"
    assert api.http.get("/wall", headers=api.bearer(clerk)).status_code == 200


def test_deactivating_ends_the_sessions_and_refuses_logins_until_reactivated(api: Api) -> None:
    root = api.staff("root", "admin")
    clerk = api.open("liuxia", 1)
    assert staff_api(api, "PATCH", "/liuxia", root, {"active": False}).json()["active"] is False
    api.error(api.http.get("/console/desk", headers=api.bearer(clerk)), 401)
    api.error(login(api, "liuxia", PASSWORD), 401)
    assert staff_api(api, "PATCH", "/liuxia", root, {"active": True}).json()["active"] is True
    assert login(api, "liuxia", PASSWORD).status_code == 200


def test_a_password_reset_ends_the_old_sessions(api: Api) -> None:
    root = api.staff("root", "admin")
    clerk = api.staff("liuxia")
    assert staff_api(api, "POST", "/liuxia/password", root, {"password": "new and long"}).status_code == 204
    api.error(api.http.get("/console/desk", headers=api.bearer(clerk)), 401)
    api.error(login(api, "liuxia", PASSWORD), 401)
    assert login(api, "liuxia", "new and long").status_code == 200
    api.error(staff_api(api, "POST", "/liuxia/password", root, {"password": "short"}), 422)


def test_a_reset_lifts_a_login_lock(api: Api) -> None:
    root = api.staff("root", "admin")
    api.staff("liuxia")
    for _ in range(5):
        login(api, "liuxia", "wrong password")
    assert login(api, "liuxia", PASSWORD).status_code == 429
    assert next(s for s in staff_api(api, "GET", "", root).json() if s["username"] == "liuxia")["locked"]
    staff_api(api, "POST", "/liuxia/password", root, {"password": "new and long"})
    assert login(api, "liuxia", "new and long").status_code == 200


def test_the_hall_always_keeps_an_administrator(api: Api) -> None:
    root = api.staff("root", "admin")
    assert "不能停用或降级自己的账号" in api.error(staff_api(api, "PATCH", "/root", root, {"active": False}), 409)
    api.error(staff_api(api, "PATCH", "/root", root, {"role": "clerk"}), 409)
    other = api.staff("root2", "admin")
    assert staff_api(api, "PATCH", "/root", other, {"role": "manager"}).status_code == 200
    # root2 is now the last administrator: it cannot be removed by anyone (there is nobody else anyway).
    api.error(staff_api(api, "PATCH", "/root2", other, {"active": False}), 409)
    assert staff_api(api, "PATCH", "/root2", other, {"display_name": "管理员"}).json()["display_name"] == "管理员"


def test_a_new_display_name_shows_on_the_boards(api: Api) -> None:
    api.open("liuxia", 1)
    staff_api(api, "PATCH", "/liuxia", api.staff("root", "admin"), {"display_name": "刘霞"})
    assert api.board()["board"]["windows"][0]["clerk_name"] == "刘霞"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PATCH", "/nobody", {"role": "clerk"}, 404),
        ("POST", "/nobody/password", {"password": "long enough"}, 404),
        ("PATCH", "/liuxia", {"role": "owner"}, 422),
        ("PATCH", "/liuxia", {"active": "maybe"}, 422),
        ("PATCH", "/Bad%20Name", {"role": "clerk"}, 422),
    ],
)
def test_bad_changes_are_clear_errors(api: Api, method: str, path: str, body: Any, status: int) -> None:
    api.staff("liuxia")
    api.error(staff_api(api, method, path, api.staff("root", "admin"), body), status)


# --- the staff audit: every change, who made it, when, from where, on the manager's audit -------------------------


def test_every_staff_change_is_in_the_audit_the_manager_reads(api: Api, clock: FakeClock) -> None:
    root, director = api.staff("root", "admin", name="系统管理员"), api.manager
    assert staff_api(api, "POST", "", root, NEW).status_code == 201
    clock.advance(minutes=1)
    assert staff_api(api, "PATCH", "/zhangli", root, {"role": "manager", "display_name": "张丽丽"}).status_code == 200
    assert staff_api(api, "POST", "/zhangli/password", root, {"password": "a secret one"}).status_code == 204
    assert staff_api(api, "PATCH", "/zhangli", root, {"active": False}).status_code == 200
    refused = staff_api(api, "PATCH", "/root", root, {"active": False})  # refused: changes nothing, audits nothing
    assert refused.status_code == 409

    answer = api.http.get("/staff-audit", headers=api.bearer(director))
    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]  # newest first
    assert [(e["action"], e["subject"]) for e in entries] == [
        ("staff.changed", "zhangli"), ("staff.password_reset", "zhangli"), ("staff.changed", "zhangli"),
        ("staff.added", "zhangli"),
    ]  # fmt: skip
    assert {(e["actor"], e["actor_name"], e["source"]) for e in entries} == {("root", "系统管理员", "127.0.0.1")}
    assert all(e["halls"] == ["qingshan"] for e in entries)
    added, changed, _reset, deactivated = reversed(entries)
    assert added["details"] == {"role": "clerk", "display_name": "张丽"}
    assert changed["details"] == {"role": "manager", "display_name": "张丽丽"}
    assert deactivated["details"] == {"active": False} and deactivated["action_zh"] == "修改账号"
    assert dt.datetime.fromisoformat(changed["at"]) - dt.datetime.fromisoformat(added["at"]) == dt.timedelta(minutes=1)
    assert "a good password" not in answer.text and "a secret one" not in answer.text and "argon2" not in answer.text

    # Paged with `before`; a clerk may not read it.
    older = api.http.get("/staff-audit", params={"before": entries[1]["id"], "limit": 1}, headers=api.bearer(director))
    assert [e["action"] for e in older.json()["entries"]] == ["staff.changed"]
    api.error(api.http.get("/staff-audit", headers=api.bearer(api.staff("liuxia"))), 403, "forbidden")
