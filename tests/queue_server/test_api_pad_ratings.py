"""The window's evaluator pad rates the visit last finished at its window, lately, once (pad or phone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from queue_server.services.pad_ratings import PAD_MINUTES
from tests.queue_server.test_api_ratings import GOOD, rate, rating_of, ratings, served
from tests.support.clock import FakeClock

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

BAD = {"level": "dissatisfied", "reasons": ["efficiency"]}


def pad_token(api: Api, pad: str = "pad-w1") -> str:
    """The device token of an evaluator pad of the demo hall (pad-w1 at window 1, pad-w2 at window 2)."""
    if pad not in api.server.tokens:
        api.server.tokens[pad] = api.server.add_device(pad)
    return api.server.tokens[pad]


def pad_rate(api: Api, window: int, number: str, body: Any, token: str | None = None) -> httpx.Response:
    """Window n's pad rates, with its own token unless told."""
    token = token or pad_token(api, f"pad-w{window}" if window in (1, 2) else "pad-w1")
    return api.http.post(f"/windows/{window}/tickets/{number}/rating", json=body, headers=api.bearer(token))


def test_only_the_pad_of_the_window_rates_there(api: Api) -> None:
    ticket = served(api)  # window 1
    seq = api.seq()
    for token in (None, "bmd_" + "x" * 43):  # no token, a token of no device
        response = api.http.post(f"/windows/1/tickets/{ticket['number']}/rating", json=GOOD, headers=api.bearer(token))
        api.error(response, 401, "unauthorized")
    assert "评价器不属于该窗口" in api.error(pad_rate(api, 1, ticket["number"], GOOD, pad_token(api, "pad-w2")), 403)
    assert "not an evaluator pad" in api.error(pad_rate(api, 1, ticket["number"], GOOD, api.kiosk), 403)
    assert "请使用评价器" in api.error(pad_rate(api, 1, ticket["number"], GOOD, api.manager), 403, "forbidden")
    assert api.seq() == seq and rating_of(api, ticket).json()["can_rate"] is True
    # A revoked pad is refused at once.
    token = pad_token(api)
    assert api.http.delete("/devices/pad-w1", headers=api.bearer(api.staff("root", "admin"))).status_code == 204
    api.error(pad_rate(api, 1, ticket["number"], GOOD, token), 401, "unauthorized")
    assert pad_rate(api, 1, ticket["number"], GOOD, pad_token(api, "pad-w2")).status_code == 403


def test_the_pad_rates_the_visit_just_finished_at_its_window_once(api: Api, clock: FakeClock) -> None:
    older = served(api)  # window 1
    ticket = served(api)  # window 1, finished after `older`
    elsewhere = served(api, "guotu", 2, "zhaogang")  # window 2, finished last of all

    # Another window's visit, an older visit of this window, a number of nobody: not this pad's to rate.
    for window, number in ((1, elsewhere["number"]), (1, older["number"]), (2, ticket["number"]), (1, "Z999")):
        assert "刚办结" in api.error(pad_rate(api, window, number, GOOD), 404, "not_found")
    api.error(pad_rate(api, 99, ticket["number"], GOOD), 403, "forbidden")  # no pad at window 99 (nor window)

    # A bad rating from the pad needs its reason, as on the phone.
    assert "原因" in api.error(pad_rate(api, 1, ticket["number"], {"level": "dissatisfied"}), 422, "invalid_request")
    receipt = pad_rate(api, 1, ticket["number"], BAD)
    assert receipt.status_code == 201, receipt.text
    assert receipt.json()["level_zh"] == "不满意"

    # One rating per visit: the pad again, then the citizen's phone, are both refused.
    assert "只能评价一次" in api.error(pad_rate(api, 1, ticket["number"], GOOD), 409, "conflict")
    assert "只能评价一次" in api.error(rate(api, ticket, GOOD), 409, "conflict")
    assert rating_of(api, ticket).json()["rating"]["level"] == "dissatisfied"
    listed = ratings(api)
    assert listed["summary"]["count"] == 1
    record = listed["ratings"][0]
    assert (record["number"], record["window"], record["served_by"], record["follow_up"]) == (
        ticket["number"], 1, "liuxia", "open",
    )  # fmt: skip
    event = next(e for e in api.events() if e["type"] == "ticket.rated")
    assert (event["actor"], event["window"]) == ("pad", 1)

    # And the other way round: what the phone rated, the pad cannot.
    assert rate(api, elsewhere, GOOD).status_code == 201
    api.error(pad_rate(api, 2, elsewhere["number"], GOOD), 409, "conflict")

    # Too late for the pad (the phone may still rate it, with its token).
    late = served(api, "guotu", 2, "zhaogang")
    clock.advance(minutes=PAD_MINUTES, seconds=1)
    assert "分钟" in api.error(pad_rate(api, 2, late["number"], GOOD), 409, "conflict")
    assert rate(api, late, GOOD).status_code == 201
    assert ratings(api)["summary"]["count"] == 3


@pytest.mark.parametrize(
    ("window", "number", "body"),
    [
        ("1", "A001", {"level": "great"}),
        ("1", "A001", {"level": "satisfied", "extra": 1}),
        ("1", "A001", {"level": "satisfied", "reasons": ["efficiency"]}),
        ("1", "A001", []),
        ("1", "<script>", GOOD),
        ("1", "A0011111", GOOD),
        ("0", "A001", GOOD),
        ("x", "A001", GOOD),
    ],
    ids=["level", "unknown-field", "reasons-with-good", "list", "number-script", "number-long", "window-0", "window-x"],
)
def test_hostile_pad_input_is_422_and_changes_nothing(api: Api, window: str, number: str, body: Any) -> None:
    ticket = served(api)
    seq = api.seq()
    path = f"/windows/{window}/tickets/{number.replace('A001', ticket['number'])}/rating"
    response = api.http.post(path, json=body, headers=api.bearer(pad_token(api)))
    api.error(response, 422, "invalid_request")
    assert "<script>" not in response.text
    assert api.seq() == seq
    assert rating_of(api, ticket).json()["can_rate"] is True
