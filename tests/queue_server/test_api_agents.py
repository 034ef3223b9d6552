"""Village agent points (村级代办点) against a real server on both backends: an agent takes a case for a villager,
the window's clerk sees it and asks for 补办, the agent brings the materials, the clerk completes it, the agent
hands the result back; who may call which route; hostile input on every new field; the reports' 代理件 share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest

from queue_server.api import deps
from tests.queue_server.test_api_cases import HOSTILE, desk
from tests.queue_server.test_api_hall_scope import fill, hall_routes
from tests.support.halls import OTHER_HALL, two_halls
from tests.support.server import HALL, RunningServer

if TYPE_CHECKING:
    import ssl

    from tests.queue_server.conftest import Api

ITEM = "jisheng-childcare-subsidy"  # 承诺件 of 20 working days, 4 materials; category jisheng (window 1 first)
POINT, OTHER_POINT = "qingshan-cun", "shuikou-cun"
NAME, PHONE = "张小华", "138 0013 8000"
AGENT_ROUTES = [
    ("GET", "/agent/desk", None),
    ("POST", "/agent/cases", {"item_id": ITEM, "collected": [0], "villager_name": NAME, "consent": True}),
    ("GET", "/agent/cases/{code}", None),
    ("POST", "/agent/cases/{code}/resubmit", {"brought": [0]}),
    ("POST", "/agent/cases/{code}/handed-back", None),
]


def agent(api: Api, username: str = "cun-wang", point: str = POINT) -> str:
    return api.staff(username, "agent", name="王代办", point=point)


def take(api: Api, token: str, **changes: Any) -> httpx.Response:
    body = {"item_id": ITEM, "collected": [0, 1, 2], "villager_name": NAME, "phone": PHONE, "consent": True}
    return api.http.post("/agent/cases", json={**body, **changes}, headers=api.bearer(token))


def taken(api: Api, token: str) -> dict[str, Any]:
    response = take(api, token)
    assert response.status_code == 201, response.text
    return dict(response.json())


def agent_desk(api: Api, token: str) -> dict[str, Any]:
    response = api.http.get("/agent/desk", headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def act(api: Api, token: str | None, path: str, body: Any = None) -> httpx.Response:
    return api.http.post(path, json=body, headers=api.bearer(token))


def test_an_agent_takes_a_case_the_clerk_asks_for_materials_and_the_result_goes_back(api: Api) -> None:
    wang = agent(api)
    start = agent_desk(api, wang)
    assert (start["point"]["name_zh"], start["point"]["village"], start["cases"]) == ("青山村代办点", "青山村", [])
    waiting = api.board()["board"]
    case = taken(api, wang)
    code = case["code"]
    assert (case["case_class"], case["class_zh"], case["origin"], case["number"], case["point"]) == (
        "agent", "代理件", "agent", None, POINT)  # fmt: skip
    shown = (case["villager"], case["contact"], case["window"], case["accepted_by"])
    assert shown == ("张*华", "138****8000", 1, "cun-wang"), "masked; at window 1, which serves 计生 first"
    assert case["missing_materials"] == ["监护关系证明"] and len(case["collected_materials"]) == 3
    assert case["due_on"] == "2026-04-14", "20 working days from Monday 16 March, over the 清明 holiday (6 April)"
    assert api.board()["board"] == waiting, "no ticket and no number in the hall's queue"

    # The clerk of window 1 (which serves 计生 first) sees it with what is missing; window 2's clerk does not.
    liuxia, zhaogang = api.open("liuxia", 1), api.open("zhaogang", 2)
    mine = desk(api, liuxia)["mine"]
    assert [(c["code"], c["agent_name"], c["missing_materials"]) for c in mine] == [(code, "王代办", ["监护关系证明"])]
    assert desk(api, zhaogang)["mine"] == []
    api.error(act(api, zhaogang, f"/cases/{code}/supplement", {"materials": ["监护关系证明"]}), 403, "forbidden")
    asked = act(api, liuxia, f"/cases/{code}/supplement", {"materials": ["监护关系证明", "监护关系证明"]})
    assert asked.status_code == 200, asked.text
    assert (asked.json()["supplement_pending"], asked.json()["due_on"]) == (True, None), "the clock stops"

    # The agent sees the request with the missing material, brings it, and the case moves on.
    seen = agent_desk(api, wang)["cases"][0]
    assert (seen["code"], seen["supplement_pending"], seen["missing_materials"]) == (code, True, ["监护关系证明"])
    api.error(act(api, wang, f"/agent/cases/{code}/handed-back"), 409, "conflict")
    one = api.http.get(f"/agent/cases/{code.lower()}", headers=api.bearer(wang))
    assert one.status_code == 200 and one.json()["missing_materials"] == ["监护关系证明"], one.text
    back = act(api, wang, f"/agent/cases/{code}/resubmit", {"brought": [0]})
    assert back.status_code == 200, back.text
    moved = back.json()
    assert (moved["state"], moved["supplement_pending"], moved["missing_materials"]) == ("in_progress", False, [])
    assert moved["due_on"] == "2026-04-14" and moved["visits"][0] | {"at": None} == {
        "number": None, "via": "agent", "by": "cun-wang", "at": None}  # fmt: skip
    api.error(act(api, wang, f"/agent/cases/{code}/resubmit", {"brought": [0]}), 409, "conflict")

    done = act(api, liuxia, f"/cases/{code}/complete", {"result": "agent"})
    assert done.status_code == 200 and done.json()["result_zh"] == "代办员转交", done.text
    seen = agent_desk(api, wang)["cases"][0]
    assert (seen["state_zh"], seen["result_zh"], seen["handed_back_at"]) == ("办结", "代办员转交", None)
    handed = act(api, wang, f"/agent/cases/{code}/handed-back")
    assert handed.status_code == 200 and handed.json()["handed_back_at"], handed.text
    api.error(act(api, wang, f"/agent/cases/{code}/handed-back"), 409, "conflict")

    trail = [(e["type"], e["actor"]) for e in api.events() if e["type"].startswith("case.")]
    assert trail == [("case.opened", "cun-wang"), ("case.supplement", "liuxia"), ("case.linked", "cun-wang"),
                     ("case.completed", "liuxia"), ("case.delivered", "cun-wang")]  # fmt: skip
    opened = next(e for e in api.events() if e["type"] == "case.opened")["payload"]
    assert (opened["origin"], opened["point"], opened["case_class"]) == ("agent", POINT, "agent")
    logged = str(api.events())
    assert "张" not in logged and "小华" not in logged and "0013" not in logged, "no name or phone in the log"


def test_the_reports_and_the_export_give_the_agents_share_per_point(api: Api) -> None:
    wang, li = agent(api), agent(api, "cun-li", OTHER_POINT)
    for token in (wang, wang, li):
        taken(api, token)
    liuxia = api.open("liuxia", 1)
    api.issue(item_id=ITEM)
    api.ok(liuxia, 1, "call-next")
    api.serve(liuxia, 1, {"case_class": "immediate"})
    params = {"period": "day", "date": "2026-03-16"}
    report = api.http.get("/reports", params=params, headers=api.bearer(api.manager)).json()["cases"]
    assert (report["totals"]["cases"], report["totals"]["by_agent"], report["totals"]["agent_share"]) == (4, 3, 0.75)
    assert [(r["key"], r["figures"]["cases"], r["share"]) for r in report["by_point"]] == [
        (POINT, 2, 0.5), (OTHER_POINT, 1, 0.25)]  # fmt: skip
    csv = api.http.get("/reports.csv", params=params, headers=api.bearer(api.manager)).content.decode("utf-8-sig")
    assert "代理件占比 Agent share %" in csv and f"代办点 Agent point,{POINT},2," in csv
    assert next(line for line in csv.splitlines() if POINT in line).endswith(",2,50.0"), "half of the day's cases"


def test_only_the_points_agents_see_and_act_on_its_cases(api: Api) -> None:
    wang, li = agent(api), agent(api, "cun-li", OTHER_POINT)
    code = taken(api, wang)["code"]
    assert agent_desk(api, li)["cases"] == [], "another point's agent sees none of it"
    for method, path, body in AGENT_ROUTES[2:]:
        response = api.http.request(method, path.format(code=code), json=body, headers=api.bearer(li))
        api.error(response, 404, "not_found")
    clerk, manager, kiosk = api.staff("liuxia"), api.manager, api.kiosk
    for method, path, body in AGENT_ROUTES:
        url = path.format(code=code)
        api.error(api.http.request(method, url, json=body), 401, "unauthorized")
        for token, words in ((clerk, "仅限村级代办员"), (manager, "仅限村级代办员"), (kiosk, "设备令牌无权")):
            refused = api.http.request(method, url, json=body, headers=api.bearer(token))
            assert words in api.error(refused, 403, "forbidden"), (method, path)
    # The agent is refused on every other staff route of its hall, and manages no case at the desk.
    for method, path in sorted(k for k, calls in hall_routes(api.server.app).items() if deps.current_staff in calls):
        response = api.http.request(method, api.server.url + fill(path, HALL), headers=api.bearer(wang), json=None)
        assert "村级代办员账号只能使用代办页面" in api.error(response, 403, "forbidden"), (method, path)
    me = api.http.get(f"{api.server.url}/api/v1/auth/me", headers=api.bearer(wang)).json()
    assert (me["role"], me["point"], me["halls"]) == ("agent", POINT, [HALL])


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


def test_an_agent_of_another_hall_is_refused(apis: tuple[Api, Api]) -> None:
    here, there = apis
    code = taken(here, agent(here))["code"]
    outsider = there.staff("baiyun-agent", "agent", point=POINT, halls=[OTHER_HALL])  # the same point id, in baiyun
    for method, path, body in AGENT_ROUTES:
        response = here.http.request(method, path.format(code=code), json=body, headers=here.bearer(outsider))
        assert "不属于服务大厅 qingshan" in here.error(response, 403, "forbidden")
    assert agent_desk(there, outsider)["cases"] == []


def test_an_administrator_adds_an_agent_with_its_point(api: Api) -> None:
    root = api.staff("root", "admin")
    base = {"username": "cun-zhao", "display_name": "赵代办", "role": "agent", "password": "a good password"}

    def add(**changes: Any) -> httpx.Response:
        return api.http.post(f"{api.server.url}/api/v1/staff", json={**base, **changes}, headers=api.bearer(root))

    assert "须指定代办点" in api.error(add(), 400, "bad_request")
    assert "no agent point 'nowhere'" in api.error(add(point="nowhere"), 400, "bad_request")
    assert "only a village agent, has a point" in api.error(add(role="clerk", point=POINT), 400, "bad_request")
    api.error(add(point="<script>"), 422)
    added = add(point="center-sit-in")
    assert added.status_code == 201 and (added.json()["point"], added.json()["halls"]) == ("center-sit-in", [HALL])
    change = api.http.patch(f"{api.server.url}/api/v1/staff/cun-zhao", json={"role": "clerk"}, headers=api.bearer(root))
    assert "代办员账号不能改为其他角色" in api.error(change, 400, "bad_request")
    login = {"username": "cun-zhao", "password": "a good password"}
    token = api.http.post(f"{api.server.url}/api/v1/auth/login", json=login).json()["access_token"]
    sit_in = taken(api, token)
    assert sit_in["point"] == "center-sit-in" and agent_desk(api, token)["point"]["sit_in"] is True


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_input_on_every_new_field_changes_nothing(api: Api, value: str) -> None:
    wang = agent(api)
    code = taken(api, wang)["code"]
    liuxia = api.open("liuxia", 1)
    seq = api.seq()
    bad_takes = [
        {"villager_name": value}, {"phone": value}, {"item_id": value}, {"collected": [value]},
        {"collected": [-1]}, {"collected": [50]}, {"collected": list(range(51))}, {"consent": False},
        {"consent": value}, {"villager_name": "<script>alert(1)</script>"}, {"villager_name": "张" * 33},
        {"villager_name": "13800138000"}, {"extra": 1},
    ]  # fmt: skip
    for changes in bad_takes:
        assert take(api, wang, **changes).status_code == 422, changes
    assert take(api, wang, collected=[7]).status_code == 400, "the item has 4 materials"
    assert take(api, wang, item_id="no-such-item").status_code == 404
    for body in ({"materials": [value]}, {"materials": []}, {"materials": ["x"] * 21}, {"materials": "x"}):
        assert act(api, liuxia, f"/cases/{code}/supplement", body).status_code == 422, body
    for body in ({"brought": [value]}, {"brought": []}, {"brought": [-1]}, {"brought": [0], "x": 1}):
        assert act(api, wang, f"/agent/cases/{code}/resubmit", body).status_code == 422, body
    for path in (f"/agent/cases/{quote(value, safe='', errors='replace')}", "/agent/cases/" + "A" * 30):
        assert api.http.get(path, headers=api.bearer(wang)).status_code in (404, 422)
    assert api.seq() == seq, "nothing changed"
    assert len(agent_desk(api, wang)["cases"]) == 1
