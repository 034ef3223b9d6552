"""The county dashboard's data on real shipped data: a township on SQLite shipping to a county on PostgreSQL
that also serves its own hall. Each hall's figures in the county report equal that hall's own report."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from config.schema import County, HallConfig
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.queue_server.conftest import Api
from tests.queue_server.link.conftest import COUNTY_HALL, OTHER_TOWNSHIP, Linkage, county_config
from tests.queue_server.link.test_link_up import clerk_at, report, traffic
from tests.support.server import HALL, PASSWORD

COUNTY = County(id="changqing-xian", name_zh="长青县", name_en="Changqing County")
DAY = "2026-03-16"


def with_county(demo: HallConfig) -> HallConfig:
    return county_config(demo).model_copy(update={"county": COUNTY})


def county_manager(api: Api, username: str = "xian-zhuguan", county: str = COUNTY.id) -> str:
    """A county manager's login (as `bianmin user add --role county_manager --county` makes it)."""
    server = api.server
    server.store.run_global_sync(
        lambda conn, now: accounts.add_user(
            conn, to_us(now), username, "县主管", accounts.Role.COUNTY_MANAGER, PASSWORD, None, county
        )
    )
    answer = api.http.post(f"{server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json()["county"] == county and answer.json()["halls"] == []
    return str(answer.json()["access_token"])


def county_get(api: Api, token: str, path: str, **params: Any) -> httpx.Response:
    return api.http.get(f"{api.server.url}/api/v1/counties/{COUNTY.id}{path}", params=params, headers=api.bearer(token))


def test_each_halls_figures_in_the_county_report_equal_its_own_report(linkage: Linkage) -> None:
    county = linkage.start_county(with_county(linkage.demo))
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township()
    here = linkage.api(township)  # the township's own server
    traffic(here, linkage, 9)
    for _ in range(2):  # two citizens still waiting at the township
        here.issue("guotu")
    local = linkage.api(county, COUNTY_HALL)  # the county center's own hall, served live at the county
    traffic(local, linkage, 4, rate_every=2)
    local.issue("jisheng")
    here.issue("minzheng")  # the township's last event, after the local traffic: the link ships it
    linkage.caught_up()
    boss = county_manager(local)
    admin = local.staff("county-admin", "admin")

    for period in ("day", "week", "month", "year"):
        answer = county_get(local, boss, "/reports", period=period, date=DAY, by="hall")
        assert answer.status_code == 200, answer.text
        got = answer.json()
        township_own = report(here, here.manager, period=period, date=DAY)["totals"]
        local_own = report(local, admin, period=period, date=DAY)["totals"]
        rows = {row["key"]: row["figures"] for row in got["rows"]}
        assert rows[HALL] == township_own, period  # every figure, exactly
        assert rows[COUNTY_HALL] == local_own, period
        assert {h["hall"]: h["figures"] for h in got["halls"]}[HALL] == township_own
        township_cases = report(here, here.manager, period=period, date=DAY)["cases"]["totals"]
        assert {h["hall"]: h["cases"] for h in got["halls"]}[HALL] == township_cases  # folded from the shipped log
        assert {r["key"]: r["cases"] for r in got["rows"]}[HALL] == township_cases
        assert rows[OTHER_TOWNSHIP]["issued"] == 0  # never heard from: zeros, and no invented rates
        assert rows[OTHER_TOWNSHIP]["acceptance_rate"] is None and rows[OTHER_TOWNSHIP]["p90_wait_s"] is None
        assert {r["key"]: r["cases"] for r in got["rows"]}[OTHER_TOWNSHIP]["completion_rate"] is None
        total = got["total"]
        assert total["issued"] == township_own["issued"] + local_own["issued"] == 12 + 5
        assert total["served"] == 9 + 4
        assert total["staff"] == township_own["staff"] + local_own["staff"] == 6  # each hall's clerks count there
        assert total["windows"] == 6
        assert total["ratings"]["satisfied"] == township_own["ratings"]["satisfied"] + local_own["ratings"]["satisfied"]
        assert township_own["p90_wait_s"] == 120.0 and township_own["ratings"]["satisfied"] == 3
        assert total["by_agent"] + total["on_the_spot"] == total["served"]
    assert got["label_zh"] == "2026年" and got["start"] == "2026-01-01" and got["end"] == "2026-12-31"

    # By category and by item: the rows add up to the total, across both halls.
    for by in ("category", "item"):
        got = county_get(local, boss, "/reports", period="month", date=DAY, by=by).json()
        assert sum(r["figures"]["issued"] for r in got["rows"]) == got["total"]["issued"] == 17
        assert sum(r["figures"]["served"] for r in got["rows"]) == 13
    got = county_get(local, boss, "/reports", period="month", date=DAY, by="category").json()
    by_category = {r["key"]: r for r in got["rows"]}
    assert by_category["guotu"]["label_zh"] == "国土建设"
    assert by_category["guotu"]["figures"]["issued"] == 3 + 2 + 1  # both halls' tickets of the category

    # The ranking of halls by a chosen figure: most served first, the silent township last and unranked.
    ranked = county_get(local, boss, "/reports", period="month", date=DAY, rank="served").json()["ranking"]
    assert [(r["hall"], r["rank"], r["value"]) for r in ranked] == [(HALL, 1, 9.0), (COUNTY_HALL, 2, 4.0),
                                                                    (OTHER_TOWNSHIP, 3, 0.0)]  # fmt: skip
    waits = county_get(local, boss, "/reports", period="month", date=DAY, rank="avg_wait_s").json()["ranking"]
    assert waits[-1] == {"rank": None, "hall": OTHER_TOWNSHIP, "name_zh": "白云镇便民服务中心",
                         "name_en": waits[-1]["name_en"], "value": None}  # fmt: skip

    # The same report as files.
    csv = county_get(local, boss, "/reports", period="month", date=DAY, format="csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "长青县" in text and "合计 Total" in text and "直接办结 direct" in text and "委托代办 by agent" in text
    assert "办结率(%) completion rate (%)" in text and "受理率(%) visits accepted (%)" in text
    township_line = next(line for line in text.splitlines() if line.startswith("青山镇便民服务中心,qingshan,"))
    assert township_line.split(",")[2:5] == ["12", "9", "9"]  # issued, called, served
    xlsx = county_get(local, boss, "/reports", period="month", date=DAY, format="xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["分组 Groups", "排名 Ranking", "每日 Daily"]
    assert "attachment" in xlsx.headers["content-disposition"]


def test_the_county_counts_a_townships_completion_rate_from_the_cases_it_shipped(linkage: Linkage) -> None:
    """办结率 = completed / cases at every level: a township's 承诺件 completed days later and a 补办件 still open
    reach the county in its shipped log, and the county's figures are the township's own, not its tickets'."""
    county = linkage.start_county(with_county(linkage.demo))
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    here = linkage.api(linkage.start_township())
    clerk = clerk_at(here, "liuxia", 1)
    codes = []
    for case in ("immediate", "immediate", "promised", "supplement"):
        here.issue(item_id="jisheng-childcare-subsidy")
        linkage.clock.advance(minutes=2)
        here.ok(clerk, 1, "call-next")
        body = {"case_class": case, "missing_materials": ["户口簿 household register"]} if case == "supplement" else {
            "case_class": case}  # fmt: skip
        codes.append(here.serve(clerk, 1, body)["case_code"])
    linkage.clock.advance(minutes=30)
    done = here.http.post(f"/cases/{codes[2]}/complete", json={"result": "window"}, headers=here.bearer(clerk))
    assert done.status_code == 200, done.text
    here.issue("minzheng")  # the township's last event: the link ships everything before it
    linkage.caught_up()
    local = linkage.api(county, COUNTY_HALL)
    boss = county_manager(local)

    own = report(here, here.manager, period="month", date=DAY)
    assert own["cases"]["totals"]["cases"] == 4 and own["cases"]["totals"]["completed"] == 3
    assert own["cases"]["totals"]["completion_rate"] == 0.75 and own["cases"]["totals"]["on_time_rate"] == 1.0
    assert own["totals"]["acceptance_rate"] == 0.75  # visits: the 补办件 was not accepted, the 承诺件 was
    got = county_get(local, boss, "/reports", period="month", date=DAY, by="hall", rank="completion_rate").json()
    halls = {h["hall"]: h for h in got["halls"]}
    assert halls[HALL]["cases"] == own["cases"]["totals"]
    assert halls[OTHER_TOWNSHIP]["cases"]["cases"] == 0 and halls[OTHER_TOWNSHIP]["cases"]["completion_rate"] is None
    assert got["cases"]["cases"] == 4 and got["cases"]["completion_rate"] == 0.75  # the county's total
    assert (got["ranking"][0]["hall"], got["ranking"][0]["rank"], got["ranking"][0]["value"]) == (HALL, 1, 0.75)
    by_category = county_get(local, boss, "/reports", period="month", date=DAY, by="category").json()
    assert {r["key"]: r["cases"]["completion_rate"] for r in by_category["rows"]}["jisheng"] == 0.75
    csv = county_get(local, boss, "/reports", period="month", date=DAY, rank="completion_rate", format="csv")
    text = csv.content.decode("utf-8-sig")
    line = next(x for x in text.splitlines() if x.startswith("青山镇便民服务中心,qingshan,"))
    assert line.split(",")[-4:] == ["4", "3", "75.0", "100.0"]  # 受理件数, 办结件数, 办结率, 按时办结率
    assert "Ranking by completion rate (%)" in text and "1,青山镇便民服务中心,qingshan,75.0" in text.splitlines()


def test_the_live_grid_shows_each_hall_as_its_own_wall_and_marks_a_silent_township_stale(linkage: Linkage) -> None:
    county = linkage.start_county(with_county(linkage.demo))
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township()
    here = linkage.api(township)
    traffic(here, linkage, 3)
    clerk = clerk_at(here, "wangfang", 3)
    paused = here.act(clerk, 3, "pause", {"reason": "午休 lunch"})
    assert paused.status_code == 200, paused.text
    for _ in range(3):
        here.issue("guotu")
    linkage.clock.advance(minutes=41)  # the waits pass 国土建设's 40-minute alert, the pause its 15 minutes
    here.issue("jisheng")  # an event at the new time: the township's last contact is now
    local = linkage.api(county, COUNTY_HALL)
    local.open("liuxia", 1)
    local.issue("jisheng")
    linkage.caught_up()
    boss = county_manager(local)

    answer = county_get(local, boss, "/live")
    assert answer.status_code == 200, answer.text
    live = answer.json()
    assert (live["county"], live["name_zh"], live["stale_minutes"]) == (COUNTY.id, "长青县", 10)
    halls = {h["hall"]: h for h in live["halls"]}
    assert [h["hall"] for h in live["halls"]] == [COUNTY_HALL, HALL, OTHER_TOWNSHIP]

    # The township, from its shipped events, as its own manager's wall shows it.
    wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
    mine = halls[HALL]
    assert mine["kind"] == "township" and mine["stale"] is False and mine["silent_s"] < 60
    assert mine["waiting"] == sum(c["waiting"] for c in wall["categories"]) == 4
    assert mine["longest_wait_s"] == max(c["longest_wait_s"] or 0 for c in wall["categories"]) >= 41 * 60
    assert mine["open_windows"] == sum(w["state"] != "closed" for w in wall["windows"]) == 3
    assert mine["paused_windows"] == 1
    assert [a["message_zh"] for a in mine["alerts"]] == [a["message_zh"] for a in wall["alerts"]]
    assert {a["kind"] for a in mine["alerts"]} == {"wait", "pause"}
    assert (mine["issued_today"], mine["served_today"]) == (wall["today"]["issued"], wall["today"]["served"]) == (7, 3)

    # The county's own hall, as its wall.
    own = local.http.get("/wall", headers=local.bearer(local.manager)).json()
    assert halls[COUNTY_HALL]["kind"] == "local" and halls[COUNTY_HALL]["stale"] is False
    assert halls[COUNTY_HALL]["open_windows"] == 1 and halls[COUNTY_HALL]["waiting"] == 1
    assert halls[COUNTY_HALL]["issued_today"] == own["today"]["issued"] == 1

    # A township never heard from: stale, nothing invented.
    silent = halls[OTHER_TOWNSHIP]
    assert silent["stale"] is True and silent["last_heard"] is None and silent["waiting"] == 0
    assert live["stale"] == 1 and live["waiting"] == 5 and live["open_windows"] == 4

    # The link is cut and time passes: the township turns stale; its figures stay those of its last contact.
    linkage.stop(township)
    linkage.clock.advance(minutes=11)
    later = {h["hall"]: h for h in county_get(local, boss, "/live").json()["halls"]}[HALL]
    assert later["stale"] is True and later["silent_s"] >= 11 * 60
    assert (later["waiting"], later["longest_wait_s"], later["as_of"]) == (4, mine["longest_wait_s"], mine["as_of"])
