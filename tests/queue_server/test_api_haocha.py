"""好差评 to the national rules against a real server: the case code, the locality's deadline, the callback and
the re-rating, the review (申诉复核), the default rating (默认好评), the export and the clerk's staff number."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from config.schema import DefaultRating, HallConfig, RatingRules
from tests.queue_server.test_api_pad_ratings import pad_token
from tests.queue_server.test_api_ratings import GOOD, rate, ratings, served
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.server import PASSWORD, RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

PHONE = "13900001234"
BAD = {"level": "dissatisfied", "reasons": ["attitude"], "comment": "态度冷淡", "contact_phone": PHONE}


def with_rules(config: HallConfig, **rules: Any) -> HallConfig:
    hall = config.halls[0]
    return config.model_copy(update={"halls": [hall.model_copy(update={"ratings": RatingRules(**rules)})]})


def bad_rating(api: Api) -> dict[str, Any]:
    """A visit served by liuxia at window 1, rated 不满意 from the phone: its record in the managers' list."""
    ticket = served(api)
    assert rate(api, ticket, BAD).status_code == 201
    return next(r for r in ratings(api)["ratings"] if r["number"] == ticket["number"])


def post(api: Api, rating: dict[str, Any], path: str, body: Any, token: str | None = None) -> Any:
    return api.http.post(f"/ratings/{rating['id']}/{path}", json=body, headers=api.bearer(token or api.manager))


def rectified(api: Api, rating: dict[str, Any]) -> None:
    for step in ("contacted", "rectified"):
        assert post(api, rating, "follow-up", {"state": step, "note": "已核实并整改"}).status_code == 200


def log_in_again(api: Api) -> None:
    """A new day: the logins of yesterday have ended (12 hours); every account of the test logs in again."""
    for username in list(api.server.tokens):
        if username.startswith(("pad-", "kiosk")):
            continue
        answer = api.http.post(f"{api.server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        api.server.tokens[username] = answer.json()["access_token"]


def day_report(api: Api, day: str = "2026-03-16") -> dict[str, Any]:
    answer = api.http.get("/reports", params={"period": "day", "date": day}, headers=api.bearer(api.manager))
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["totals"])


# --- the case, the indicators and the deadline ------------------------------------------------------------


def test_a_rating_carries_the_case_code_item_window_and_clerk(api: Api) -> None:
    token = api.open("chenjing", 1, post="B")
    ticket = api.issue("jisheng")
    api.ok(token, 1, "call-next")
    finished = api.serve(token, 1)
    assert rate(api, ticket, {"level": "very_dissatisfied", "reasons": ["slow", "wait", "notice"]}).status_code == 201
    record = ratings(api)["ratings"][0]
    assert record["case_code"] == finished["case_code"] and len(record["case_code"]) == 9
    assert (record["window"], record["served_by"], record["category"]) == (1, "chenjing", "jisheng")
    # The reasons of an older pad or phone are kept as the national indicators they belong to.
    assert record["reasons"] == ["efficiency", "level"]
    assert record["source"] == "citizen" and record["excluded"] is False


def test_the_locality_sets_the_rectification_deadline(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_rules(hall_config, rectify_working_days=5)))
    record = bad_rating(api)
    # Monday 16 March 2026 + 5 working days = Monday 23 March (the weekend does not count).
    assert record["due_on"] == "2026-03-23"
    assert ratings(api)["rectify_working_days"] == 5


@pytest.mark.parametrize("days", [0, 16, 30])
def test_a_deadline_past_the_national_15_working_days_is_refused(days: int) -> None:
    with pytest.raises(ValidationError) as refused:
        RatingRules(rectify_working_days=days)
    assert "rectify_working_days" in str(refused.value)
    assert RatingRules(rectify_working_days=7).rectify_working_days == 7
    assert RatingRules().rectify_working_days == 15 and RatingRules().default_rating.enabled is False


# --- the callback and the re-rating -------------------------------------------------------------------------


def test_the_callback_records_who_when_what_and_the_rerating(api: Api, clock: FakeClock) -> None:
    record = bad_rating(api)
    early = post(api, record, "callback", {"said": "还没整改", "rerating": "satisfied"})
    assert "整改完成后才能回访" in api.error(early, 409, "conflict")
    rectified(api, record)
    seq = api.seq()
    for body in ({"said": "", "rerating": "satisfied"}, {"said": "好", "rerating": "ok"}, {"said": "好"},
                 {"said": "好\x00", "rerating": "satisfied"}, ["satisfied"]):  # fmt: skip
        api.error(post(api, record, "callback", body), 422, "invalid_request")
    assert api.seq() == seq
    assert post(api, record, "callback", {"said": "x", "rerating": "satisfied"}, api.staff("liuxia")).status_code == 403

    clock.advance(days=1)  # Tuesday 17 March (the logins of yesterday have ended)
    log_in_again(api)
    answer = post(api, record, "callback", {"said": "群众表示仍不满意，窗口仍未解释清楚", "rerating": "dissatisfied"})
    assert answer.status_code == 200, answer.text
    again = answer.json()
    assert (again["follow_up"], again["rerating"], again["due_on"]) == ("open", "dissatisfied", "2026-04-08")
    rectified(api, again)
    closed = post(api, again, "callback", {"said": "群众对整改结果满意", "rerating": "satisfied"}).json()
    assert (closed["follow_up"], closed["rerating"]) == ("closed", "satisfied")
    assert [(c["by"], c["rerating"]) for c in closed["callbacks"]] == [
        ("director", "dissatisfied"),
        ("director", "satisfied"),
    ]
    assert closed["callbacks"][1]["said"] == "群众对整改结果满意"
    events = [e for e in api.events() if e["type"] == "rating.called_back"]
    assert [(e["actor"], e["payload"]["rerating"]) for e in events] == [
        ("director", "dissatisfied"),
        ("director", "satisfied"),
    ]
    assert all("said" not in e["payload"] for e in events)  # the citizen's words are for the managers only
    assert ratings(api)["summary"]["open_follow_ups"] == 0


