"""Staff belong to halls: in a database of two halls, every hall route refuses the staff of the other hall."""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from queue_server.api import deps
from tests.support.halls import OTHER_HALL, two_halls
from tests.support.server import HALL, RunningServer

if TYPE_CHECKING:
    from fastapi.dependencies.models import Dependant

    from tests.queue_server.conftest import Api

HALL_SCOPE = "不属于服务大厅"  # the refusal's words, whatever the route

# The hall routes that need no staff login, each for a reason: public reads, a citizen's token or code,
# a kiosk's device token, and the pages (HTML shells whose data come from the staff routes).
PUBLIC = {
    ("GET", "/api/v1/halls/{hall}/catalog"),
    ("GET", "/api/v1/halls/{hall}/board"),
    ("GET", "/api/v1/halls/{hall}/queues"),
    ("GET", "/api/v1/halls/{hall}/tickets/{track_token}"),
    ("GET", "/api/v1/halls/{hall}/tickets/{track_token}/rating"),
    ("POST", "/api/v1/halls/{hall}/tickets/{track_token}/rating"),
    ("GET", "/api/v1/halls/{hall}/tickets/{track_token}/reminder"),
    ("POST", "/api/v1/halls/{hall}/tickets/{track_token}/reminder"),
    ("DELETE", "/api/v1/halls/{hall}/tickets/{track_token}/reminder"),
    ("GET", "/api/v1/halls/{hall}/appointments/slots"),
    ("POST", "/api/v1/halls/{hall}/appointments"),
    ("GET", "/api/v1/halls/{hall}/appointments/{code}"),
    ("POST", "/api/v1/halls/{hall}/appointments/{code}/cancel"),
    ("GET", "/api/v1/halls/{hall}/appointments/{code}/qr.svg"),
    ("GET", "/api/v1/halls/{hall}/announcements/{number}/{window}.wav"),
    ("GET", "/api/v1/halls/{hall}/time"),
    ("GET", "/api/v1/halls/{hall}/windows/{window}/upcoming"),
    ("GET", "/board/{hall}"),
    ("GET", "/board/{hall}/window/{window}"),
    ("GET", "/rate/{hall}/window/{window}"),  # the evaluator pad (评价器)
    ("POST", "/api/v1/halls/{hall}/windows/{window}/tickets/{number}/rating"),  # the pad: services/pad_ratings.py
    ("GET", "/api/v1/halls/{hall}/windows/{window}/on-duty"),  # the pad's idle screen, with the pad's token
    ("GET", "/clerk/{hall}"),
    ("GET", "/manager/{hall}"),
    ("GET", "/book/{hall}"),
    ("GET", "/join/{hall}"),  # 远程取号
    ("GET", "/api/v1/halls/{hall}/remote-tickets"),
    ("POST", "/api/v1/halls/{hall}/remote-tickets"),
    ("GET", "/q/{hall}"),
    ("GET", "/api/v1/halls/{hall}/published"),
    ("GET", "/api/v1/halls/{hall}/case-lookup/{code}"),
    ("POST", "/api/v1/halls/{hall}/complaints"),
    ("GET", "/api/v1/halls/{hall}/complaints/{code}"),
    ("GET", "/agent/{hall}"),
    ("WS", "/ws/halls/{hall}/board"),
}
KIOSK = {
    ("POST", "/api/v1/halls/{hall}/tickets"),
    ("POST", "/api/v1/halls/{hall}/tickets/{track_token}/requeue"),
    ("POST", "/api/v1/halls/{hall}/appointments/{code}/check-in"),
    ("GET", "/api/v1/halls/{hall}/devices/me"),
    ("GET", "/api/v1/halls/{hall}/devices/me/id-card-key"),  # a kiosk with an ID card reader
    ("POST", "/api/v1/halls/{hall}/devices/me/status"),  # a kiosk, LED strip or caller (deps.current_device)
    ("POST", "/api/v1/halls/{hall}/cases/{code}/return-visit"),
}
# Authenticated by a township's link token, which names its hall (queue_server/link/routes_link.py).
LINK = {
    ("POST", "/api/v1/link/halls/{hall}/events"),
    ("GET", "/api/v1/link/halls/{hall}/documents"),  # link down: the county's documents, for the hall's own token
    ("GET", "/api/v1/link/halls/{hall}/documents/{kind}/{version}"),
}
PATH_VALUES = {
    "device": "kiosk-9",
    "window": "1",
    "rating_id": "1",
    "complaint_id": "1",
    "code": "ABCD2345",
    "username": "nobody",
    "track_token": "x" * 43,
}


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def hall_routes(app: Any) -> dict[tuple[str, str], set[Any]]:
    """(method, path) → the functions its dependencies call, for every route of the app naming a hall."""
    routes: dict[tuple[str, str], set[Any]] = {}
    # FastAPI ≥ 0.16x keeps included routers as branches: iter_route_contexts flattens them.
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if "{hall}" not in path:
            continue
        kind = route.original_route
        if isinstance(kind, APIWebSocketRoute):
            routes[("WS", path)] = _calls(route.dependant)
        elif isinstance(kind, APIRoute):
            for method in route.methods or ():
                routes[(method, path)] = _calls(route.dependant)
        else:
            raise AssertionError(f"a hall route of an unknown kind: {kind!r}")
    return routes


