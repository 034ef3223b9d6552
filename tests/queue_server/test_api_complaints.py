"""投诉举报 and the published figures against a real server, on SQLite and PostgreSQL: a complaint answered in
time and one answered late, who may do what, hostile input on every public field, the rate limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from queue_server.protocol import ComplaintMessage
from queue_server.store.tables import complaints
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.halls import OTHER_HALL, two_halls
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api, Board

PHONE = "139 0000 1234"
BODY = {"category": "attitude", "text": "窗口工作人员态度生硬，不愿解释材料要求。"}


def file(api: Api, body: Any) -> httpx.Response:
    return api.http.post("/complaints", json=body)


def filed(api: Api, **fields: Any) -> dict[str, Any]:
    answer = file(api, {**BODY, **fields})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def read(api: Api, code: str) -> httpx.Response:
    return api.http.get(f"/complaints/{code}")


def listed(api: Api, token: str | None = None, **query: Any) -> dict[str, Any]:
    answer = api.http.get("/complaints", params=query, headers=api.bearer(token or api.manager))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def move(api: Api, complaint_id: int, step: str, body: Any = None, token: str | None = None) -> httpx.Response:
    return api.http.post(f"/complaints/{complaint_id}/{step}", json=body, headers=api.bearer(token or api.manager))


def month_report(api: Api, date: str = "2026-03-16") -> dict[str, Any]:
    answer = api.http.get("/reports", params={"period": "month", "date": date}, headers=api.bearer(api.manager))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# --- the life of a complaint ---------------------------------------------------------------------------------


def test_a_complaint_answered_within_its_deadline(api: Api, clock: FakeClock, board: Callable[..., Board]) -> None:
    watcher = board(since=api.seq())
    mine = filed(api, window=1)  # Monday 2026-03-16: due five working days later, Monday 2026-03-23
    assert len(mine["code"]) == 10 and mine["state"] == "open" and mine["state_zh"] == "已受理"
    assert (mine["day"], mine["due_on"], mine["overdue"], mine["late"]) == ("2026-03-16", "2026-03-23", False, None)
    assert mine["contact_masked"] is None and mine["answer"] is None
    assert read(api, mine["code"].lower()).json() == mine  # the code is case-insensitive

    [record] = listed(api)["complaints"]
    assert (record["state"], record["window"], record["text"], record["contact"]) == ("open", 1, BODY["text"], None)
    assert "code" not in record  # the complainant's key is not on the managers' list
    assert move(api, record["id"], "handle").json()["state"] == "handling"
    assert read(api, mine["code"]).json()["state_zh"] == "处理中"
    api.error(move(api, record["id"], "handle"), 409, "illegal_transition")

    clock.advance(days=4)  # Friday 2026-03-20
    api.server.login("director")  # a login lasts 12 hours: the manager logs in again
    reply = "经核实，已对该窗口人员进行批评教育，并重新说明了材料要求。"
    answered = move(api, record["id"], "answer", {"answer": reply})
    assert answered.status_code == 200, answered.text
    assert (answered.json()["state"], answered.json()["late"], answered.json()["answered_on"]) == (
        "answered", False, "2026-03-20"
    )  # fmt: skip
    seen = read(api, mine["code"]).json()
    assert (seen["state_zh"], seen["answer"], seen["late"], seen["overdue"]) == ("已答复", reply, False, False)
    api.error(move(api, record["id"], "answer", {"answer": "again"}), 409, "illegal_transition")

    messages: list[ComplaintMessage] = []
    while len(messages) < 3:  # and the day's close between them
        message = watcher.recv()
        if isinstance(message, ComplaintMessage):
            messages.append(message)
            assert set(message.model_dump()) == {"type", "seq", "at", "event"}  # nothing else for the boards
    assert [m.event for m in messages] == ["filed", "handling", "answered"]
    logged = [e for e in api.events() if e["type"].startswith("complaint.")]
    assert [e["type"] for e in logged] == ["complaint.filed", "complaint.handling", "complaint.answered"]
    assert logged[0]["window"] == 1 and logged[2]["payload"]["late"] is False
    for event in logged:  # the log is shipped to the county and never erased: nothing typed by anyone in it
        for private in (mine["code"], "态度生硬", "批评教育"):
            assert private not in str(event)

    figures = month_report(api)["complaints"]
    assert figures == {"received": 1, "answered": 1, "answered_on_time": 1, "answered_late": 0, "open": 0,
                       "overdue": 0, "on_time_rate": 1.0}  # fmt: skip


def test_a_complaint_answered_after_its_deadline_is_late(api: Api, clock: FakeClock) -> None:
    mine = filed(api, category="efficiency", contact=PHONE)
    assert mine["contact_masked"] == "139****1234"
    [record] = listed(api)["complaints"]
    assert (record["contact"], record["contact_masked"]) == (PHONE, "139****1234")  # to call back while open

    clock.set(dt.datetime(2026, 3, 23, 17, 0, tzinfo=SHANGHAI))  # its due day: not overdue yet
    api.server.login("director")  # a login lasts 12 hours: the manager logs in again
    assert listed(api)["complaints"][0]["overdue"] is False
    clock.set(dt.datetime(2026, 3, 24, 9, 30, tzinfo=SHANGHAI))  # the day after: overdue (逾期)
    api.server.login("director")
    overdue = listed(api)
    assert overdue["summary"]["overdue"] == 1 and overdue["complaints"][0]["overdue"] is True
    assert read(api, mine["code"]).json()["overdue"] is True
    assert month_report(api)["complaints"]["overdue"] == 1

    answered = move(api, record["id"], "answer", {"answer": "已督促窗口加快办理，向您致歉。"}).json()
    assert (answered["late"], answered["answered_on"], answered["overdue"]) == (True, "2026-03-24", False)
    assert (answered["contact"], answered["contact_masked"]) == (None, "139****1234")  # erased with the answer
    seen = read(api, mine["code"]).json()
    assert (seen["late"], seen["state"]) == (True, "answered")
    summary = listed(api)["summary"]
    assert (summary["answered"], summary["answered_late"], summary["overdue"]) == (1, 1, 0)
    figures = month_report(api)["complaints"]
    assert (figures["answered_late"], figures["answered_on_time"], figures["on_time_rate"]) == (1, 0, 0.0)
    with api.server.store.engine.connect() as conn:
        stored = conn.execute(select(complaints.c.contact, complaints.c.contact_masked)).one()
    assert tuple(stored) == (None, "139****1234")  # the full number is gone from the database itself


def test_the_published_figures_are_last_months_report(api: Api, clock: FakeClock) -> None:
    clerk = api.open("liuxia", 1)
    for _ in range(2):
        api.issue("jisheng")
        api.ok(clerk, 1, "call-next")
        api.serve(clerk, 1)
    filed(api)
    march = month_report(api)
    clock.set(dt.datetime(2026, 4, 2, 10, 0, tzinfo=SHANGHAI))
    published = api.http.get("/published").json()
    assert (published["month"], published["label_zh"], published["published_on"]) == (
        "2026-03",
        "2026年3月",
        "2026-04-01",
    )
    assert published["next_on"] == "2026-05-01"
    totals, cases = march["totals"], march["cases"]["totals"]
    assert (published["served"], published["avg_wait_s"]) == (totals["served"], totals["avg_wait_s"])
    assert (published["cases"], published["completion_rate"], published["on_time_rate"]) == (
        cases["cases"], cases["completion_rate"], cases["on_time_rate"]) == (2, 1.0, 1.0)  # fmt: skip
    assert published["satisfaction_rate"] is None  # nothing invented: no rating
    assert published["complaints"]["received"] == 1
    for private in ("liuxia", "A001", BODY["text"]):
        assert private not in str(published)


# --- who may do what ----------------------------------------------------------------------------------------


@pytest.fixture
def halls(start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], tmp_path: Path) -> Api:
    return make_api(start_hall(two_halls(tmp_path / "config")))


def test_only_the_halls_managers_see_and_answer_its_complaints(halls: Api) -> None:
    api = halls
    mine = filed(api)
    [record] = listed(api)["complaints"]
    refused = {
        "anonymous": (None, 401),
        "clerk": (api.staff("liuxia"), 403),
        "manager of another hall": (api.staff("director-by", "manager", halls=[OTHER_HALL]), 403),
    }
    for who, (token, status) in refused.items():
        headers = api.bearer(token)
        for answer in (
            api.http.get("/complaints", headers=headers),
            api.http.post(f"/complaints/{record['id']}/handle", headers=headers),
            api.http.post(f"/complaints/{record['id']}/answer", json={"answer": "好"}, headers=headers),
        ):
            assert answer.status_code == status, (who, answer.text)
    assert read(api, mine["code"]).json()["state"] == "open"  # nothing moved
    # The other hall's manager sees its own hall's (empty) list, and this hall's complaint is not in another hall.
    other = api.http.get(f"{api.server.url}/api/v1/halls/{OTHER_HALL}/complaints",
                         headers=api.bearer(api.server.tokens["director-by"]))  # fmt: skip
    assert other.status_code == 200 and other.json()["complaints"] == []
    api.error(api.http.get(f"{api.server.url}/api/v1/halls/{OTHER_HALL}/complaints/{mine['code']}"), 404, "not_found")
    api.error(move(api, record["id"] + 1, "handle"), 404, "not_found")
    admin = api.staff("root", "admin")
    assert move(api, record["id"], "answer", {"answer": "已处理"}, token=admin).status_code == 200


# --- hostile input ------------------------------------------------------------------------------------------

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "category": "<script>"}, {**BODY, "category": "ATTITUDE"}, {**BODY, "category": None},
        {**BODY, "text": ""}, {**BODY, "text": "    "}, {**BODY, "text": "短"}, {**BODY, "text": "好" * 1001},
        {**BODY, "text": "x" * 1_000_000}, {**BODY, "text": "投诉内容\x00"}, {**BODY, "text": "投诉内容\u202eevil"},
        {**BODY, "text": 12345}, {**BODY, "contact": XSS}, {**BODY, "contact": "1" * 40}, {**BODY, "contact": ""},
        {**BODY, "window": 0}, {**BODY, "window": 1000}, {**BODY, "window": "1; drop"}, {**BODY, "window": 2**40},
        {**BODY, "case_code": XSS}, {**BODY, "case_code": "A" * 25}, {**BODY, "case_code": "../../etc"},
        {**BODY, "code": "ABCDEFGHJK"}, {**BODY, "state": "answered"}, {"category": "other"}, {}, [], "投诉",
    ],
    ids=[
        "category-script", "category-case", "category-null", "text-empty", "text-blank", "text-short",
        "text-long", "text-huge", "text-nul", "text-bidi", "text-int", "contact-script", "contact-long",
        "contact-empty", "window-0", "window-1000", "window-string", "window-huge", "case-script", "case-long",
        "case-path", "code-given", "state-given", "no-text", "empty", "list", "string",
    ],
)  # fmt: skip
def test_hostile_complaint_input_is_422_and_changes_nothing(api: Api, body: Any) -> None:
    seq = api.seq()
    answer = file(api, body)
    api.error(answer, 422, "invalid_request")
    assert "<script>" not in answer.text and len(answer.text) < 5000
    assert api.seq() == seq
    assert listed(api)["summary"]["count"] == 0


def test_script_in_a_complaint_is_kept_as_text(api: Api) -> None:
    mine = filed(api, text=f"投诉：{XSS}")
    assert mine["case_code"] is None
    api.error(file(api, {**BODY, "case_code": "ab-2026-0001"}), 422, "unknown_case")  # not one of the hall's cases
    [record] = listed(api)["complaints"]
    assert record["text"] == f"投诉：{XSS}"  # JSON text, escaped where it is shown (the pages use textContent)
    api.error(file(api, {**BODY, "window": 99}), 404, "not_found")  # a window the hall does not have


@pytest.mark.parametrize("code", ["short", "ABCDEFGHJKL", "ABCDE0OI1K", "<script>x", "ABCDE.;'-K", "ABCDEFGHJ%00"])
def test_bad_complaint_codes_are_refused(shared_api: Api, code: str) -> None:
    shared_api.error(read(shared_api, code), 422, "invalid_request")  # a read refused: one server for all the codes


def test_an_unknown_code_is_404_and_the_codes_are_rate_limited(api: Api) -> None:
    assert "请核对投诉编号" in api.error(read(api, "ABCDEFGHJK"), 404, "not_found")
    statuses = [file(api, BODY).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]
    refused = file(api, BODY)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    answers = [read(api, "ABCDEFGHJM").status_code for _ in range(31)]
    assert answers[:30] == [404] * 30 and answers[30] == 429  # one code is not read more than 30 times at once


def test_the_openapi_document_lists_every_status_of_the_supervision_routes(api: Api) -> None:
    paths = httpx.get(f"{api.server.url}/openapi.json", trust_env=False).json()["paths"]
    base = "/api/v1/halls/{hall}"
    expected = {
        (f"{base}/published", "get"): {"200", "404", "422", "429", "503"},
        (f"{base}/case-lookup/{{code}}", "get"): {"200", "404", "422", "429", "503"},
        (f"{base}/complaints", "post"): {"201", "400", "404", "422", "429", "503"},
        (f"{base}/complaints/{{code}}", "get"): {"200", "404", "422", "429", "503"},
        (f"{base}/complaints", "get"): {"200", "401", "403", "404", "422", "503"},
        (f"{base}/complaints/{{complaint_id}}/handle", "post"): {"200", "401", "403", "404", "409", "422", "503"},
        (f"{base}/complaints/{{complaint_id}}/answer", "post"): {
            "200",
            "400",
            "401",
            "403",
            "404",
            "409",
            "422",
            "503",
        },
        ("/q/{hall}", "get"): {"200", "404", "422", "429", "503"},
    }
    got = {k: set(paths[k[0]][k[1]]["responses"]) for k in expected}
    assert got == expected, {k: sorted(v) for k, v in got.items()}


def test_a_complaint_filed_on_a_holiday_evening_counts_working_days_from_that_day(api: Api, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 4, 4, 22, 30, tzinfo=SHANGHAI))  # 清明 (4–6 April), late in the evening
    mine = filed(api)
    assert (mine["day"], mine["due_on"]) == ("2026-04-04", "2026-04-13")  # 7, 8, 9, 10, 13 April
