"""The county refuses what does not continue its copy: wrong credential, another hall, gaps, disorder, corruption.

Each refusal is a clear error and leaves the county's copy as it was; a replay is taken without doubling anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from queue_server.store.tables import events
from tests.queue_server.link.conftest import OTHER_TOWNSHIP, Linkage, log_rows, peer
from tests.queue_server.link.test_link_up import traffic
from tests.support.server import HALL, RunningServer

KEYS = ("seq", "type", "at", "actor", "window", "post", "ticket_id", "payload", "public")


@dataclass
class County:
    server: RunningServer
    http: httpx.Client
    token: str
    other_token: str
    log: list[dict[str, Any]]  # the township's events, as shipped

    def post(self, body: Any, token: str | None = None, hall: str = HALL, raw: bytes | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"}
        content = raw if raw is not None else json.dumps(body).encode()
        return self.http.post(f"{self.server.url}/api/v1/link/halls/{hall}/events", content=content, headers=headers)

    def batch(self, after: int, count: int) -> dict[str, Any]:
        return {"after": after, "events": [dict(e) for e in self.log[after : after + count]], "waiting": 0}


@pytest.fixture
def county(linkage: Linkage) -> Iterator[County]:
    """A county holding the first 10 events of a township (which is stopped), and the township's whole log."""
    server = linkage.start_county()
    token = linkage.add_token()
    other = linkage.add_token(OTHER_TOWNSHIP)
    linkage.token_file.write_text(token, encoding="utf-8")
    township = linkage.start_township(batch_size=10)
    traffic(linkage.api(township), linkage, 8)
    linkage.caught_up()
    shipped = [dict(zip(KEYS, row, strict=True)) for row in log_rows(township)]
    linkage.stop(township)
    with server.store.engine.begin() as conn:  # the county as it was after the first batch
        conn.execute(delete(events).where(events.c.hall == HALL, events.c.seq > 10))
    with httpx.Client(timeout=10, trust_env=False) as http:
        made = County(server, http, token, other, shipped)
        assert made.post(made.batch(0, 10)).json()["last_seq"] == 10
        yield made


def unchanged(county: County, before: list[tuple[Any, ...]]) -> None:
    assert log_rows(county.server) == before
    assert peer(county.server).last_seq == len(before)


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code, body
    return body


def test_the_next_batch_is_taken_and_a_replay_doubles_nothing(county: County) -> None:
    answer = county.post(county.batch(10, 10))
    assert answer.status_code == 200 and answer.json() == {"hall": HALL, "last_seq": 20, "received": 10}
    before = log_rows(county.server)
    for after, count in ((0, 20), (5, 10), (15, 5), (20, 0)):
        again = county.post(county.batch(after, count))
        assert again.status_code == 200 and again.json() == {"hall": HALL, "last_seq": 20, "received": 0}
    unchanged(county, before)
    overlapping = county.post(county.batch(15, 10))  # half held, half new: the new half is taken
    assert overlapping.json() == {"hall": HALL, "last_seq": 25, "received": 5}
    assert [r[0] for r in log_rows(county.server)] == list(range(1, 26))


def test_a_newer_townships_extra_fields_are_tolerated(county: County) -> None:
    batch = county.batch(10, 2)
    batch["compression"] = "none"
    batch["events"][0]["signature"] = "abc"
    answer = county.post(batch)
    assert answer.status_code == 200 and answer.json()["last_seq"] == 12
    assert log_rows(county.server)[10][0] == 11


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [("bml_wrong", 401, "unauthorized"), ("bms_a-staff-token", 401, "unauthorized"), ("other", 403, "forbidden")],
)
def test_a_wrong_credential_or_another_halls_token_is_refused(county: County, token: str, status: int, code: str
                                                              ) -> None:  # fmt: skip
    before = log_rows(county.server)
    answer = county.post(county.batch(10, 5), token=county.other_token if token == "other" else token)
    message = error(answer, status, code)["message"]
    assert ("baiyun" in message and "qingshan" in message) if status == 403 else "link token" in message
    unchanged(county, before)
    missing = county.http.post(f"{county.server.url}/api/v1/link/halls/{HALL}/events", json=county.batch(10, 5))
    error(missing, 401, "unauthorized")
    # Nor can a township send its own events under another hall's name.
    error(county.post(county.batch(0, 0), token=county.token, hall=OTHER_TOWNSHIP), 403, "forbidden")
    unchanged(county, before)


