"""The case ledger (办件) against a real server on both backends: every finished visit is a case; the desk's
actions (办结, extend, hand on, 补办 link), 逾期 at the day boundary with the wall's alert, the figures."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest

from queue_server.domain.cases import CODE_ALPHABET, CODE_LENGTH
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.server import PASSWORD

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

ITEM = "jisheng-childcare-subsidy"  # 承诺件, 20 working days in the catalogue
PHONE = "138 0013 8000"


def finished(api: Api, case: dict[str, Any], clerk: str = "liuxia", window: int = 1) -> dict[str, Any]:
    """A ticket for ITEM issued, called, started and finished at `window` with `case`; the finish's answer."""
    token = api.server.tokens.get(clerk) or api.open(clerk, window)
    api.issue(item_id=ITEM)
    api.ok(token, window, "call-next")
    answer = api.serve(token, window, case)
    assert answer["case_code"], answer
    return dict(answer)


def relogin(api: Api, *usernames: str) -> None:
    """Log in again after the clock jumped days ahead (sessions expire)."""
    for username in usernames:
        answer = api.http.post(f"{api.server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        api.server.tokens[username] = answer.json()["access_token"]


def case(api: Api, code: str, token: str | None = None) -> dict[str, Any]:
    response = api.http.get(f"/cases/{code}", headers=api.bearer(token or api.manager))
    assert response.status_code == 200, response.text
    return dict(response.json())


def post(api: Api, code: str, action: str, body: Any, token: str | None) -> httpx.Response:
    return api.http.post(f"/cases/{code}/{action}", json=body, headers=api.bearer(token))


def desk(api: Api, token: str) -> dict[str, Any]:
    response = api.http.get("/cases/desk", headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_every_finished_visit_is_a_case_with_a_public_code_and_a_masked_phone(api: Api) -> None:
    on_the_spot = finished(api, {"case_class": "immediate"})
    promised = finished(api, {"case_class": "promised", "contact_phone": PHONE})
    codes = {on_the_spot["case_code"], promised["case_code"]}
    assert len(codes) == 2 and all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    done = case(api, on_the_spot["case_code"])
    assert (done["state"], done["state_zh"], done["result"], done["case_class"]) == (
        "completed", "办结", "window", "immediate")  # fmt: skip
    open_case = case(api, promised["case_code"])
    assert (open_case["state_zh"], open_case["due_on"]) == ("受理", promised["due_date"])
    assert open_case["contact"] == "138****8000"
    assert "0013" not in str(api.events()), "the phone is never in the event log"
    mine = desk(api, api.server.tokens["liuxia"])
    assert [c["code"] for c in mine["mine"]] == [promised["case_code"]], "an immediate case is closed already"
    # A code typed in lower case or with a dash finds the same case; a made-up one finds nothing.
    code = promised["case_code"]
    assert case(api, f"{code[:4].lower()}-{code[4:]}")["code"] == code
    api.error(api.http.get("/cases/XXXXXXXXX", headers=api.bearer(api.manager)), 404, "not_found")


def test_a_promised_case_due_date_skips_the_qingming_holiday(api: Api, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))  # Thursday; 4–6 April is 清明
    answer = finished(api, {"case_class": "promised", "promised_days": 3})
    # Friday 3 April is day 1; Saturday to Monday are the holiday; Tuesday 7 is day 2, Wednesday 8 day 3.
    assert answer["due_date"] == "2026-04-08"
    assert case(api, answer["case_code"])["due_on"] == "2026-04-08"


def test_a_case_becomes_overdue_at_the_day_boundary_and_the_wall_says_so(api: Api, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))
    code = finished(api, {"case_class": "promised", "promised_days": 3})["case_code"]
    clerk = api.server.tokens["liuxia"]

    def alerts() -> dict[str, Any]:
        response = api.http.get("/wall", headers=api.bearer(api.manager))
        assert response.status_code == 200, response.text
        wall = response.json()
        return {a["kind"]: a for a in wall["alerts"] if a["kind"].startswith("case_")}

    assert alerts() == {}
    clock.set(dt.datetime(2026, 4, 7, 10, 0, tzinfo=SHANGHAI))  # due the next working day: soon
    relogin(api, "director", "liuxia")
    assert alerts()["case_due_soon"]["codes"] == [code]
    clock.set(dt.datetime(2026, 4, 8, 23, 59, tzinfo=SHANGHAI))  # the due day's last minute: due today
    relogin(api, "director", "liuxia")
    clerk = api.server.tokens["liuxia"]
    found = desk(api, clerk)
    assert [c["code"] for c in found["due_today"]] == [code] and found["overdue"] == []
    clock.set(dt.datetime(2026, 4, 9, 0, 1, tzinfo=SHANGHAI))  # the next day: 逾期
    found = desk(api, clerk)
    assert [c["code"] for c in found["overdue"]] == [code] and found["overdue"][0]["state_zh"] == "逾期"
    overdue = alerts()["case_overdue"]
    assert overdue["count"] == 1 and code in overdue["message_zh"] and "已逾期" in overdue["message_zh"]
    assert [c["code"] for c in api.http.get("/cases", params={"view": "overdue"},
                                             headers=api.bearer(api.manager)).json()["cases"]] == [code]  # fmt: skip