# --- the review (申诉复核) ----------------------------------------------------------------------------------


def test_the_review_is_decided_by_neither_the_rated_clerk_nor_the_asker(api: Api) -> None:
    # liuxia, a manager who serves at window 1 too, is rated there: once 满意, once 不满意.
    rated = api.staff("liuxia", "manager")
    api.ok(rated, 1, "open", {"post": "A"})
    good = served(api)
    assert rate(api, good, GOOD).status_code == 201
    record = bad_rating(api)
    assert ratings(api)["summary"]["satisfaction_rate"] == 50.0
    assert day_report(api)["satisfaction_rate"] == 0.5

    other = api.staff("chenjing")  # a clerk asks only for the review of their own 差评
    assert "本人的差评" in api.error(post(api, record, "review", {"reason": "误评"}, other), 403, "forbidden")
    api.error(post(api, record, "review", {"reason": "   "}), 422, "invalid_request")
    asked = post(api, record, "review", {"reason": "群众误按：监控显示其本人表示满意"}, rated)
    assert asked.status_code == 200, asked.text
    assert asked.json()["review"]["state"] == "requested"
    assert "已申请过复核" in api.error(post(api, record, "review", {"reason": "再次"}), 409, "conflict")

    decision = {"outcome": "upheld", "note": "核实为误评"}
    refused = post(api, record, "review/decision", decision, rated)
    assert "被评价人不能复核" in api.error(refused, 403, "forbidden")
    api.error(post(api, record, "review/decision", decision, other), 403, "forbidden")  # a clerk
    api.error(post(api, record, "review/decision", {"outcome": "maybe", "note": "x"}), 422, "invalid_request")
    upheld = post(api, record, "review/decision", decision)  # director: neither rated nor asker
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["review"]["state"], upheld.json()["excluded"]) == ("upheld", True)

    listed = ratings(api)["summary"]
    assert (listed["count"], listed["satisfaction_rate"], listed["excluded"], listed["bad"]) == (1, 100.0, 1, 0)
    totals = day_report(api)
    assert (totals["rated"], totals["satisfaction_rate"]) == (1, 1.0)
    audit = [(e["type"], e["actor"]) for e in api.events() if e["type"].startswith("rating.review")]
    assert audit == [("rating.review_requested", "liuxia"), ("rating.review_upheld", "director")]
    assert "没有待复核" in api.error(post(api, record, "review/decision", decision), 409, "conflict")


def test_the_asker_cannot_decide_and_a_rejected_review_keeps_the_rating(api: Api) -> None:
    record = bad_rating(api)
    assert post(api, record, "review", {"reason": "疑似恶意差评"}).status_code == 200  # the director asks
    refused = post(api, record, "review/decision", {"outcome": "upheld", "note": "成立"})
    assert "申诉人不能复核" in api.error(refused, 403, "forbidden")
    deputy = api.staff("deputy", "manager")
    rejected = post(api, record, "review/decision", {"outcome": "rejected", "note": "证据不足，差评保留"}, deputy)
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["review"]["state"], rejected.json()["excluded"]) == ("rejected", False)
    summary = ratings(api)["summary"]
    assert (summary["count"], summary["bad"], summary["excluded"], summary["satisfaction_rate"]) == (1, 1, 0, 0.0)
    assert day_report(api)["satisfaction_rate"] == 0.0


# --- the default rating (默认好评) ----------------------------------------------------------------------------


def test_no_default_rating_unless_the_hall_turns_it_on(api: Api, clock: FakeClock) -> None:
    served(api)
    clock.set(dt.datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))
    log_in_again(api)
    api.issue("jisheng")  # the first action of a later day closes the old one
    everything = ratings(api, **{"from": "2026-03-01", "to": "2026-04-20"})
    assert everything["ratings"] == [] and everything["summary"]["defaulted"] == 0


