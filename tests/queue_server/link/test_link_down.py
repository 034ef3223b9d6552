"""Link down end to end: the county publishes its catalogue and calendar; a township checks each version with its
own configuration, refuses a bad one for good, and serves a good one from its next day start."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from config.documents import dumps, sha256
from config.schema import HallConfig, ServiceItem
from queue_server.link.tables import link_documents
from tests.queue_server.conftest import Api
from tests.queue_server.link.conftest import Linkage, wait_until
from tests.support.clock import SHANGHAI
from tests.support.server import HALL

RENAMED = "jisheng-birth-registration"
NEW = "jisheng-county-added"


def catalogue(demo: HallConfig, *, extra: dict[str, Any] | None = None) -> str:
    """The county's catalogue file: the demo hall's items, one renamed, one added (and one more, if given)."""
    items = [item.model_dump(mode="python", exclude_defaults=True) for item in demo.hall(HALL).items]
    for item in items:
        if item["id"] == RENAMED:
            item["name_zh"] = "生育登记（县级统一版）"
    added = {**items[0], "id": NEW, "category": "jisheng", "name_zh": "县级新增事项", "name_en": "Added by the county"}
    return dumps({"items": [*items, added, *([extra] if extra else [])]})


def tax_item(demo: HallConfig) -> dict[str, Any]:
    """A county item of a category the county has and the township has not: the township must refuse it."""
    first = demo.hall(HALL).items[0].model_dump(mode="python", exclude_defaults=True)
    return {**first, "id": "shuiwu-invoice", "category": "shuiwu", "name_zh": "代开发票", "name_en": "Invoices"}


def items_served(api: Api) -> dict[str, str]:
    """The public catalogue the kiosk shows: item id → Chinese name."""
    answer = api.http.get("/catalog")
    assert answer.status_code == 200, answer.text
    return {item["id"]: item["name_zh"] for item in answer.json()["items"]}


def wall_documents(api: Api) -> dict[str, dict[str, Any]]:
    wall = api.http.get("/wall", headers=api.bearer(api.manager))
    assert wall.status_code == 200, wall.text
    return {d["kind"]: d for d in wall.json()["link"]["documents"]}


def county_documents(linkage: Linkage, api: Api) -> dict[str, dict[str, Any]]:
    admin = api.staff("county-admin", "admin")
    listed = api.http.get(f"{linkage.url}/api/v1/link/halls", headers=api.bearer(admin)).json()
    (township,) = [t for t in listed if t["hall"] == HALL]
    return {d["kind"]: d for d in township["documents"]}


def next_morning(linkage: Linkage) -> None:
    """8:00 the next day; the staff log in again (a login lasts one service day)."""
    now = linkage.clock().astimezone(SHANGHAI)
    linkage.clock.set(dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(8, 0), SHANGHAI))
    for server in linkage.running:
        for username in list(server.tokens):
            server.login(username)


def started(linkage: Linkage) -> tuple[Api, Api]:
    linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township_from_files()
    return linkage.api(township), linkage.api(linkage.county)  # type: ignore[arg-type]


def test_a_good_catalogue_is_served_from_the_next_day_start_and_a_bad_one_never(linkage: Linkage) -> None:
    here, there = started(linkage)
    before = items_served(here)
    assert len(before) == 91 and NEW not in before and before[RENAMED] == "生育登记"

    output = linkage.publish(catalogue(linkage.demo))
    assert "catalogue: published version 1 (92 items" in output
    assert "catalogue: unchanged, still version 1" in linkage.publish(catalogue(linkage.demo))  # same content
    wait_until(lambda: wall_documents(here)["catalogue"]["staged"] == 1, "the township did not stage version 1")
    assert items_served(here) == before  # staged, not served: today runs what it started with
    assert here.http.post(f"{here.server.url}/api/v1/config/reload",
                          headers=here.bearer(here.staff("admin", "admin"))).status_code == 200  # fmt: skip
    assert items_served(here) == before  # a reload the same day reads the same running files

    linkage.publish(catalogue(linkage.demo, extra=tax_item(linkage.demo)))  # version 2: a category it has not
    wait_until(lambda: wall_documents(here)["catalogue"]["refused"] == 2, "the township did not refuse version 2")
    shown = wall_documents(here)["catalogue"]
    assert (shown["running"], shown["staged"]) == (None, 1)
    assert (
        'service item "shuiwu-invoice" is in category "shuiwu", which hall "qingshan" does not have' in shown["refusal"]
    )
    assert "qingshan-catalogue-v2.toml:" in shown["refusal"]  # the file and line, as `bianmin config check` says
    wait_until(lambda: county_documents(linkage, there)["catalogue"]["refused"] == 2, "the county was not told")
    told = county_documents(linkage, there)["catalogue"]
    assert (told["published"], told["running"], told["staged"]) == (2, None, 1)
    assert items_served(here) == before

    next_morning(linkage)
    after = items_served(here)  # the first request of the new service day runs version 1
    assert after[RENAMED] == "生育登记（县级统一版）" and after[NEW] == "县级新增事项"
    assert "shuiwu-invoice" not in after and len(after) == 92  # the refused version 2 is never served
    assert here.issue(item_id=NEW)["number"].startswith("A")  # the kiosk issues the county's new item
    shown = wall_documents(here)["catalogue"]
    assert (shown["running"], shown["staged"], shown["refused"]) == (1, None, 2)
    wait_until(lambda: county_documents(linkage, there)["catalogue"]["running"] == 1, "the county did not see v1 run")
    running = Path(linkage.tmp / "township/var/link/qingshan-catalogue.toml")
    assert "version = 1" in running.read_text(encoding="utf-8")

    # A restart keeps what runs (the file the loader reads); the refused version is not fetched again.
    linkage.stop(linkage.township)  # type: ignore[arg-type]
    restarted = linkage.start_township_from_files()
    restarted.login("director")
    again = linkage.api(restarted)
    assert items_served(again) == after
    assert wall_documents(again)["catalogue"]["refused"] == 2


def test_a_county_calendar_changes_the_working_days_from_the_next_day_start(linkage: Linkage) -> None:
    here, there = started(linkage)

    def due(days: int) -> str:
        answer = here.http.get("/console/due-date", params={"days": days}, headers=here.bearer(here.staff("liuxia")))
        assert answer.status_code == 200, answer.text
        return str(answer.json()["due_date"])

    assert due(3) == "2026-03-19"  # Monday 16 March: Tuesday, Wednesday, Thursday
    bundled = (Path(__file__).parents[3] / "config/calendar/2026.toml").read_text(encoding="utf-8")
    county_day = '\n[[holidays]]\nname_zh = "县庆"\nname_en = "County Day"\nstart = 2026-03-18\nend = 2026-03-18\n'
    output = linkage.publish(catalogue(linkage.demo), bundled + county_day)
    assert "calendar: published version 1 (1 years" in output
    wait_until(lambda: wall_documents(here)["calendar"]["staged"] == 1, "the township did not stage the calendar")
    assert due(3) == "2026-03-19"  # not before the next day start
    slots = here.http.get("/appointments/slots", params={"category": "jisheng"}).json()
    assert "2026-03-18" in {day["day"] for day in slots["days"]}

    next_morning(linkage)
    assert due(3) == "2026-03-23"  # from Tuesday 17: Wednesday 18 is the county's holiday now
    slots = here.http.get("/appointments/slots", params={"category": "jisheng"}).json()
    assert [day["day"] for day in slots["days"]] == ["2026-03-17", "2026-03-19", "2026-03-20", "2026-03-23",
                                                     "2026-03-24"]  # no slots on the county's holiday  # fmt: skip
    assert wall_documents(here)["calendar"]["running"] == 1
    wait_until(lambda: county_documents(linkage, there)["calendar"]["running"] == 1, "the county did not see it run")


def test_a_body_that_is_not_what_the_index_says_is_refused_and_nothing_changes(linkage: Linkage) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    linkage.publish(catalogue(linkage.demo), None, "--only", "catalogue")
    with county.store.engine.begin() as conn:  # a version changed behind the index's digest
        conn.execute(update(link_documents).values(sha256="0" * 64))
    here = linkage.api(linkage.start_township_from_files())
    before = items_served(here)
    wait_until(lambda: "digest" in (wall_documents(here)["catalogue"]["error"] or ""), "the damage was not seen")
    shown = wall_documents(here)["catalogue"]
    assert (shown["running"], shown["staged"], shown["refused"]) == (None, None, None)
    folder = linkage.tmp / "township/var/link"
    assert not folder.exists() or not any(folder.iterdir())  # nothing written
    next_morning(linkage)
    assert items_served(here) == before


def test_the_county_serves_documents_only_to_its_townships_link_tokens(linkage: Linkage) -> None:
    linkage.start_county()
    token = linkage.add_token()
    linkage.publish(catalogue(linkage.demo))
    base = f"{linkage.url}/api/v1/link/halls"
    with httpx.Client(timeout=10, trust_env=False) as http:
        bearer = {"Authorization": f"Bearer {token}"}
        index = http.get(f"{base}/{HALL}/documents", headers=bearer)
        assert index.status_code == 200, index.text
        assert index.json()["catalogue"]["version"] == 1 and index.json()["calendar"]["version"] == 1
        body = http.get(f"{base}/{HALL}/documents/catalogue/1", headers=bearer)
        assert body.status_code == 200 and body.headers["content-type"].startswith("application/toml")
        assert ServiceItem  # the body is a county catalogue
        assert body.text.startswith("# 服务事项目录") and "[document]" in body.text
        for url, headers, status in [
            (f"{base}/{HALL}/documents", {}, 401),
            (f"{base}/{HALL}/documents", {"Authorization": "Bearer bml_wrong"}, 401),
            (f"{base}/baiyun/documents", bearer, 403),
            (f"{base}/{HALL}/documents/catalogue/2", bearer, 404),
            (f"{base}/{HALL}/documents/catalogue/0", bearer, 422),
            (f"{base}/{HALL}/documents/schedule/1", bearer, 422),
        ]:
            assert http.get(url, headers=headers).status_code == status, url


class HostileCounty:
    """A county server gone wrong, on loopback: it answers the township's link with what a test sets."""

    def __init__(self) -> None:
        self.index: bytes = b"{}"
        self.body: bytes = b""
        county = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the standard library's name
                self.answer(county.index if self.path.endswith("/documents") else county.body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                self.answer(json.dumps({"hall": HALL, "last_seq": 0}).encode())

            def answer(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def offer(self, body: bytes, **index: Any) -> None:
        """An index naming catalogue version 1 with this body (its digest and size unless told otherwise)."""
        info = {"version": 1, "sha256": sha256(body), "size": len(body), "published_at": "2026-03-16T01:00:00Z"}
        self.body, self.index = body, json.dumps({"catalogue": {**info, **index}}).encode()


@pytest.fixture
def hostile() -> Iterator[HostileCounty]:
    county = HostileCounty()
    yield county
    county.server.shutdown()
    county.server.server_close()


def test_malformed_answers_of_the_county_are_refused_and_nothing_is_applied(
    linkage: Linkage, hostile: HostileCounty
) -> None:
    linkage.token_file.write_text("bml_anything", encoding="utf-8")
    hostile.index = b"<html>not json</html>"
    township = linkage.start_township_from_files(url=hostile.url)
    here = linkage.api(township)
    before = items_served(here)
    folder = linkage.tmp / "township/var/link"

    def error() -> str:
        return str(wall_documents(here)["catalogue"]["error"] or "")

    wait_until(lambda: "index is malformed" in error(), "a non-JSON index was not refused")
    for index, seen in [
        (b'{"catalogue": {"version": -1, "sha256": "x", "size": 1, "published_at": "2026-03-16T01:00:00Z"}}',
         "catalogue.version"),
        (b'{"catalogue": {"version": 1, "sha256": "' + b"a" * 64 + b'", "size": 99999999, "published_at": "x"}}',
         "catalogue.size"),
    ]:  # fmt: skip
        hostile.index = index
        wait_until(lambda seen=seen: seen in error(), f"a malformed index was not refused ({seen})")
    hostile.offer(b"[document]\nkind = 'catalogue'\nversion = 1\n" + b"x" * 5000, size=100)  # longer than it said
    wait_until(lambda: "more than 100 bytes" in error(), "an overlong body was not refused")
    assert not folder.exists() or not any(folder.iterdir())  # nothing written of any of these

    hostile.offer(b"[document]\nkind = 'catalogue'\nversion = 1\n[[items]\n")  # its digest, but not TOML
    wait_until(lambda: wall_documents(here)["catalogue"]["refused"] == 1, "a broken document was not refused")
    assert "not valid TOML" in wall_documents(here)["catalogue"]["refusal"]
    hostile.offer(b"[document]\nkind = 'calendar'\nversion = 2\n", version=2)  # a calendar posing as a catalogue
    wait_until(lambda: wall_documents(here)["catalogue"]["refused"] == 2, "a document of another kind was not refused")
    assert "expected a catalogue" in wall_documents(here)["catalogue"]["refusal"]
    next_morning(linkage)
    assert items_served(here) == before and wall_documents(here)["catalogue"]["running"] is None