def test_extending_is_audited_and_completing_records_the_result(api: Api, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))
    code = finished(api, {"case_class": "promised", "promised_days": 3})["case_code"]
    clerk, other = api.server.tokens["liuxia"], api.open("zhaogang", 2)
    api.error(post(api, code, "extend", {"days": 2, "reason": "需现场核查"}, other), 403, "forbidden")
    api.error(post(api, code, "extend", {"days": 2, "reason": "  "}, clerk), 422)
    extended = post(api, code, "extend", {"days": 2, "reason": "需现场核查"}, clerk)
    assert extended.status_code == 200, extended.text
    assert extended.json()["due_on"] == "2026-04-10"
    assert extended.json()["extensions"][0] | {"at": None} == {
        "days": 2,
        "from_due": "2026-04-08",
        "to_due": "2026-04-10",
        "reason": "需现场核查",
        "by": "liuxia",
        "at": None,
    }
    audit = [e for e in api.events() if e["type"] == "case.extended"]
    assert len(audit) == 1 and audit[0]["actor"] == "liuxia" and audit[0]["payload"]["reason"] == "需现场核查"
    clock.set(dt.datetime(2026, 4, 9, 15, 0, tzinfo=SHANGHAI))
    relogin(api, "director", "liuxia")
    clerk = api.server.tokens["liuxia"]
    done = post(api, code, "complete", {"result": "mail"}, clerk)
    assert done.status_code == 200 and (done.json()["state"], done.json()["result_zh"]) == ("completed", "邮寄送达")
    api.error(post(api, code, "complete", {"result": "mail"}, clerk), 409, "illegal_case_move")
    api.error(post(api, code, "extend", {"days": 1, "reason": "x"}, clerk), 409, "illegal_case_move")
    report = api.http.get("/reports", params={"period": "month", "date": "2026-04-09"},
                          headers=api.bearer(api.manager)).json()["cases"]  # fmt: skip
    assert report["totals"] | {"working_days": 0} == {
        "cases": 1, "completed": 1, "on_time": 1, "returned": 0, "rejected": 0, "completion_rate": 1.0,
        "on_time_rate": 1.0, "mean_days": 4.0, "working_days": 0, "by_agent": 0, "agent_share": 0.0}  # fmt: skip
    assert [(r["key"], r["figures"]["completed"]) for r in report["by_item"]] == [(ITEM, 1)]
    assert [(r["key"], r["figures"]["completed"]) for r in report["by_clerk"]] == [("liuxia", 1)]
    csv = api.http.get("/reports.csv", params={"period": "month", "date": "2026-04-09"},
                       headers=api.bearer(api.manager)).content.decode("utf-8-sig")  # fmt: skip
    assert "[办件 Cases" in csv and f"事项 Item,{ITEM},1,1,100.0,1,100.0,4.0,0,0" in csv


