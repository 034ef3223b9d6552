"""好差评 against a real server: one rating per finished ticket, reasons for a bad one, the managers' follow-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from config.schema import HallConfig
from queue_server.api import ratelimit
from queue_server.protocol import RatingMessage
from tests.support.clock import SHANGHAI, FakeClock
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api, Board

GOOD = {"level": "satisfied"}
BAD = {
    "level": "very_dissatisfied",
    "reasons": ["efficiency", "attitude"],
    "comment": "等了很久",
    "contact_phone": "139 0000 1234",
}


def served(api: Api, category: str = "jisheng", window: int = 1, clerk: str = "liuxia") -> dict[str, Any]:
    """A ticket issued, called, started and finished at `window`."""
    token = api.open(clerk, window) if clerk not in api.server.tokens else api.server.tokens[clerk]
    ticket = api.issue(category)
    assert api.ok(token, window, "call-next")["ticket"]["number"] == ticket["number"]
    api.serve(token, window)
    return dict(ticket)


def rate(api: Api, ticket: dict[str, Any] | str, body: Any) -> httpx.Response:
    token = ticket if isinstance(ticket, str) else ticket["track_token"]
    return api.http.post(f"/tickets/{token}/rating", json=body)


def rating_of(api: Api, ticket: dict[str, Any]) -> httpx.Response:
    return api.http.get(f"/tickets/{ticket['track_token']}/rating")


def ratings(api: Api, **query: Any) -> dict[str, Any]:
    response = api.http.get("/ratings", params=query, headers=api.bearer(api.manager))
    assert response.status_code == 200, response.text
    return dict(response.json())


def follow(api: Api, rating_id: int, state: str, note: str = "已电话联系", token: str | None = None) -> httpx.Response:
    return api.http.post(
        f"/ratings/{rating_id}/follow-up", json={"state": state, "note": note}, headers=api.bearer(token or api.manager)
    )


# --- the citizen ------------------------------------------------------------------------------------------


def test_a_finished_ticket_is_rated_once(api: Api) -> None:
    ticket = served(api)
    before = rating_of(api, ticket).json()
    assert before == {"state": "finished", "can_rate": True, "rating": None}

    answer = rate(api, ticket, {"level": "very_satisfied"})
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert (receipt["level"], receipt["level_zh"], receipt["score"]) == ("very_satisfied", "非常满意", 5)

    message = api.error(rate(api, ticket, {"level": "very_satisfied"}), 409, "conflict")
    assert "只能评价一次" in message
    api.error(rate(api, ticket, BAD), 409, "conflict")  # not another level either
    after = rating_of(api, ticket).json()
    assert after["can_rate"] is False and after["rating"] == receipt
    assert ratings(api)["summary"]["count"] == 1


@pytest.mark.parametrize("stage", ["waiting", "called", "serving", "no_show"])
def test_only_a_finished_ticket_is_rated(api: Api, stage: str) -> None:
    clerk = api.open("liuxia", 1)
    ticket = api.issue("jisheng")
    if stage != "waiting":
        api.ok(clerk, 1, "call-next")
    if stage == "serving":
        api.ok(clerk, 1, "start")
    if stage == "no_show":
        api.ok(clerk, 1, "no-show")
    assert rating_of(api, ticket).json() == {"state": stage, "can_rate": False, "rating": None}
    assert "办结后才能评价" in api.error(rate(api, ticket, GOOD), 409, "conflict")


def test_a_bad_rating_needs_a_reason(api: Api) -> None:
    ticket = served(api)
    for body, expected in [
        ({"level": "dissatisfied"}, "needs at least one reason"),
        ({"level": "dissatisfied", "reasons": []}, "needs at least one reason"),
        ({"level": "very_dissatisfied", "reasons": ["overall"]}, "请填写具体原因"),
        ({"level": "very_dissatisfied", "reasons": ["overall"], "comment": "   "}, "请填写具体原因"),
        ({"level": "dissatisfied", "reasons": ["wait", "wait"]}, "listed twice"),
        ({"level": "satisfied", "reasons": ["wait"]}, "only with 不满意"),
        ({"level": "basic", "contact_phone": "13900001234"}, "only with a bad rating"),
    ]:
        assert expected in api.error(rate(api, ticket, body), 422, "invalid_request"), body
    assert rating_of(api, ticket).json()["can_rate"] is True  # nothing was stored
    answer = rate(api, ticket, {"level": "dissatisfied", "reasons": ["overall"], "comment": "材料清单和窗口说的不一样"})
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "body",
    [
        {"level": "satisfied", "extra": 1},
        {"level": 5},
        {"level": "SATISFIED"},
        {"level": "satisfied", "comment": 123},
        {"level": "satisfied", "comment": "好" * 501},
        {"level": "satisfied", "comment": "ok\x00"},
        {"level": "satisfied", "comment": "ok\u202eevil"},
        {"level": "dissatisfied", "reasons": "wait"},
        {"level": "dissatisfied", "reasons": ["wait", "<script>"]},
        {"level": "dissatisfied", "reasons": ["wait"], "contact_phone": "<script>alert(1)</script>"},
        {"level": "dissatisfied", "reasons": ["wait"], "contact_phone": "1" * 40},
        {"level": None},
        {},
        [],
        "satisfied",
    ],
    ids=[
        "unknown-field", "level-int", "level-case", "comment-int", "comment-long", "comment-nul", "comment-bidi",
        "reasons-string", "reasons-script", "phone-script", "phone-long", "level-null", "empty", "list", "string",
    ],
)  # fmt: skip
def test_hostile_rating_input_is_422_and_changes_nothing(api: Api, body: Any) -> None:
    ticket = served(api)
    seq = api.seq()
    response = rate(api, ticket, body)
    api.error(response, 422, "invalid_request")
    assert "<script>" not in response.text
    assert api.seq() == seq
    assert rating_of(api, ticket).json()["can_rate"] is True


def test_script_in_a_comment_is_kept_as_text_for_the_managers_only(api: Api, board: Callable[..., Board]) -> None:
    ticket = served(api)
    watcher = board(since=api.seq())
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    body = {"level": "dissatisfied", "reasons": ["overall"], "comment": hostile, "contact_phone": "13900001234"}
    assert rate(api, ticket, body).status_code == 201
    message = watcher.recv()
    assert isinstance(message, RatingMessage)
    assert (message.event, message.level) == ("rated", "dissatisfied")
    public = message.model_dump_json()
    for private in ("script", "13900001234", ticket["number"], ticket["track_token"]):
        assert private not in public
    event = next(e for e in api.events() if e["type"] == "ticket.rated")
    assert "script" not in str(event["payload"]) and "13900001234" not in str(event["payload"])
    assert event["payload"]["level"] == "dissatisfied" and event["payload"]["reasons"] == ["overall"]
    record = ratings(api)["ratings"][0]
    assert (record["comment"], record["contact_phone"]) == (hostile, "13900001234")  # JSON text, as it was typed


# --- the service day ----------------------------------------------------------------------------------------


def test_the_token_stops_working_after_the_service_day(api: Api, clock: FakeClock) -> None:
    ticket = served(api)
    waiting = api.issue("guotu")
    rated = served(api)
    assert rate(api, rated, GOOD).status_code == 201
    clock.set(dt.datetime(2026, 3, 16, 23, 59, tzinfo=SHANGHAI))
    assert rating_of(api, ticket).status_code == 200
    assert api.http.get(f"{api.server.url}/t/{ticket['track_token']}").status_code == 200
    clock.set(dt.datetime(2026, 3, 17, 0, 1, tzinfo=SHANGHAI))
    for t in (ticket, waiting, rated):
        assert "未找到今日的该号票" in api.error(rating_of(api, t), 404, "not_found")
        api.error(rate(api, t, GOOD), 404, "not_found")
        api.error(api.status(t["track_token"]), 404, "not_found")
        page = httpx.get(f"{api.server.url}/t/{t['track_token']}", trust_env=False)
        assert page.status_code == 404 and "号票已失效" in page.text
        assert t["number"] not in page.text
    assert ratings(api, **{"from": "2026-03-16"})["summary"]["count"] == 1  # the rating itself is kept


def test_unknown_and_malformed_tokens(api: Api) -> None:
    api.error(rate(api, "A" * 32, GOOD), 404, "not_found")
    api.error(api.http.get(f"/tickets/{'A' * 32}/rating"), 404, "not_found")
    for bad in ("short", "x" * 65, "has.dots.in.it.ok.long"):
        api.error(rate(api, bad, GOOD), 422, "invalid_request")
    page = httpx.get(f"{api.server.url}/t/%3Cscript%3Ealert(1)%3C%2Fscript%3E", trust_env=False)
    assert page.status_code == 404 and "<script>alert" not in page.text


# --- the managers -------------------------------------------------------------------------------------------


def test_a_bad_rating_is_followed_up_within_15_working_days(api: Api, clock: FakeClock) -> None:
    bad_ticket = served(api)
    assert rate(api, bad_ticket, BAD).status_code == 201
    listed = ratings(api, bad="true")
    record = listed["ratings"][0]
    assert (record["number"], record["window"], record["served_by"]) == (bad_ticket["number"], 1, "liuxia")
    assert (record["level"], record["score"], record["reasons"]) == ("very_dissatisfied", 1, ["efficiency", "attitude"])
    assert (record["follow_up"], record["overdue"], record["notes"]) == ("open", False, [])
    # 15 working days after Monday 16 March: the weekends and 清明 (4–6 April) do not count.
    assert record["due_on"] == "2026-04-07"
    rating_id = record["id"]

    assert "已整改" in api.error(follow(api, rating_id, "rectified"), 409, "conflict")  # not before contacting
    contacted = follow(api, rating_id, "contacted", "已电话联系群众，致歉并说明原因")
    assert contacted.status_code == 200, contacted.text
    assert contacted.json()["follow_up"] == "contacted"
    done = follow(api, rating_id, "rectified", "窗口增派B岗，高峰期双人办理").json()
    assert done["follow_up"] == "rectified"
    assert [(n["state"], n["by"]) for n in done["notes"]] == [("contacted", "director"), ("rectified", "director")]
    api.error(follow(api, rating_id, "contacted"), 409, "conflict")  # done is done
    api.error(follow(api, rating_id, "rectified"), 409, "conflict")
    moves = [e["payload"]["to"] for e in api.events() if e["type"] == "rating.followed_up"]
    assert moves == ["contacted", "rectified"]


def test_follow_ups_fall_overdue_after_their_due_date(api: Api, clock: FakeClock) -> None:
    assert rate(api, served(api), BAD).status_code == 201
    clock.set(dt.datetime(2026, 4, 7, 17, 0, tzinfo=SHANGHAI))
    summary = ratings(api, **{"from": "2026-03-16"})["summary"]
    assert (summary["open_follow_ups"], summary["overdue_follow_ups"]) == (1, 0)
    clock.set(dt.datetime(2026, 4, 8, 9, 0, tzinfo=SHANGHAI))
    api.server.login("director")  # the next morning the manager logs in again
    listed = ratings(api, **{"from": "2026-03-16"})
    assert listed["summary"]["overdue_follow_ups"] == 1 and listed["ratings"][0]["overdue"] is True


def test_good_ratings_need_no_follow_up_and_the_rules_of_the_endpoint(api: Api) -> None:
    assert rate(api, served(api), GOOD).status_code == 201
    rating_id = ratings(api)["ratings"][0]["id"]
    assert ratings(api)["ratings"][0]["follow_up"] is None
    assert "无需回访" in api.error(follow(api, rating_id, "contacted"), 409, "conflict")
    api.error(follow(api, 9999, "contacted"), 404, "not_found")
    api.error(follow(api, 2**31 - 1, "contacted"), 404, "not_found")  # the largest id an INTEGER column holds
    api.error(follow(api, 2**31, "contacted"), 422)  # PostgreSQL refuses it as a parameter: a 500 before
    api.error(follow(api, rating_id, "contacted", token=api.staff("liuxia")), 403, "forbidden")
    api.error(api.http.post(f"/ratings/{rating_id}/follow-up", json={"state": "contacted", "note": "x"}), 401)
    bad_bodies = [
        {"state": "open", "note": "x"},
        {"state": "contacted"},
        {"state": "contacted", "note": " "},
        {"state": "contacted", "note": "x" * 501},
        {"state": "contacted", "note": "x", "by": "me"},
    ]
    for body in bad_bodies:
        api.error(api.http.post(f"/ratings/{rating_id}/follow-up", json=body, headers=api.bearer(api.manager)), 422)
    api.error(api.http.get("/ratings", headers=api.bearer(api.staff("liuxia"))), 403, "forbidden")
    api.error(api.http.get("/ratings"), 401)
    api.error(api.http.get("/ratings", params={"from": "2026-03-20", "to": "2026-03-01"},
                           headers=api.bearer(api.manager)), 400)  # fmt: skip


def test_the_satisfaction_rate_counts_basic_and_better(api: Api) -> None:
    assert ratings(api)["summary"]["satisfaction_rate"] is None  # no ratings: no invented figure
    levels = ["very_satisfied", "satisfied", "basic", "dissatisfied"]
    for level in levels:
        body = {"level": level, "reasons": ["efficiency"]} if level == "dissatisfied" else {"level": level}
        assert rate(api, served(api), body).status_code == 201
    summary = ratings(api)["summary"]
    assert summary["count"] == 4 and summary["bad"] == 1
    assert summary["by_level"] == {
        "very_satisfied": 1, "satisfied": 1, "basic": 1, "dissatisfied": 1, "very_dissatisfied": 0,
    }  # fmt: skip
    assert summary["satisfaction_rate"] == 75.0
    assert [r["level"] for r in ratings(api, bad="true")["ratings"]] == ["dissatisfied"]
    assert len(ratings(api, follow_up="open")["ratings"]) == 1
    assert ratings(api, **{"from": "2026-03-17", "to": "2026-03-18"})["summary"]["count"] == 0


# --- rate limits ----------------------------------------------------------------------------------------------


def test_rating_is_rate_limited_per_ticket(
    monkeypatch: pytest.MonkeyPatch, start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:  # fmt: skip
    monkeypatch.setitem(
        ratelimit.RULES, "rate", ratelimit.Rule(per_ip=ratelimit.Rate(100, 1), per_key=ratelimit.Rate(3, 1 / 60))
    )
    api = make_api(start_hall(hall_config))
    ticket, other = served(api), served(api)
    for _ in range(3):
        api.error(rate(api, ticket, {"level": "bad"}), 422)
    refused = rate(api, ticket, GOOD)
    api.error(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) >= 1
    assert rate(api, other, GOOD).status_code == 201  # another ticket has its own bucket


def test_the_status_read_is_rate_limited_per_token(
    monkeypatch: pytest.MonkeyPatch, start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api],
    hall_config: HallConfig,
) -> None:  # fmt: skip
    monkeypatch.setitem(
        ratelimit.RULES, "track", ratelimit.Rule(per_ip=ratelimit.Rate(100, 1), per_key=ratelimit.Rate(5, 0.5))
    )
    api = make_api(start_hall(hall_config))
    ticket = api.issue("jisheng")
    assert [api.status(ticket["track_token"]).status_code for _ in range(6)] == [200] * 5 + [429]
    assert api.status(api.issue("jisheng")["track_token"]).status_code == 200
