"""Link up end to end: a township on SQLite ships its log to a county on PostgreSQL, through outages and restarts."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import delete, update

from queue_server.errors import Conflict
from queue_server.link.tables import link_state
from queue_server.store.tables import events
from tests.queue_server.conftest import Api
from tests.queue_server.link.conftest import Linkage, acked, log_rows, peer, wait_until
from tests.support.clock import SHANGHAI
from tests.support.server import HALL

GOOD = {"level": "satisfied"}
WINDOWS = [(1, "liuxia", "jisheng"), (2, "zhaogang", "guotu"), (3, "wangfang", "minzheng")]


def traffic(api: Api, linkage: Linkage, tickets: int, *, rate_every: int = 3) -> None:
    """Tickets issued, called, served and (some) rated at the township, the clock moving on."""
    clerks = {window: clerk_at(api, clerk, window) for window, clerk, _ in WINDOWS}
    for n in range(tickets):
        window, _, category = WINDOWS[n % len(WINDOWS)]
        ticket = api.issue(category)
        linkage.clock.advance(minutes=2)
        called = api.ok(clerks[window], window, "call-next")
        assert called["ticket"]["number"] == ticket["number"], (called, ticket)
        linkage.clock.advance(seconds=30)
        api.serve(clerks[window], window)
        linkage.clock.advance(minutes=3)
        if n % rate_every == 0:
            assert api.http.post(f"/tickets/{ticket['track_token']}/rating", json=GOOD).status_code == 201


def clerk_at(api: Api, clerk: str, window: int) -> str:
    """The clerk's login, the window open (after a restart: logged in again, the window still open)."""
    if clerk in api.server.tokens:
        return api.server.tokens[clerk]
    try:
        return api.open(clerk, window)
    except Conflict:  # the account exists in this database already
        token = api.server.login(clerk)
        opened = api.act(token, window, "open", {"post": "A"})
        assert opened.status_code in (200, 409), opened.text
        return token


def report(api: Api, token: str, **query: Any) -> Any:
    response = api.http.get("/reports", params=query, headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_townships_tickets_reach_the_county_once_and_in_order(linkage: Linkage) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token() + "\n", encoding="utf-8")
    township = linkage.start_township()
    traffic(linkage.api(township), linkage, 6)
    linkage.caught_up()
    shipped = log_rows(county)
    assert shipped == log_rows(township)  # every column of every event, in seq order
    assert [row[0] for row in shipped] == list(range(1, len(shipped) + 1))
    types = {row[1] for row in shipped}
    assert {"ticket.issued", "ticket.called", "ticket.finished", "ticket.rated"} <= types
    held = peer(county)
    assert (held.last_seq, held.waiting, held.last_refusal) == (len(shipped), 0, None)

    # Link status on both sides: the township's wall, the county's list of its townships.
    here = linkage.api(township)
    wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
    assert wall["link"]["acked_seq"] == wall["link"]["newest_seq"] == len(shipped)
    assert wall["link"]["waiting"] == 0 and wall["link"]["last_error"] is None
    assert wall["link"]["url"] == linkage.url and wall["link"]["last_contact"] is not None
    there = linkage.api(county)
    admin = there.staff("county-admin", "admin")
    listed = there.http.get(f"{county.url}/api/v1/link/halls", headers=there.bearer(admin)).json()
    assert [(t["hall"], t["last_seq"], t["waiting"]) for t in listed] == [(HALL, len(shipped), 0), ("baiyun", 0, 0)]
    assert listed[0]["silent_s"] is not None and listed[0]["silent_s"] < 5 and listed[1]["last_contact"] is None
    assert listed[0]["version"]