def test_a_gap_a_reordered_or_a_corrupted_batch_is_refused_whole(county: County) -> None:
    before = log_rows(county.server)
    gap = error(county.post(county.batch(12, 5)), 409, "link_gap")
    assert gap["last_seq"] == 10 and "seq 13" in gap["message"] and "up to seq 10" in gap["message"]

    reordered = county.batch(10, 5)
    reordered["events"][1], reordered["events"][2] = reordered["events"][2], reordered["events"][1]
    wrong = error(county.post(reordered), 409, "link_out_of_order")
    assert "seq 13 where seq 12 was due" in wrong["message"] and wrong["last_seq"] == 10

    corrupted = county.batch(0, 15)  # seqs 1..15: 1..10 held, 11..15 new; seq 7 altered
    corrupted["events"][6]["payload"] = corrupted["events"][6]["payload"].replace("{", '{"forged": 1, ', 1)
    conflict = error(county.post(corrupted), 409, "link_conflict")
    assert "seq 7" in conflict["message"] and conflict["last_seq"] == 10
    for field, value in (("at", 1), ("type", "ticket.finished"), ("actor", "mallory")):
        forged = county.batch(0, 15)
        forged["events"][3][field] = value
        assert "seq 4" in error(county.post(forged), 409, "link_conflict")["message"]
    unchanged(county, before)  # not even the 5 new events of those batches were taken
    assert "seq 4" in (peer(county.server).last_refusal or "")  # the county's status says what it refused

    assert county.post(county.batch(10, 5)).json()["last_seq"] == 15  # the right batch is taken after all that
    assert peer(county.server).last_refusal is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "json"),
        (b"[]", "object"),
        (b'{"events": []}', "after"),
        (b'{"after": -1, "events": []}', "after"),
        (b'{"after": 10, "events": "lots"}', "events"),
        (b'{"after": 10, "events": [{"seq": 11}]}', "events.0.type"),
        (b'{"after": 99999999999999999999999, "events": []}', "after"),
    ],
)
def test_malformed_input_is_422_and_changes_nothing(county: County, raw: bytes, problem: str) -> None:
    before = log_rows(county.server)
    message = error(county.post(None, raw=raw), 422, "invalid_request")["message"]
    assert problem in message.lower()
    unchanged(county, before)


def test_hostile_events_are_422_and_change_nothing(county: County) -> None:
    before = log_rows(county.server)
    long = '{"x": "' + "y" * 70_000 + '"}'
    for field, value in (("payload", "not json"), ("public", "[1, 2]"), ("payload", long), ("post", "AB"),
                         ("type", ""), ("ticket_id", 2**40), ("seq", 0)):  # fmt: skip
        batch = county.batch(10, 2)
        batch["events"][0][field] = value
        error(county.post(batch), 422, "invalid_request")
    too_many = {"after": 10, "events": [county.log[10]] * 5_001}
    error(county.post(too_many), 422, "invalid_request")
    huge = b'{"after": 10, "events": [], "pad": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    error(county.post(None, raw=huge), 413, "too_large")
    unchanged(county, before)


def test_only_a_county_manager_or_administrator_sees_the_townships(county: County, linkage: Linkage) -> None:
    api = linkage.api(county.server, "changqing")
    url = f"{county.server.url}/api/v1/link/halls"
    assert api.http.get(url).status_code == 401
    assert api.http.get(url, headers=api.bearer(api.staff("clerk", "clerk"))).status_code == 403
    assert api.http.get(url, headers=api.bearer(api.staff("boss", "manager"))).json() == []  # of changqing only
    everyone = api.http.get(url, headers=api.bearer(api.staff("root", "admin"))).json()
    assert [t["hall"] for t in everyone] == [HALL, OTHER_TOWNSHIP] and everyone[0]["last_seq"] == 10
    assert api.http.get(url, headers=api.bearer(county.token)).status_code == 401  # a link token is no login