def test_the_default_rating_is_given_once_after_n_days_and_counted_apart(
    start_hall: Callable[..., RunningServer],
    make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
    clock: FakeClock,
) -> None:
    rules = {"default_rating": DefaultRating(enabled=True, after_days=3)}
    api = make_api(start_hall(with_rules(hall_config, **rules)))
    unrated, bad = served(api), served(api)
    assert rate(api, bad, BAD).status_code == 201
    query = {"from": "2026-03-01", "to": "2026-03-31"}

    clock.set(dt.datetime(2026, 3, 18, 9, 0, tzinfo=SHANGHAI))  # two days on: not yet
    log_in_again(api)
    api.issue("jisheng")
    assert ratings(api, **query)["summary"]["defaulted"] == 0
    clock.set(dt.datetime(2026, 3, 19, 9, 0, tzinfo=SHANGHAI))  # three days on
    log_in_again(api)
    api.issue("jisheng")
    listed = ratings(api, **query)
    default = next(r for r in listed["ratings"] if r["number"] == unrated["number"])
    assert (default["source"], default["level"], default["follow_up"]) == ("default", "satisfied", None)
    summary = listed["summary"]
    assert (summary["defaulted"], summary["count"], summary["satisfaction_rate"]) == (1, 1, 0.0)
    assert day_report(api)["rated"] == 1  # the reports count the citizens' ratings only

    seq = api.seq()
    assert api.http.post("/day/close", headers=api.bearer(api.manager)).status_code == 200
    clock.set(dt.datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI))
    log_in_again(api)
    api.issue("jisheng")
    assert ratings(api, **query)["summary"]["defaulted"] == 1  # once
    defaulted = [e for e in api.events(since=0) if e["type"] == "rating.defaulted"]
    assert len(defaulted) == 1 and defaulted[0]["actor"] == "system" and defaulted[0]["payload"]["count"] == 1
    assert api.seq() > seq


# --- the export -----------------------------------------------------------------------------------------------


def test_the_export_has_every_rating_with_its_case_and_no_phone(api: Api) -> None:
    record = bad_rating(api)
    good = served(api, window=1)
    assert rate(api, good, GOOD).status_code == 201
    admin = api.staff("root", "admin")
    changed = api.http.patch(f"{api.server.url}/api/v1/staff/liuxia", json={"staff_no": "QS-0107"},
                             headers=api.bearer(admin))  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert post(api, record, "review", {"reason": "误评"}).status_code == 200

    answer = api.http.get("/ratings/export", params={"from": "2026-03-16", "to": "2026-03-16"},
                          headers=api.bearer(api.manager))  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert "ratings-qingshan-2026-03-16-2026-03-16.jsonl" in answer.headers["content-disposition"]
    assert PHONE not in answer.text and "139" not in answer.text
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["ticket_number"] for line in lines] == [record["number"], good["number"]]
    first = lines[0]
    assert (first["case_code"], first["level"], first["clerk"], first["clerk_staff_no"]) == (
        record["case_code"], "dissatisfied", "liuxia", "QS-0107",
    )  # fmt: skip
    assert first["indicators"] == [{"code": "attitude", "zh": "服务态度"}]
    assert first["review"]["state"] == "requested" and first["counted"] is True and first["v"] == 1
    assert first["rated_at"].endswith("+08:00") and first["service_day"] == "2026-03-16"

    for params, status in (({"from": "2026-3-1"}, 422), ({"from": "2026-03-17", "to": "2026-03-16"}, 400)):
        api.error(api.http.get("/ratings/export", params=params, headers=api.bearer(api.manager)), status)
    api.error(api.http.get("/ratings/export", headers=api.bearer(api.staff("liuxia"))), 403, "forbidden")
    api.error(api.http.get("/ratings/export"), 401)


# --- the staff number (工号) on the pad ----------------------------------------------------------------------


def test_the_staff_number_is_set_by_an_admin_and_shown_to_the_pad(api: Api) -> None:
    admin = api.bearer(api.staff("root", "admin"))
    clerk = api.open("chenjing", 1, post="B")
    staff_url = f"{api.server.url}/api/v1/staff"
    for bad in ("", "工号1", "-12", "A" * 17, 7):
        answer = api.http.patch(f"{staff_url}/chenjing", json={"staff_no": bad}, headers=admin)
        api.error(answer, 422, "invalid_request")
    staff = {a["username"]: a for a in api.http.get(staff_url, headers=admin).json()}
    assert staff["chenjing"]["staff_no"] is None
    changed = api.http.patch(f"{staff_url}/chenjing", json={"staff_no": "QS-0107"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["staff_no"] == "QS-0107"

    duty = api.http.get("/windows/1/on-duty", headers=api.bearer(pad_token(api)))
    assert duty.status_code == 200, duty.text
    assert duty.json() == {"window": 1, "state": "open", "clerk_name": "chenjing", "post": "B", "staff_no": "QS-0107"}
    api.error(api.http.get("/windows/1/on-duty"), 401)
    api.error(api.http.get("/windows/1/on-duty", headers=api.bearer(pad_token(api, "pad-w2"))), 403)
    assert api.http.get("/windows/2/on-duty", headers=api.bearer(pad_token(api, "pad-w2"))).json()["clerk_name"] is None
    api.ok(clerk, 1, "close")
    cleared = api.http.patch(f"{staff_url}/chenjing", json={"staff_no": None}, headers=admin)
    assert cleared.json()["staff_no"] is None