def test_joint_case_legs_say_who_when_and_how_long(api: Api, clock: FakeClock) -> None:
    answer = finished(api, {"case_class": "joint", "next_department": "县卫健局"})
    code, clerk = answer["case_code"], api.server.tokens["liuxia"]
    first = case(api, code)
    assert first["state"] == "in_progress" and first["department"] == "县卫健局"
    assert first["legs"][0]["to_department"] == "县卫健局" and first["legs"][0]["ended_at"] is None
    clock.advance(hours=3)
    handed = post(api, code, "hand", {"to_window": 3, "reason": "民政审核"}, clerk)
    assert handed.status_code == 200, handed.text
    legs = handed.json()["legs"]
    assert [(leg["to_department"], leg["to_window"], leg["by"]) for leg in legs] == [
        ("县卫健局", None, "liuxia"), (None, 3, "liuxia")]  # fmt: skip
    assert legs[0]["hours"] == 3.0 and legs[0]["ended_at"] is not None
    # Now at window 3: its clerk may act, the first clerk no longer handles it.
    wangfang = api.open("wangfang", 3)
    assert [c["code"] for c in desk(api, wangfang)["mine"]] == [code]
    api.error(post(api, code, "hand", {"to_window": 1}, clerk), 403, "forbidden")
    api.error(post(api, code, "hand", {"to_window": 1, "to_department": "x"}, wangfang), 422)
    api.error(post(api, code, "hand", {"to_window": 99}, wangfang), 404, "not_found")
    assert post(api, code, "complete", {"result": "agent"}, wangfang).json()["legs"][1]["ended_at"] is not None


def test_a_supplement_case_is_linked_at_the_kiosk_and_the_clerk_sees_what_was_missing(
    api: Api, clock: FakeClock
) -> None:
    answer = finished(api, {"case_class": "supplement", "missing_materials": ["户口簿", "结婚证"]})
    code, clerk = answer["case_code"], api.server.tokens["liuxia"]
    assert case(api, code)["due_on"] is None, "no clock runs while the materials are missing"
    clock.advance(days=1)  # Tuesday: the citizen is back and scans the notice's QR
    relogin(api, "director", "liuxia")
    clerk = api.server.tokens["liuxia"]
    headers = {**api.bearer(api.kiosk), "Idempotency-Key": "back-1"}
    back = api.http.post(f"/cases/{code}/return-visit", headers=headers)
    assert back.status_code == 201, back.text
    assert back.json()["missing_materials"] == ["户口簿", "结婚证"]
    again = api.http.post(f"/cases/{code}/return-visit", headers=headers)  # the kiosk's retry: the same ticket
    assert again.json()["ticket"]["number"] == back.json()["ticket"]["number"]
    linked = case(api, code)
    assert linked["state"] == "in_progress" and [v["via"] for v in linked["visits"]] == ["kiosk"]
    assert linked["due_on"] == "2026-04-15", "the item's 20 working days from the return visit (17 March)"
    api.ok(clerk, 1, "open", {"post": "A"})
    api.ok(clerk, 1, "call-next")
    current = api.http.get("/console/desk", headers=api.bearer(clerk)).json()["current"]
    assert current["number"] == back.json()["ticket"]["number"]
    assert current["case"]["code"] == code and current["case"]["missing_materials"] == ["户口簿", "结婚证"]
    api.serve(clerk, 1, {"case_class": "immediate"})  # done on the spot this time: the same case is completed
    assert case(api, code)["state"] == "completed"
    assert sum(1 for e in api.events() if e["type"] == "case.opened") == 1, "the return visit opened no new case"


def test_a_clerk_links_a_ticket_by_its_number(api: Api) -> None:
    code = finished(api, {"case_class": "supplement", "missing_materials": ["户口簿"]})["case_code"]
    clerk = api.server.tokens["liuxia"]
    ticket = api.issue(item_id=ITEM)
    api.error(post(api, code, "link", {"number": "A999"}, clerk), 404, "not_found")
    linked = post(api, code, "link", {"number": ticket["number"]}, clerk)
    assert linked.status_code == 200 and linked.json()["visits"][0]["via"] == "clerk"


