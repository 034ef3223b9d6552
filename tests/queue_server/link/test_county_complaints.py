"""投诉举报 up the link: a township's complaints reach the county in its shipped events; the county sees each
one's category, window, dates and lateness (never its text, answer, code or contact), with the figures the
township's own report shows."""

from __future__ import annotations

import datetime as dt

from tests.queue_server.link.conftest import COUNTY_HALL, OTHER_TOWNSHIP, Linkage
from tests.queue_server.link.test_county_dashboard import county_get, county_manager, with_county
from tests.queue_server.link.test_link_up import report
from tests.support.clock import SHANGHAI
from tests.support.server import HALL

SECRET = "窗口人员索要好处费，电话13900001234"


def test_a_townships_complaints_are_visible_at_the_county(linkage: Linkage) -> None:
    county = linkage.start_county(with_county(linkage.demo))
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township()
    here = linkage.api(township)
    on_time = here.http.post("/complaints", json={"category": "integrity", "text": SECRET, "window": 3,
                                                  "contact": "13900001234"})  # fmt: skip
    late = here.http.post("/complaints", json={"category": "efficiency", "text": "材料交了两周还没有结果。"})
    assert on_time.status_code == late.status_code == 201, (on_time.text, late.text)
    [first, _second] = sorted(here.http.get("/complaints", headers=here.bearer(here.manager)).json()["complaints"],
                             key=lambda c: c["id"])  # fmt: skip
    answered = here.http.post(f"/complaints/{first['id']}/answer", json={"answer": "已查实，当事人已调离窗口。"},
                              headers=here.bearer(here.manager))  # fmt: skip
    assert answered.status_code == 200, answered.text
    linkage.clock.set(dt.datetime(2026, 3, 24, 9, 0, tzinfo=SHANGHAI))  # the second is now overdue
    here.issue("jisheng")  # the township's newest event: the link ships everything before it too
    linkage.caught_up()

    local = linkage.api(county, COUNTY_HALL)
    boss = county_manager(local)
    answer = county_get(local, boss, "/complaints", period="month", date="2026-03-16")
    assert answer.status_code == 200, answer.text
    got = answer.json()
    halls = {h["hall"]: h for h in got["halls"]}
    assert list(halls) == [COUNTY_HALL, HALL, OTHER_TOWNSHIP]
    township_figures = halls[HALL]["figures"]
    township.login("director")  # a new day: the manager logs in again
    own = report(here, here.manager, period="month", date="2026-03-16")["complaints"]
    assert township_figures == own  # the county's figures are the township's own, exactly
    assert (own["received"], own["answered_on_time"], own["overdue"], own["on_time_rate"]) == (2, 1, 1, 0.5)
    rows = halls[HALL]["complaints"]
    assert [(r["category"], r["window"], r["state"], r["late"], r["overdue"]) for r in rows] == [
        ("integrity", 3, "answered", False, False), ("efficiency", None, "open", None, True)
    ]  # fmt: skip
    assert got["totals"]["received"] == 2 and halls[OTHER_TOWNSHIP]["figures"]["received"] == 0
    for private in ("好处费", "13900001234", "139****", "调离", on_time.json()["code"], late.json()["code"]):
        assert private not in answer.text
    # Only the county's managers (and administrators of every hall): the township's manager is refused.
    assert county_get(local, local.staff("director-cq", "manager"), "/complaints").status_code == 403
