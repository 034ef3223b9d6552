"""The case ledger wired into public supervision, against a real server on both backends: the public case lookup
on /q/{hall} (its states, no personal data, hostile codes, the rate limit, another hall's codes), a complaint's case
code checked against the hall's cases, the published figures from the case figures, and the overdue complaint's
alert on the manager's wall."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from config.schema import HallConfig
from queue_server.api import ratelimit
from tests.queue_server.test_api_cases import ITEM, PHONE, finished, post, relogin
from tests.queue_server.test_api_complaints import BODY, file, filed, listed, month_report, move
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.halls import OTHER_HALL, two_halls
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

PUBLIC_FIELDS = {
    "code", "hall", "item_name_zh", "item_name_en", "class_zh", "state", "state_zh", "state_en", "overdue",
    "opened_day", "due_on", "due_provisional", "closed_day", "window", "window_name_zh", "window_name_en",
    "department", "result_zh", "missing_materials",
}  # fmt: skip


def look_up(api: Api, code: str, hall: str | None = None) -> httpx.Response:
    base = f"{api.server.url}/api/v1/halls/{hall}" if hall else ""
    return api.http.get(f"{base}/case-lookup/{code}")


def public(api: Api, code: str) -> dict[str, Any]:
    answer = look_up(api, code)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == PUBLIC_FIELDS, "nothing more than the progress"
    return dict(answer.json())


def dashed(code: str) -> str:
    return f"{code[:3].lower()}-{code[3:6]}-{code[6:].lower()}"


def alerts(api: Api) -> dict[str, dict[str, Any]]:
    answer = api.http.get("/wall", headers=api.bearer(api.manager))
    assert answer.status_code == 200, answer.text
    return {a["kind"]: a for a in answer.json()["alerts"]}


# --- the public lookup ---------------------------------------------------------------------------------------


def test_the_lookup_follows_the_case_to_completion_and_shows_no_personal_data(api: Api) -> None:
    answer = finished(api, {"case_class": "promised", "contact_phone": PHONE})
    code, clerk = answer["case_code"], api.server.tokens["liuxia"]
    seen = public(api, code)
    assert (seen["state"], seen["state_zh"], seen["state_en"], seen["overdue"]) == (
        "accepted", "受理", "accepted", False)  # fmt: skip
    assert (seen["due_on"], seen["opened_day"], seen["closed_day"]) == (answer["due_date"], "2026-03-16", None)
    assert (seen["window"], seen["window_name_zh"], seen["class_zh"]) == (1, "计生服务窗口", "承诺件")
    catalog = api.http.get("/catalog").json()
    item = next(i for i in catalog["items"] if i["id"] == ITEM)
    assert (seen["item_name_zh"], seen["department"]) == (item["name_zh"], item["department"])
    assert public(api, dashed(code)) == seen, "a code typed in lower case, with dashes, finds the same case"

    handed = post(api, code, "hand", {"to_department": "县卫健局", "reason": "需县级审核"}, clerk)
    assert handed.status_code == 200, handed.text
    seen = public(api, code)
    assert (seen["state_zh"], seen["department"]) == ("办理中", "县卫健局")
    done = post(api, code, "complete", {"result": "mail", "note": "已寄往刘家村"}, clerk)
    assert done.status_code == 200, done.text
    seen = public(api, code)
    assert (seen["state"], seen["state_zh"], seen["closed_day"], seen["result_zh"]) == (
        "completed", "办结", "2026-03-16", "邮寄送达")  # fmt: skip
    text = look_up(api, code).text
    for private in ("138", "8000", "liuxia", answer["ticket"]["number"], "需县级审核", "刘家村", "contact"):
        assert private not in text, private


def test_every_state_reads_as_the_public_expects(api: Api, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))  # 清明 4–6 April
    promised = finished(api, {"case_class": "promised", "promised_days": 3})["case_code"]
    supplement = finished(api, {"case_class": "supplement", "missing_materials": ["户口簿", "结婚证"]})["case_code"]
    returned = finished(api, {"case_class": "returned", "reason": "不属于本中心受理范围"})["case_code"]
    refused = finished(api, {"case_class": "promised"})["case_code"]
    clerk = api.server.tokens["liuxia"]
    closed = post(api, refused, "close", {"state": "rejected", "reason": "材料虚假"}, clerk)
    assert closed.status_code == 200, closed.text

    waiting = public(api, supplement)
    assert (waiting["state_zh"], waiting["due_on"]) == ("受理", None)
    assert waiting["missing_materials"] == ["户口簿", "结婚证"]
    assert (public(api, returned)["state_zh"], public(api, returned)["closed_day"]) == ("退回", "2026-04-02")
    assert public(api, refused)["state_zh"] == "不予受理"
    assert "不属于本中心" not in look_up(api, returned).text and "材料虚假" not in look_up(api, refused).text

    assert public(api, promised)["due_on"] == "2026-04-08"
    clock.set(dt.datetime(2026, 4, 8, 23, 59, tzinfo=SHANGHAI))  # its due day: not overdue yet
    assert public(api, promised)["overdue"] is False
    clock.set(dt.datetime(2026, 4, 9, 0, 1, tzinfo=SHANGHAI))  # the next day: 逾期
    late = public(api, promised)
    assert (late["state"], late["state_zh"], late["state_en"], late["overdue"]) == (
        "accepted", "逾期", "overdue", True)  # fmt: skip
    relogin(api, "liuxia")
    assert post(api, promised, "complete", {"result": "window"}, api.server.tokens["liuxia"]).status_code == 200
    assert (public(api, promised)["state_zh"], public(api, promised)["overdue"]) == ("办结", False)


HOSTILE = ["<script>", "..%2F..%2Fetc", "A" * 25, "ABC%00DEF", "' OR 1=1 --", "-ACDEFGHJK", "%E2%80%AE"]
HOSTILE.append("ＡＢＣＤＥＦＧＨＪ")  # full-width letters


@pytest.mark.parametrize(
    "code",
    HOSTILE,
    ids=["script", "path", "long", "nul", "sql", "leading-dash", "bidi", "fullwidth"],
)
def test_hostile_case_codes_are_refused_and_change_nothing(api: Api, code: str) -> None:
    finished(api, {"case_class": "promised"})
    seq = api.seq()
    answer = look_up(api, code)
    assert answer.status_code in (404, 422), answer.text
    assert "<script>" not in answer.text and len(answer.text) < 5000
    assert api.seq() == seq


@pytest.mark.parametrize("code", ["XXXXXXXXX", "ACDEFGHJK", "acd-efg-hjk", "0O1IL25SB", "ACDEF"])
def test_an_unknown_code_is_404_in_both_languages(api: Api, code: str) -> None:
    finished(api, {"case_class": "promised"})
    message = api.error(look_up(api, code), 404, "not_found")
    assert "没有查到该办件编号" in message and "no case with this code" in message


@pytest.fixture
def halls(start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], tmp_path: Path) -> Api:
    return make_api(start_hall(two_halls(tmp_path / "config")))


def test_a_code_of_another_hall_reads_as_one_that_does_not_exist(halls: Api) -> None:
    code = finished(halls, {"case_class": "promised"})["case_code"]
    assert public(halls, code)["hall"] == halls.hall
    theirs, made_up = look_up(halls, code, OTHER_HALL), look_up(halls, "XXXXXXXXX", OTHER_HALL)
    assert (theirs.status_code, theirs.json()) == (made_up.status_code, made_up.json()) == (404, made_up.json())
    # A complaint filed in the other hall cannot name it either, and is refused as a made-up code is.
    other = f"{halls.server.url}/api/v1/halls/{OTHER_HALL}/complaints"
    named, typo = (halls.http.post(other, json={**BODY, "case_code": c}) for c in (code, "XXXXXXXXX"))
    assert named.status_code == typo.status_code == 422 and named.json()["error"]["code"] == "unknown_case"


def test_looking_codes_up_is_rate_limited_per_address_and_per_code(
    monkeypatch: pytest.MonkeyPatch, start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:  # fmt: skip
    monkeypatch.setitem(ratelimit.RULES, "case", ratelimit.Rule(per_ip=ratelimit.Rate(6, 0.01),
                                                                per_key=ratelimit.Rate(3, 0.01)))  # fmt: skip
    api = make_api(start_hall(hall_config))
    code = finished(api, {"case_class": "promised"})["case_code"]
    spellings = [code, code.lower(), dashed(code), code]
    statuses = [look_up(api, c).status_code for c in spellings]
    assert statuses == [200, 200, 200, 429], "every spelling of one code shares its bucket"
    refused = look_up(api, code)
    assert "请求过于频繁" in api.error(refused, 429, "too_many_requests") and int(refused.headers["Retry-After"]) >= 1
    guesses = [look_up(api, guess).status_code for guess in ("XXXXXXXX3", "XXXXXXXX4")]
    assert guesses == [404, 429], "per address: six in all"
    assert api.http.get("/published").status_code == 200, "the other public routes keep their own buckets"


def test_the_route_documents_every_status_it_answers(api: Api) -> None:
    paths = httpx.get(f"{api.server.url}/openapi.json", trust_env=False).json()["paths"]
    lookup = paths["/api/v1/halls/{hall}/case-lookup/{code}"]["get"]
    assert set(lookup["responses"]) == {"200", "404", "422", "429", "503"}
    assert "Authorization" not in str(lookup.get("parameters")), "public: no login"


# --- complaints about a case ---------------------------------------------------------------------------------


def test_a_complaints_case_code_is_checked_and_the_manager_sees_the_case(api: Api) -> None:
    code = finished(api, {"case_class": "promised"})["case_code"]
    seq = api.seq()
    for unknown in ("XXXXXXXXX", "AB-2026-0001", "ACDE"):
        message = api.error(file(api, {**BODY, "case_code": unknown}), 422, "unknown_case")
        assert "没有查到办件编号" in message and "no case with this code" in message
    assert api.seq() == seq and listed(api)["summary"]["count"] == 0, "a refused complaint changes nothing"

    mine = filed(api, case_code=dashed(code), window=1)
    assert mine["case_code"] == code, "stored as the case ledger spells it"
    [record] = listed(api)["complaints"]
    linked = record["case"]
    assert (linked["code"], linked["state_zh"], linked["clerk"], linked["window"]) == (code, "受理", "liuxia", 1)
    assert post(api, code, "complete", {"result": "window"}, api.server.tokens["liuxia"]).status_code == 200
    assert listed(api)["complaints"][0]["case"]["state_zh"] == "办结"
    answered = move(api, record["id"], "answer", {"answer": "已督促窗口办结，请到窗口领取。"})
    assert answered.status_code == 200 and answered.json()["case"]["code"] == code
    assert filed(api)["case_code"] is None and listed(api)["complaints"][0]["case"] is None


def test_an_overdue_complaint_raises_an_alert_on_the_wall(api: Api, clock: FakeClock) -> None:
    mine = filed(api)  # Monday 16 March: due Monday 23 March
    assert "complaint_overdue" not in alerts(api)
    clock.set(dt.datetime(2026, 3, 23, 17, 0, tzinfo=SHANGHAI))  # its due day: no alert yet
    api.server.login("director")
    assert "complaint_overdue" not in alerts(api)
    clock.set(dt.datetime(2026, 3, 24, 8, 30, tzinfo=SHANGHAI))
    api.server.login("director")
    filed(api)  # a new one is not overdue
    alert = alerts(api)["complaint_overdue"]
    assert (alert["count"], alert["codes"]) == (1, [])
    assert "逾期未答复" in alert["message_zh"] and "overdue" in alert["message_en"]
    wall = api.http.get("/wall", headers=api.bearer(api.manager)).text
    assert mine["code"] not in wall and "态度生硬" not in wall, "the complainant's key and text stay off the wall"
    record = next(c for c in listed(api)["complaints"] if c["overdue"])
    assert move(api, record["id"], "answer", {"answer": "已处理，向您致歉。"}).status_code == 200
    assert "complaint_overdue" not in alerts(api), "answered late: no longer waiting"


# --- the published figures -----------------------------------------------------------------------------------


def test_the_published_figures_are_the_case_figures_of_the_managers_report(api: Api, clock: FakeClock) -> None:
    finished(api, {"case_class": "immediate"})  # 办结 on the spot, on time
    late = finished(api, {"case_class": "promised", "promised_days": 1})["case_code"]  # due Tuesday 17 March
    finished(api, {"case_class": "promised"})  # still open at the month's end
    clock.set(dt.datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI))
    relogin(api, "liuxia")
    assert post(api, late, "complete", {"result": "window"}, api.server.tokens["liuxia"]).status_code == 200
    march = month_report(api)["cases"]["totals"]
    assert (march["cases"], march["completed"], march["on_time"]) == (3, 2, 1)
    clock.set(dt.datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    published = api.http.get("/published").json()
    assert (published["cases"], published["completed"]) == (march["cases"], march["completed"]) == (3, 2)
    assert (published["completion_rate"], published["on_time_rate"]) == (
        march["completion_rate"], march["on_time_rate"]) == (0.6667, 0.5)  # fmt: skip
    assert late not in str(published) and "liuxia" not in str(published)