ROUTES = [
    ("GET", "/cases/desk", None),
    ("GET", "/cases", None),
    ("GET", "/cases/{code}", None),
    ("POST", "/cases/{code}/complete", {"result": "window"}),
    ("POST", "/cases/{code}/extend", {"days": 1, "reason": "核查"}),
    ("POST", "/cases/{code}/hand", {"to_department": "县民政局"}),
    ("POST", "/cases/{code}/close", {"state": "rejected", "reason": "不符合条件"}),
    ("POST", "/cases/{code}/link", {"number": "A001"}),
]


def test_markup_in_a_reason_is_kept_as_text(api: Api) -> None:
    code = finished(api, {"case_class": "promised"})["case_code"]
    reason = "<script>alert(1)</script>"
    extended = post(api, code, "extend", {"days": 1, "reason": reason}, api.server.tokens["liuxia"])
    assert extended.status_code == 200 and extended.json()["extensions"][0]["reason"] == reason


def test_who_may_call_each_case_route(api: Api) -> None:
    code = finished(api, {"case_class": "promised"})["case_code"]
    anonymous, kiosk = None, api.kiosk
    for method, path, body in ROUTES:
        url = path.format(code=code)
        api.error(api.http.request(method, url, json=body), 401, "unauthorized")
        api.error(api.http.request(method, url, json=body, headers=api.bearer(kiosk)), 403, "forbidden")
        assert anonymous is None
    outsider = api.staff("zhaogang")  # a clerk of the hall who does not handle the case
    assert api.http.get("/cases", headers=api.bearer(outsider)).status_code == 403, "the list is for managers"
    assert api.http.get(f"/cases/{code}", headers=api.bearer(outsider)).status_code == 200
    for method, path, body in ROUTES[3:7]:
        api.error(api.http.request(method, path.format(code=code), json=body, headers=api.bearer(outsider)), 403)
    assert post(api, code, "hand", {"to_department": "县民政局"}, api.manager).status_code == 200, "a manager may"
    # The kiosk route refuses staff and anonymous callers.
    for token in (None, api.manager):
        headers = {**api.bearer(token), "Idempotency-Key": "k-1"}
        assert api.http.post(f"/cases/{code}/return-visit", headers=headers).status_code in (401, 403)
    api.error(api.http.post(f"/cases/{code}/return-visit", headers=api.bearer(kiosk)), 400, "bad_request")


HOSTILE = ["a\x00b", "x" * 401, "\u202etxt", "line\r\nbreak", "\u200b" * 401]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_input_on_every_new_field_changes_nothing(api: Api, value: str) -> None:
    code = finished(api, {"case_class": "promised"})["case_code"]
    clerk = api.server.tokens["liuxia"]
    seq = api.seq()
    bodies = {
        "extend": [{"days": 1, "reason": value}, {"days": 0, "reason": "ok"}, {"days": 31, "reason": "ok"},
                   {"days": "1; drop", "reason": "ok"}],
        "hand": [{"to_department": value}, {"to_window": 0}, {"to_window": "<b>"}, {"to_department": "x", "y": 1}],
        "close": [{"state": "rejected", "reason": value}, {"state": "completed", "reason": "ok"}],
        "complete": [{"result": value}, {"result": "window", "note": value}],
        "link": [{"number": value}],
    }  # fmt: skip
    for action, cases in bodies.items():
        for body in cases:
            response = post(api, code, action, body, clerk)
            assert response.status_code == 422, (action, body, response.text)
    for path in (f"/cases/{quote(value, safe='', errors='replace')}", "/cases/" + "A" * 30):
        assert api.http.get(path, headers=api.bearer(clerk)).status_code in (404, 422)
    finish = {"case_class": "promised", "contact_phone": value}
    token = clerk
    api.issue(item_id=ITEM)
    api.ok(token, 1, "call-next")
    api.ok(token, 1, "start")
    assert api.act(token, 1, "finish", finish).status_code == 422
    assert case(api, code)["state"] == "accepted" and api.seq() == seq + 3, (
        "only the issue, the call and the start happened"
    )