def staff_routes(app: Any) -> list[tuple[str, str]]:
    # window_actor: a staff login (hall_member), or a caller keypad acting as the window's clerk
    staff = {deps.hall_member, deps.window_actor}
    return sorted(key for key, calls in hall_routes(app).items() if calls & staff)


def fill(path: str, hall: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: hall if m[1] == "hall" else PATH_VALUES[m[1]], path)


@pytest.fixture
def county(start_hall: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    return start_hall(two_halls(tmp_path / "config"))


@pytest.fixture
def apis(county: RunningServer, tls: ssl.SSLContext) -> Iterator[tuple[Api, Api]]:
    from tests.queue_server.conftest import Api

    one, other = Api(county, tls, HALL), Api(county, tls, OTHER_HALL)
    yield one, other
    one.close()
    other.close()


def test_every_hall_route_is_a_staff_route_or_listed_as_public(county: RunningServer) -> None:
    routes = hall_routes(county.app)
    without_staff = {key for key, calls in routes.items() if not calls & {deps.hall_member, deps.window_actor}}
    assert without_staff - PUBLIC - KIOSK - LINK == set(), "a hall route without a staff login: add StaffDep or list it"
    assert (PUBLIC | KIOSK | LINK) - without_staff == set(), "listed as public but no longer (or gone)"
    kiosk = {key for key, calls in routes.items() if calls & {deps.current_kiosk, deps.kiosk_call, deps.current_device}}
    assert kiosk == KIOSK
    assert len(staff_routes(county.app)) >= 26  # the walk found the window actions, reports, staff, ratings …


def test_staff_of_one_hall_are_refused_on_every_route_of_the_other(apis: tuple[Api, Api]) -> None:
    here, there = apis
    outsiders = {
        "clerk of qingshan": here.staff("liuxia"),
        "manager of qingshan": here.staff("director", "manager"),
        "admin of qingshan": here.staff("root-qs", "admin", halls=[HALL]),
        "agent of qingshan": here.staff("cun-wang", "agent", halls=[HALL], point="qingshan-cun"),
    }
    insiders = {
        "clerk of baiyun": there.staff("wangfang"),
        "manager of baiyun": there.staff("director-by", "manager"),
        "manager of both": here.staff("county-director", "manager", halls=[HALL, OTHER_HALL]),
        "admin of every hall": here.staff("root", "admin"),
    }
    there.issue("jisheng")
    seq_there, seq_here = there.seq(), here.seq()
    routes = staff_routes(here.server.app)
    for method, path in routes:
        url = here.server.url + fill(path, OTHER_HALL)
        for who, token in outsiders.items():
            response = here.http.request(method, url, headers=here.bearer(token), json=None)
            message = here.error(response, 403, "forbidden")
            assert HALL_SCOPE in message and f"hall {OTHER_HALL}" in message, (who, method, path, message)
    assert there.seq() == seq_there, "a refused request changed nothing in baiyun"
    for method, path in routes:
        url = here.server.url + fill(path, OTHER_HALL)
        for who, token in insiders.items():
            response = here.http.request(method, url, headers=here.bearer(token), json=None)
            assert HALL_SCOPE not in response.text, (who, method, path, response.text)
            agents_only = path.startswith("/api/v1/halls/{hall}/agent/")  # a village agent's (test_api_agents.py)
            if (
                method == "GET"
                and who != "clerk of baiyun"
                and "{" not in path.removeprefix("/api/v1/halls/{hall}")
                and not agents_only
            ):
                assert response.status_code in (200, 422), (who, path, response.text)  # 422: a query is missing
    assert here.seq() == seq_here, "nothing done in baiyun touched qingshan"


def test_a_clerk_works_in_their_own_hall_and_the_refusal_says_which_halls_are_theirs(apis: tuple[Api, Api]) -> None:
    here, there = apis
    liuxia = here.open("liuxia", 1)
    here.issue("jisheng")
    assert here.ok(liuxia, 1, "call-next")["ticket"]["number"] == "A001"
    message = there.error(there.act(liuxia, 1, "open", {"post": "A"}), 403, "forbidden")
    assert message.startswith("您的账号不属于服务大厅 baiyun（所属大厅：qingshan）")
    assert "your account does not belong to hall baiyun; your halls: qingshan" in message
    me = here.http.get(f"{here.server.url}/api/v1/auth/me", headers=here.bearer(liuxia)).json()
    assert me["halls"] == [HALL]
    # An unknown hall stays a 404, whoever asks.
    answer = here.http.get(f"{here.server.url}/api/v1/halls/nowhere/windows", headers=here.bearer(liuxia))
    here.error(answer, 404, "not_found")


def staff_api(api: Api, method: str, path: str, token: str, body: Any = None) -> Any:
    return api.http.request(method, f"{api.server.url}/api/v1{path}", json=body, headers=api.bearer(token))


NEW = {"username": "zhangli", "display_name": "张丽", "role": "clerk", "password": "a good password"}


def test_an_administrator_gives_and_changes_halls_and_the_change_counts_at_once(apis: tuple[Api, Api]) -> None:
    here, there = apis
    root = here.staff("root", "admin")
    new = {**NEW, "username": "liuxia"}  # window 1's A-post in both halls
    missing = staff_api(here, "POST", "/staff", root, new)
    assert "请指定所属大厅" in here.error(missing, 400, "bad_request"), "two halls: the account's halls must be named"
    unknown = staff_api(here, "POST", "/staff", root, {**new, "halls": ["nowhere"]})
    assert "no such hall: nowhere" in here.error(unknown, 400, "bad_request")
    everywhere = staff_api(here, "POST", "/staff", root, {**new, "halls": None})
    assert "仅系统管理员可属于全部大厅" in here.error(everywhere, 400, "bad_request")
    added = staff_api(here, "POST", "/staff", root, {**new, "halls": [HALL]})
    assert added.status_code == 201 and added.json()["halls"] == [HALL], added.text

    liuxia = here.http.post(
        f"{here.server.url}/api/v1/auth/login", json={"username": "liuxia", "password": NEW["password"]}
    ).json()
    assert liuxia["halls"] == [HALL]
    token = liuxia["access_token"]
    assert here.act(token, 1, "open", {"post": "A"}).status_code == 200  # cached as a clerk of qingshan now
    there.error(there.act(token, 1, "open", {"post": "A"}), 403, "forbidden")

    moved = staff_api(here, "PATCH", "/staff/liuxia", root, {"halls": [OTHER_HALL]})
    assert moved.status_code == 200 and moved.json()["halls"] == [OTHER_HALL], moved.text
    assert there.act(token, 1, "open", {"post": "A"}).status_code == 200, "the new halls count without a new login"
    assert HALL_SCOPE in here.error(here.act(token, 1, "close"), 403, "forbidden")

    # Each hall's supervisors list the accounts of their hall (and those of every hall), nobody else's.
    listed = there.http.get("/staff", headers=there.bearer(there.staff("director-by", "manager"))).json()
    assert {s["username"] for s in listed} == {"root", "liuxia", "director-by"}
    here_listed = here.http.get("/staff", headers=here.bearer(here.manager)).json()
    assert {s["username"] for s in here_listed} == {"root", "director"}
    refused = here.http.get("/staff", headers=here.bearer(here.staff("zhaogang")))
    assert "仅限中心主任或管理员" in here.error(refused, 403, "forbidden")


def test_an_administrator_of_one_hall_manages_only_its_accounts(apis: tuple[Api, Api]) -> None:
    here, there = apis
    root = here.staff("root", "admin")
    local = here.staff("admin-qs", "admin", halls=[HALL])
    there.staff("wangfang")  # a clerk of baiyun
    assert staff_api(here, "POST", "/staff", local, {**NEW, "halls": [HALL]}).status_code == 201
    for body in (
        {**NEW, "username": "x1", "halls": [OTHER_HALL]},
        {**NEW, "username": "x2", "role": "admin", "halls": None},
    ):
        message = here.error(staff_api(here, "POST", "/staff", local, body), 403, "forbidden")
        assert "您只能管理本大厅的账号" in message
    here.error(staff_api(here, "PATCH", "/staff/wangfang", local, {"active": False}), 403, "forbidden")
    here.error(staff_api(here, "POST", "/staff/wangfang/password", local, {"password": "a new password"}), 403)
    here.error(staff_api(here, "PATCH", "/staff/zhangli", local, {"halls": [HALL, OTHER_HALL]}), 403, "forbidden")
    assert {s["username"] for s in staff_api(here, "GET", "/staff", local).json()} == {"root", "admin-qs", "zhangli"}
    assert len(staff_api(here, "GET", "/staff", root).json()) == 4
    # The last administrator of every hall is never narrowed to some halls.
    narrowed = staff_api(here, "PATCH", "/staff/root", root, {"halls": [HALL]})
    assert "不能停用或降级自己的账号" in here.error(narrowed, 409, "conflict")
    root2 = here.staff("root2", "admin")
    assert staff_api(here, "PATCH", "/staff/root", root2, {"halls": [HALL]}).json()["halls"] == [HALL]
    last = staff_api(here, "PATCH", "/staff/root2", local, {"halls": [HALL]})
    here.error(last, 403, "forbidden")  # an administrator of one hall cannot touch one of every hall