def test_a_cut_link_catches_up_once_in_order_and_the_countys_report_equals_the_townships(
    linkage: Linkage, caplog: pytest.LogCaptureFixture
) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township()
    assert (county.store.engine.dialect.name, township.store.engine.dialect.name) == ("postgresql", "sqlite")
    here = linkage.api(township)
    traffic(here, linkage, 5)
    linkage.caught_up()
    before = len(log_rows(county))

    # The link is cut (the county is down) in the morning, and stays down for a simulated day: the township
    # serves the rest of Monday alone (60 tickets, to about 15:00), closes its day at 17:30, and opens again on
    # Tuesday morning (a new service day: numbering from 1 again) before the county is back.
    linkage.stop(county)
    with caplog.at_level(logging.ERROR, logger="queue_server.link.shipper"):
        traffic(here, linkage, 60)
        wait_until(lambda: any("cannot be reached" in r.getMessage() for r in caplog.records), "no error logged")
        linkage.clock.set(dt.datetime(2026, 3, 16, 17, 30, tzinfo=SHANGHAI))
        assert here.http.post("/day/close", headers=here.bearer(here.manager)).status_code == 200
        linkage.clock.set(dt.datetime(2026, 3, 17, 8, 30, tzinfo=SHANGHAI))
        township.tokens.clear()  # yesterday's logins have expired: the clerks log in and open their windows again
        township.tokens["director"] = township.login("director")
        traffic(here, linkage, 6)
    reported = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(reported) == 1  # reported once, however many retries
    wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
    assert wall["link"]["acked_seq"] == before
    assert wall["link"]["waiting"] == len(log_rows(township)) - before >= 280
    assert "cannot be reached" in wall["link"]["last_error"] and "无法连接" in wall["link"]["last_error"]

    county = linkage.start_county()  # back, on the same database and port
    linkage.caught_up()
    # Everything arrived once and in order: the county's copy is the township's log, every column of every event,
    # seq 1..N with none missing or doubled, and its checkpoint is the last seq.
    shipped, own = log_rows(county), log_rows(township)
    assert shipped == own
    assert [row[0] for row in shipped] == list(range(1, len(own) + 1))
    assert peer(county).last_seq == len(own)
    types = [row[1] for row in shipped]
    closes = [n for n, kind in enumerate(types) if kind == "day.closed"]  # the manager's; the roll finds it closed
    assert closes and all(n >= before for n in closes)
    wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
    assert wall["link"]["last_error"] is None and wall["link"]["waiting"] == 0

    # Every figure of the hall's two days, their week and month at the county equals the township's own.
    there = linkage.api(county)
    admin = there.staff("county-admin", "admin")
    issued = {"2026-03-16": 65, "2026-03-17": 6}
    for day, tickets in issued.items():
        for period in ("day", "week", "month"):
            for by in ("category", "window", "clerk"):
                ours = report(here, here.manager, period=period, date=day, by=by)
                theirs = report(there, admin, period=period, date=day, by=by)
                assert theirs == ours, (day, period, by)
        day_report = report(here, here.manager, period="day", date=day, by="category")
        assert day_report["totals"]["issued"] == day_report["totals"]["served"] == tickets
    assert report(there, admin, period="week", date="2026-03-17", by="category")["totals"]["issued"] == 71
    for day in issued:
        query = {"period": "day", "date": day}
        csv = there.http.get("/reports.csv", params=query, headers=there.bearer(admin))
        assert csv.status_code == 200
        assert csv.content == here.http.get("/reports.csv", params=query, headers=here.bearer(here.manager)).content
    # Nothing of the township is served at the county: no kiosks, windows or wall there.
    assert there.http.get("/wall", headers=there.bearer(admin)).status_code == 404
    assert there.http.get("/board").status_code == 404


def test_a_township_restart_resumes_after_the_acknowledged_seq(
    linkage: Linkage, caplog: pytest.LogCaptureFixture
) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township()
    traffic(linkage.api(township), linkage, 4)
    linkage.caught_up()
    done = acked(township)
    linkage.stop(township)
    with caplog.at_level(logging.INFO, logger="queue_server.link.shipper"):
        township = linkage.start_township()
        traffic(linkage.api(township), linkage, 3)
        linkage.caught_up()
    assert f"resumes after seq {done}" in caplog.text
    assert log_rows(county) == log_rows(township)


def test_the_countys_answer_wins_when_it_holds_less_or_more_than_the_township_thinks(linkage: Linkage) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township()
    traffic(linkage.api(township), linkage, 4)
    linkage.caught_up()
    full = log_rows(county)
    linkage.stop(township)
    linkage.stop(county)

    # The county restored from an older backup: it holds less than the township was told (a 409 gap, then resent).
    county = linkage.start_county()
    with county.store.engine.begin() as conn:
        conn.execute(delete(events).where(events.c.hall == HALL, events.c.seq > 10))
    township = linkage.start_township()
    linkage.caught_up()
    assert log_rows(county) == full == log_rows(township)
    assert peer(county).last_seq == len(full)

    # The township's own record says less than the county holds (a restored township file): replayed, not doubled.
    linkage.stop(township)
    with township.store.engine.begin() as conn:
        conn.execute(update(link_state).where(link_state.c.hall == HALL).values(acked_seq=3))
    township = linkage.start_township()
    linkage.caught_up()
    assert log_rows(county) == full == log_rows(township)


def test_a_wrong_or_missing_credential_is_shown_on_the_wall_and_nothing_is_sent(linkage: Linkage) -> None:
    county = linkage.start_county()
    linkage.add_token()
    linkage.token_file.write_text("bml_not-the-token", encoding="utf-8")
    township = linkage.start_township()
    here = linkage.api(township)
    traffic(here, linkage, 1)

    def shown() -> str | None:
        wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
        return wall["link"]["last_error"]  # type: ignore[no-any-return]

    wait_until(lambda: shown() is not None, "the refusal is not shown")
    assert "401" in (shown() or "") and "联动令牌无效" in (shown() or "")
    assert log_rows(county) == []
