"""Who may do what: every window action, the manager's endpoints and the kiosk's, under every kind of token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from queue_server.services import accounts
from tests.support.server import HALL

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

# Every window action with a body it would accept.
WINDOW_ACTIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("open", {"post": "A"}),
    ("call-next", None),
    ("call", {"number": "A001", "reason": "老人优先"}),
    ("recall", None),
    ("start", None),
    ("finish", {"case_class": "immediate"}),
    ("no-show", None),
    ("transfer", {"to_window": 5}),
    ("pause", {"reason": "午休"}),
    ("resume", None),
    ("close", None),
]
ACTION_IDS = [action for action, _ in WINDOW_ACTIONS]
MANAGER_ENDPOINTS = [("GET", "/events"), ("POST", "/day/close")]
MANAGER_IDS = ["events", "day-close"]


@pytest.fixture
def hall(api: Api) -> Api:
    """Window 1 opened by liuxia, with A001 waiting."""
    api.open("liuxia", 1)
    api.issue("jisheng")
    return api


def unauthenticated_headers(kind: str, api: Api) -> dict[str, str]:
    return {
        "none": {},
        "empty": {"Authorization": ""},
        "basic": {"Authorization": "Basic bGl1eGlhOnB3"},
        "bearer-only": {"Authorization": "Bearer"},
        "unknown-staff": api.bearer("bms_" + "x" * 43),
        "unknown-device": api.bearer("bmd_" + "x" * 43),
    }[kind]


# --- window actions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "body"), WINDOW_ACTIONS, ids=ACTION_IDS)
def test_a_window_action_is_only_for_the_clerk_who_opened_the_window(
    api: Api, action: str, body: dict[str, Any] | None
) -> None:
    liuxia = api.staff("liuxia")  # window 1's A-post clerk
    api.issue("jisheng")
    seq = api.seq()
    if action != "open":
        message = api.error(api.act(liuxia, 1, action, body), 403, "forbidden")
        assert "window 1 is not open" in message, "liuxia has not opened window 1 yet"
        assert api.seq() == seq
    api.ok(liuxia, 1, "open", {"post": "A"})
    seq = api.seq()

    for kind in ("none", "empty", "basic", "bearer-only", "unknown-staff"):
        response = api.act(None, 1, action, body) if kind == "none" else api.http.post(
            f"/windows/1/{action}", json=body, headers=unauthenticated_headers(kind, api)
        )  # fmt: skip
        api.error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer", kind

    message = api.error(api.act(api.kiosk, 1, action, body), 403, "forbidden")
    assert "设备令牌无权进行此操作" in message, "a kiosk device token"

    message = api.error(api.act(api.staff("zhaogang"), 1, action, body), 403, "forbidden")
    expected = "该岗位不属于您" if action == "open" else "只有开启本窗口的工作人员可以操作"
    assert expected in message, "zhaogang, window 2's clerk"

    if action not in ("open", "close"):  # a manager may open a free post or close any window, nothing else
        message = api.error(api.act(api.manager, 1, action, body), 403, "forbidden")
        assert "只有开启本窗口的工作人员可以操作" in message, "the manager"
    assert api.seq() == seq


def test_the_windows_desk_is_for_staff_only(hall: Api) -> None:
    hall.error(hall.http.get("/windows"), 401, "unauthorized")
    hall.error(hall.http.get("/windows", headers=hall.bearer(hall.kiosk)), 403, "forbidden")
    clerk = hall.http.get("/windows", headers=hall.bearer(hall.staff("zhaogang")))
    assert clerk.status_code == 200 and len(clerk.json()) == 10


# --- the manager's endpoints ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), MANAGER_ENDPOINTS, ids=MANAGER_IDS)
def test_manager_endpoints_refuse_everyone_but_managers(hall: Api, method: str, path: str) -> None:
    seq = hall.seq()
    hall.error(hall.http.request(method, path), 401, "unauthorized")
    hall.error(hall.http.request(method, path, headers=hall.bearer(hall.kiosk)), 403, "forbidden")
    message = hall.error(hall.http.request(method, path, headers=hall.bearer(hall.staff("liuxia"))), 403, "forbidden")
    assert "仅限中心主任或管理员" in message
    assert hall.seq() == seq


@pytest.mark.parametrize("role", ["manager", "admin"])
@pytest.mark.parametrize(("method", "path"), MANAGER_ENDPOINTS, ids=MANAGER_IDS)
def test_manager_endpoints_allow_managers_and_admins(hall: Api, method: str, path: str, role: str) -> None:
    response = hall.http.request(method, path, headers=hall.bearer(hall.staff(f"boss-{role}", role)))
    assert response.status_code == 200, response.text
    if path == "/events":
        assert [e["type"] for e in response.json()["events"]] == ["window.opened", "ticket.issued"]
    else:
        assert response.json()["expired"] == 1
        assert hall.board()["board"]["windows"][0]["state"] == "closed"


# --- the kiosk's endpoints ------------------------------------------------------------------------


def kiosk_call(api: Api, endpoint: str, headers: dict[str, str]) -> Any:
    if endpoint == "issue":
        return api.http.post("/tickets", json={"category": "jisheng"}, headers={**headers, "Idempotency-Key": "k-9"})
    return api.http.post(f"/tickets/{'N' * 32}/requeue", headers=headers)


KIOSK_ENDPOINTS = ["issue", "requeue"]


@pytest.mark.parametrize("endpoint", KIOSK_ENDPOINTS)
def test_kiosk_endpoints_without_a_known_device_token_are_401(api: Api, endpoint: str) -> None:
    api.issue("jisheng")
    seq = api.seq()
    for kind in ("none", "basic", "bearer-only", "unknown-device"):
        api.error(kiosk_call(api, endpoint, unauthenticated_headers(kind, api)), 401, "unauthorized")
    assert api.seq() == seq


@pytest.mark.parametrize("endpoint", KIOSK_ENDPOINTS)
def test_kiosk_endpoints_refuse_a_staff_login(api: Api, endpoint: str) -> None:
    api.issue("jisheng")
    seq = api.seq()
    for username, role in (("liuxia", "clerk"), ("director", "manager"), ("root", "admin")):
        api.error(kiosk_call(api, endpoint, api.bearer(api.staff(username, role))), 403, "forbidden")
    assert api.seq() == seq


@pytest.mark.parametrize("endpoint", KIOSK_ENDPOINTS)
def test_a_revoked_or_replaced_device_token_is_401(api: Api, endpoint: str) -> None:
    replaced = api.server.add_device("kiosk-1")
    api.issue("jisheng")  # registers kiosk-1 anew for this Api: the token before is replaced
    seq = api.seq()
    assert "设备未登记" in api.error(kiosk_call(api, endpoint, api.bearer(replaced)), 401, "unauthorized")

    revoked = api.server.add_device("kiosk-1")
    api.server.store.run_global_sync(lambda conn, _now: accounts.revoke_device(conn, HALL, "kiosk-1"))
    assert "设备未登记" in api.error(kiosk_call(api, endpoint, api.bearer(revoked)), 401, "unauthorized")
    assert api.seq() == seq


@pytest.mark.parametrize("endpoint", KIOSK_ENDPOINTS)
def test_a_device_that_is_not_a_kiosk_of_this_hall_is_403(api: Api, endpoint: str) -> None:
    api.issue("jisheng")
    seq = api.seq()
    for hall, device in [
        ("qingshan", "kiosk-9"),  # not in the hall's configuration
        ("other-hall", "kiosk-1"),  # a kiosk of another hall
        ("qingshan", "board-hall"),  # a board, not a kiosk
        ("qingshan", "printer-1"),
    ]:
        token = api.server.add_device(device, hall=hall)
        message = api.error(kiosk_call(api, endpoint, api.bearer(token)), 403, "forbidden")
        assert f"device {device} is not a kiosk of hall qingshan" in message
    assert api.seq() == seq
