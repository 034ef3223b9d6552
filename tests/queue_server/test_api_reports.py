"""Reports, the live wall, the audit search and the console's reads, against a real server.

A day in the hall is driven through the API with a hand-set clock; the test keeps its own ledger of
what it did and when, recomputes every figure from that ledger, and compares it with the report, the
wall, the clerk's desk and the CSV/XLSX exports. Then: who may call what, CSRF, session expiry.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.clock import FakeClock
from tests.support.server import HALL

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

CASES = ["immediate", "promised", "supplement", "joint", "returned", "agent"]
FINISH_BODIES: dict[str, dict[str, Any]] = {
    "immediate": {"case_class": "immediate"},
    "promised": {"case_class": "promised", "promised_days": 5},
    "supplement": {"case_class": "supplement", "missing_materials": ["户口簿原件"]},
    "joint": {"case_class": "joint", "next_department": "县民政局"},
    "returned": {"case_class": "returned", "reason": "不符合受理条件"},
    "agent": {"case_class": "agent", "agent_name": "王代办"},
}


# --- the ledger: what the test did, in its own words ---------------------------------------------------


@dataclass
class Visit:
    number: str
    category: str
    issued: float  # seconds since the epoch
    called: float | None = None
    started: float | None = None
    finished: float | None = None
    case: str | None = None
    missed: bool = False
    transferred: bool = False
    window: int | None = None
    clerk: str | None = None


@dataclass
class Ledger:
    api: Api
    clock: FakeClock
    visits: dict[str, Visit] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def now(self) -> float:
        return self.clock().timestamp()

    def issue(self, category: str, **extra: str) -> str:
        answer = self.api.issue(category, **extra)
        self.visits[answer["number"]] = Visit(answer["number"], answer["category"], self.now())
        return str(answer["number"])

    def open(self, clerk: str, window: int, post: str = "A") -> None:
        self.tokens[clerk] = self.api.open(clerk, window, post)

    def act(self, clerk: str, window: int, action: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.api.ok(self.tokens[clerk], window, action, body)
        number = answer["ticket"]["number"] if answer.get("ticket") else None
        if number is None:
            return answer
        visit, now = self.visits[number], self.now()
        if action in ("call-next", "call", "recall", "start", "finish", "no-show"):
            visit.window, visit.clerk = window, clerk
        if action in ("call-next", "call") and visit.called is None:
            visit.called = now
        elif action == "start":
            visit.started = now
        elif action == "finish":
            visit.finished, visit.case = now, body["case_class"] if body else None
        elif action == "no-show":
            visit.missed = True
        elif action == "transfer":
            visit.transferred, visit.started = True, None
            if body and body.get("to_category"):
                visit.category = body["to_category"]
        return answer

    def serve(self, clerk: str, window: int, case: str, minutes: float) -> str:
        number = self.act(clerk, window, "call-next")["ticket"]["number"]
        self.clock.advance(seconds=30)
        self.act(clerk, window, "start")
        self.clock.advance(minutes=minutes)
        self.act(clerk, window, "finish", FINISH_BODIES[case])
        return str(number)

    # -- the expected figures ------------------------------------------------------------------------

    def expected(self, visits: list[Visit] | None = None) -> dict[str, Any]:
        visits = list(self.visits.values()) if visits is None else visits
        called = [v for v in visits if v.called is not None]
        done = [v for v in visits if v.case is not None]
        waits = [v.called - v.issued for v in called if v.called is not None]
        services = [v.finished - v.started for v in done if v.finished is not None and v.started is not None]
        cases = Counter(v.case for v in done)
        completed = cases["immediate"] + cases["promised"] + cases["joint"] + cases["agent"]
        return {
            "issued": len(visits),
            "called": len(called),
            "served": len(done),
            "no_shows": sum(v.missed and v.case is None for v in visits),
            "transferred": sum(v.transferred for v in visits),
            "avg_wait_s": statistics.fmean(waits) if waits else None,
            "max_wait_s": max(waits) if waits else None,
            "avg_service_s": statistics.fmean(services) if services else None,
            "min_service_s": min(services) if services else None,
            "max_service_s": max(services) if services else None,
            "on_the_spot": len(done) - cases["agent"],
            "by_agent": cases["agent"],
            "acceptance_rate": completed / len(done) if done else None,
            "satisfaction_rate": None,
            "case_classes": {c: cases[c] for c in CASES},
        }


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key, value in want.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, abs=1e-4 if key.endswith("rate") else 0.06), key
        else:
            assert got[key] == value, key


@pytest.fixture
def day(api: Api, clock: FakeClock) -> Ledger:
    """A morning in the hall: three windows, fourteen tickets, every case class, a no-show, a recall,
    a transfer served at another window, a pause, people still waiting."""
    ledger = Ledger(api, clock)
    for _ in range(6):
        ledger.issue("jisheng")
        clock.advance(minutes=1)
    ledger.issue("jisheng", priority="green")
    for _ in range(3):
        ledger.issue("laobao")
        clock.advance(minutes=2)
    ledger.issue("zonghe")
    clock.advance(minutes=5)
    ledger.open("liuxia", 1)
    ledger.open("hujun", 5)
    ledger.open("chenjing", 10, "A")
    ledger.serve("liuxia", 1, "immediate", 4)
    ledger.serve("hujun", 5, "promised", 7)
    ledger.serve("chenjing", 10, "supplement", 3)
    ledger.serve("liuxia", 1, "joint", 6)
    # a no-show after a recall
    ledger.act("liuxia", 1, "call-next")
    clock.advance(minutes=1)
    ledger.act("liuxia", 1, "recall")
    clock.advance(minutes=2)
    ledger.act("liuxia", 1, "no-show")
    # a transfer from window 10 to window 5, served there
    ledger.act("chenjing", 10, "call-next")
    clock.advance(seconds=40)
    ledger.act("chenjing", 10, "start")
    clock.advance(minutes=1)
    ledger.act("chenjing", 10, "transfer", {"to_window": 5, "reason": "属劳保业务"})
    ledger.serve("hujun", 5, "returned", 2)
    ledger.serve("chenjing", 10, "agent", 5)
    ledger.serve("liuxia", 1, "immediate", 3)
    ledger.act("hujun", 5, "pause", {"reason": "会议"})
    clock.advance(minutes=3)
    return ledger


# --- the report --------------------------------------------------------------------------------


def test_the_days_report_equals_the_figures_recomputed_from_what_the_test_did(api: Api, day: Ledger) -> None:
    response = api.http.get("/reports", params={"period": "day", "date": "2026-03-16"}, headers=api.bearer(api.manager))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["period"], report["start"], report["end"], report["by"]) == (
        "day",
        "2026-03-16",
        "2026-03-16",
        "category",
    )
    assert_same(report["totals"], day.expected())
    assert report["totals"]["satisfaction_rate"] is None
    assert all(count > 0 for count in report["totals"]["case_classes"].values())
    for group in report["groups"]:
        mine = [v for v in day.visits.values() if v.category == group["key"]]
        assert_same(group["figures"], day.expected(mine))
    assert sum(report["hourly_arrivals"]) == len(day.visits) == report["hourly_arrivals"][9]


@pytest.mark.parametrize("by", ["window", "clerk"])
def test_the_report_by_window_and_by_clerk_equals_the_ledger(api: Api, day: Ledger, by: str) -> None:
    report = api.http.get("/reports", params={"by": by}, headers=api.bearer(api.manager)).json()
    attribute = "window" if by == "window" else "clerk"
    for group in report["groups"]:
        mine = [v for v in day.visits.values() if str(getattr(v, attribute) or "") == (group["key"] or "")]
        assert_same(group["figures"], day.expected(mine))
    labels = [g["label_zh"] for g in report["groups"]]
    assert labels[-1] == "未叫号"
    if by == "clerk":
        assert "liuxia" in labels  # display name = username in these tests
    else:
        assert labels[0] == "1号 计生服务窗口"


def test_the_week_and_month_contain_the_day_and_nothing_else(api: Api, day: Ledger, clock: FakeClock) -> None:
    clock.advance(days=1)  # Tuesday: a new service day with one ticket
    day.api.issue("guotu")
    headers = api.bearer(api.manager)
    monday = api.http.get("/reports", params={"date": "2026-03-16"}, headers=headers).json()
    week = api.http.get("/reports", params={"period": "week", "date": "2026-03-18"}, headers=headers).json()
    month = api.http.get("/reports", params={"period": "month", "date": "2026-03-01"}, headers=headers).json()
    february = api.http.get("/reports", params={"period": "month", "date": "2026-02-27"}, headers=headers).json()
    assert week["totals"]["issued"] == month["totals"]["issued"] == monday["totals"]["issued"] + 1
    assert week["totals"]["served"] == monday["totals"]["served"]
    assert [d["issued"] for d in week["daily"]][:2] == [monday["totals"]["issued"], 1]
    assert len(month["daily"]) == 31
    assert february["totals"]["issued"] == 0 and february["totals"]["avg_wait_s"] is None


def test_the_exports_read_back_with_the_reports_figures(api: Api, day: Ledger) -> None:
    headers = api.bearer(api.manager)
    params = {"period": "day", "date": "2026-03-16", "by": "window"}
    report = api.http.get("/reports", params=params, headers=headers).json()
    as_csv = api.http.get("/reports.csv", params=params, headers=headers)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="bianmin-qingshan-day-2026-03-16-by-window.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    totals = {row[0]: row[1] for row in rows if len(row) >= 2}
    expected = day.expected()
    assert int(totals["取号数 issued"]) == expected["issued"]
    assert int(totals["办结登记 served"]) == expected["served"]
    assert int(totals["过号 no-shows"]) == expected["no_shows"]
    assert float(totals["平均等候(分钟) avg wait (min)"]) == round(expected["avg_wait_s"] / 60, 1)
    assert float(totals["受理率(%) visits accepted (%)"]) == round(expected["acceptance_rate"] * 100, 1)
    # 办结率 counts cases: each visit of the day opened one, and only its 即办件 opened completed
    completion = expected["case_classes"]["immediate"] / expected["served"]
    assert report["cases"]["totals"]["completion_rate"] == round(completion, 4)
    assert float(totals["办结率(%) completion rate (%)"]) == round(completion * 100, 1)
    assert int(totals["受理件数 cases"]) == expected["served"]
    assert totals["满意率(%) satisfaction rate (%)"] == "—"
    window_rows = {row[1]: row for row in rows if len(row) > 20 and row[1] in {"1", "5", "10"}}
    assert set(window_rows) == {"1", "5", "10"}
    for group in report["groups"]:
        if group["key"] in window_rows:
            assert int(window_rows[group["key"]][4]) == group["figures"]["served"]

    as_xlsx = api.http.get("/reports.xlsx", params=params, headers=headers)
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(as_xlsx.content))
    values = {r[0]: r[1] for r in book["汇总 Summary"].iter_rows(values_only=True) if r and r[0]}
    assert values["取号数 issued"] == expected["issued"]
    assert values["受理率(%) visits accepted (%)"] == pytest.approx(expected["acceptance_rate"], abs=1e-4)
    assert values["办结率(%) completion rate (%)"] == pytest.approx(completion, abs=1e-4)
    assert values["最长办理(分钟) longest service (min)"] == round(expected["max_service_s"] / 60, 1)
    names = {
        "immediate": "即办件",
        "promised": "承诺件",
        "supplement": "补办件",
        "joint": "联办件",
        "returned": "退回件",
    }
    for case, count in expected["case_classes"].items():
        zh = names.get(case, "代理件")
        label = next(k for k in values if isinstance(k, str) and k.startswith(zh))
        assert values[label] == count


def test_the_audit_trail_agrees_with_the_ledger(api: Api, day: Ledger) -> None:
    """The same figures recounted from the event log itself, as the manager's audit search returns it."""
    events = api.events()
    finished = [e for e in events if e["type"] == "ticket.finished"]
    assert Counter(e["payload"]["case_class"] for e in finished) == Counter(
        v.case for v in day.visits.values() if v.case
    )
    assert {e["payload"]["number"] for e in events if e["type"] == "ticket.issued"} == set(day.visits)
    assert all(e["actor"] and e["window"] and e["post"] for e in finished)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "decade"}, "period"),
        ({"date": "16/03/2026"}, "date"),
        ({"by": "colour"}, "by"),
        ({"date": "1999-12-31"}, "date must be between"),
    ],
)
def test_a_bad_report_request_is_a_clear_error(shared_api: Api, params: dict[str, str], message: str) -> None:
    api = shared_api  # each request is refused: one server for them all
    response = api.http.get("/reports", params=params, headers=api.bearer(api.manager))
    assert response.status_code in (400, 422)
    assert message in response.json()["error"]["message"]


# --- the wall ------------------------------------------------------------------------------------


def test_the_wall_shows_windows_categories_todays_figures_and_alerts(api: Api, day: Ledger, clock: FakeClock) -> None:
    wall = api.http.get("/wall", headers=api.bearer(api.manager)).json()
    assert_same(wall["today"], day.expected())
    windows = {w["number"]: w for w in wall["windows"]}
    assert windows[1]["state"] == "open" and windows[1]["clerk"] == "liuxia" and windows[1]["post"] == "A"
    assert windows[5]["state"] == "paused" and windows[5]["paused_reason"] == "会议"
    assert windows[5]["state_s"] == 180 and not windows[5]["pause_alert"]
    assert windows[2]["state"] == "closed" and windows[2]["clerk"] is None
    waiting = {c["code"]: c for c in wall["categories"]}
    left = [v for v in day.visits.values() if v.called is None]
    assert sum(c["waiting"] for c in wall["categories"]) == len(left)
    jisheng = [v for v in left if v.category == "jisheng"]
    assert waiting["jisheng"]["waiting"] == len(jisheng)
    assert waiting["jisheng"]["longest_wait_s"] == int(day.now() - min(v.issued for v in jisheng))
    assert waiting["guotu"]["waiting"] == 0 and waiting["guotu"]["longest_wait_s"] is None
    assert waiting["jisheng"]["alert"]  # more than 30 minutes by now
    assert {a["kind"] for a in wall["alerts"]} == {"wait"}
    # Window 1 serves a ticket for 4 minutes, window 5 stays paused past the hall's 15 minutes.
    day.act("liuxia", 1, "call-next")
    day.act("liuxia", 1, "start")
    clock.advance(minutes=13)
    wall = api.http.get("/wall", headers=api.bearer(api.manager)).json()
    windows = {w["number"]: w for w in wall["windows"]}
    assert windows[1]["current_state"] == "serving" and windows[1]["serving_s"] == 13 * 60
    assert windows[5]["pause_alert"]
    pause = next(a for a in wall["alerts"] if a["kind"] == "pause")
    assert pause["window"] == 5 and pause["minutes"] == 16 and pause["threshold_minutes"] == 15
    assert "暂停" in pause["message_zh"] and "会议" in pause["message_zh"]


def test_the_wall_follows_each_event(api: Api, clock: FakeClock) -> None:
    headers = api.bearer(api.manager)
    assert api.http.get("/wall", headers=headers).json()["today"]["issued"] == 0
    api.issue("jisheng")
    assert api.http.get("/wall", headers=headers).json()["today"]["issued"] == 1
    token = api.open("liuxia", 1)
    api.ok(token, 1, "call-next")
    wall = api.http.get("/wall", headers=headers).json()
    assert wall["today"]["called"] == 1 and wall["windows"][0]["current_number"] == "A001"
    assert wall["seq"] == api.seq()


# --- the clerk's console -------------------------------------------------------------------------


def test_the_desk_shows_my_window_its_ticket_with_the_due_date_and_todays_counts(api: Api, day: Ledger) -> None:
    item = "jisheng-childcare-subsidy"  # a promised item: 20 working days
    day.issue("jisheng", item_id=item)
    token = day.tokens["liuxia"]
    # The green-channel ticket and the earlier ones come first: call until the item's ticket is current.
    for _ in range(10):
        number = day.act("liuxia", 1, "call-next")["ticket"]["number"]
        if number == list(day.visits)[-1]:
            break
        day.act("liuxia", 1, "no-show")
    desk = api.http.get("/console/desk", headers=api.bearer(token)).json()
    assert desk["window"]["number"] == 1 and desk["window"]["post"] == "A"
    assert desk["current"]["item_id"] == item and desk["current"]["promised_days"] == 20
    assert desk["current"]["due_date"] == "2026-04-14"  # 20 working days after Monday 16 March 2026
    mine = [v for v in day.visits.values() if v.clerk == "liuxia"]
    assert_same(desk["today_me"], day.expected(mine))
    at_window = [v for v in day.visits.values() if v.window == 1]
    assert_same(desk["today_window"], day.expected(at_window))


def test_a_desk_without_a_window_has_only_my_counts(api: Api) -> None:
    desk = api.http.get("/console/desk", headers=api.bearer(api.staff("liuxia"))).json()
    assert desk["window"] is None and desk["current"] is None and desk["waiting"] == []
    assert desk["today_window"] is None and desk["today_me"]["issued"] == 0


def test_the_console_setup_knows_my_posts_items_and_departments(api: Api) -> None:
    setup = api.http.get("/console/setup", headers=api.bearer(api.staff("chenjing"))).json()
    posts = {w["number"]: w["my_post"] for w in setup["windows"]}
    assert posts[1] == "B" and posts[10] == "A" and posts[2] is None
    assert len(setup["items"]) == 91 and all(i["materials"] for i in setup["items"])
    assert setup["departments"] == sorted(set(setup["departments"]))
    assert setup["recall_limit"] == 3


def test_the_due_date_follows_the_halls_working_day_calendar(api: Api) -> None:
    token = api.staff("liuxia")
    assert (
        api.http.get("/console/due-date", params={"days": 5}, headers=api.bearer(token)).json()["due_date"]
        == "2026-03-23"
    )
    api.error(api.http.get("/console/due-date", params={"days": 0}, headers=api.bearer(token)), 422)


def test_the_supplement_notice_is_an_80mm_png(api: Api) -> None:
    body = {"item_id": "jisheng-birth-registration", "materials": ["出生医学证明", "其他：户口簿"], "window": 1}
    response = api.http.post("/console/supplement-notice", json=body, headers=api.bearer(api.staff("liuxia")))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    from PIL import Image

    image = Image.open(io.BytesIO(response.content))
    assert image.width == 576 and image.height > 300
    missing = api.http.post(
        "/console/supplement-notice", json={**body, "item_id": "no-such-item"}, headers=api.bearer(api.staff("liuxia"))
    )
    api.error(missing, 404)


# --- the audit search ----------------------------------------------------------------------------


def test_the_audit_trail_is_searchable(api: Api, day: Ledger, clock: FakeClock) -> None:
    headers = api.bearer(api.manager)

    def search(**params: Any) -> list[dict[str, Any]]:
        response = api.http.get("/events", params={"limit": 1000, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["events"])

    everything = search()
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)
    assert all(e["actor"] == "hujun" for e in search(actor="hujun"))
    assert {e["type"] for e in search(window=5)} >= {"window.opened", "ticket.finished", "window.paused"}
    assert {e["type"] for e in search(type="window.*")} == {"window.opened", "window.paused"}
    assert {e["type"] for e in search(type="ticket.no_show,ticket.recalled")} == {"ticket.no_show", "ticket.recalled"}
    transferred = next(v for v in day.visits.values() if v.transferred)
    trail = search(number=transferred.number)
    assert [e["type"] for e in trail] == [
        "ticket.issued", "ticket.called", "ticket.started", "ticket.transferred",
        "ticket.called", "ticket.started", "ticket.finished",
    ]  # fmt: skip
    assert [e["window"] for e in trail[1:]] == [10, 10, 10, 5, 5, 5]
    assert [e["type"] for e in search(q="会议")] == ["window.paused"]
    assert [e["payload"]["agent_name"] for e in search(q="王代办")] == ["王代办"]
    assert search(q="AGENT") == search(q="agent") != []  # the case of Latin letters does not matter, on any backend
    assert search(q="%") == []  # LIKE wildcards are searched for as themselves
    assert len(search(**{"from": "2026-03-16", "to": "2026-03-16"})) == len(everything)
    assert search(**{"from": "2026-03-17"}) == []
    assert search(**{"to": "2026-03-16T09:00:30"})[0]["type"] == "ticket.issued"
    newest = search(order="desc", limit=5)
    assert [e["seq"] for e in newest] == sorted((e["seq"] for e in everything), reverse=True)[:5]
    older = search(order="desc", limit=5, before=newest[-1]["seq"])
    assert older[0]["seq"] == newest[-1]["seq"] - 1
    # Each page says where it is: its offset among the matches, and how many match in all.
    page = api.http.get("/events", params={"order": "desc", "limit": 5, "before": newest[-1]["seq"]}, headers=headers)
    assert (page.json()["offset"], page.json()["total"]) == (5, len(everything))  # the five newest came first
    finished = api.http.get("/events", params={"type": "ticket.finished", "limit": 2}, headers=headers).json()
    assert (finished["offset"], finished["total"]) == (0, len(search(type="ticket.finished")))
    assert everything[-1]["actor_name"] == "hujun"


@pytest.mark.parametrize(
    "params",
    [
        {"type": "ticket.finished;drop"}, {"from": "yesterday"}, {"to": "2026-13-01"}, {"number": "A0"}, {"window": 0},
        # Beyond BIGINT: both databases refuse such a parameter (SQLite OverflowError, PostgreSQL out of range).
        {"since": 2**63}, {"before": 2**63, "order": "desc"},
    ],
)  # fmt: skip
def test_a_bad_audit_search_is_a_clear_error(shared_api: Api, params: dict[str, Any]) -> None:
    api = shared_api  # each request is refused: one server for them all
    response = api.http.get("/events", params=params, headers=api.bearer(api.manager))
    assert response.status_code in (400, 422), response.text


# --- who may call what ---------------------------------------------------------------------------

SUPERVISOR = ("manager", "admin")
STAFF = ("clerk", "manager", "admin")
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, tuple[str, ...]]] = [
    ("GET", "/reports", None, SUPERVISOR),
    ("GET", "/reports.csv?period=week", None, SUPERVISOR),
    ("GET", "/reports.xlsx?period=month&by=clerk", None, SUPERVISOR),
    ("GET", "/wall", None, SUPERVISOR),
    ("GET", "/events?type=ticket.*&order=desc", None, SUPERVISOR),
    ("GET", "/console/setup", None, STAFF),
    ("GET", "/console/desk", None, STAFF),
    ("GET", "/console/due-date?days=3", None, STAFF),
    (
        "POST",
        "/console/supplement-notice",
        {"item_id": "jisheng-birth-registration", "materials": ["x"], "window": 1},
        STAFF,
    ),
]
WHO = ["nobody", "unknown", "device", "clerk", "manager", "admin"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_every_endpoint_enforces_its_role(
    shared_api: Api, method: str, path: str, body: dict[str, Any] | None, allowed: tuple[str, ...], who: str
) -> None:
    api = shared_api  # each call only reads or is refused, and the seq says so: one server for them all
    token = {
        "nobody": None,
        "unknown": "bms_" + "x" * 43,
        "device": api.kiosk if who == "device" else None,
        "clerk": api.staff("liuxia", "clerk") if who == "clerk" else None,
        "manager": api.staff("boss", "manager") if who == "manager" else None,
        "admin": api.staff("root", "admin") if who == "admin" else None,
    }[who]
    seq = api.seq()
    response = api.http.request(method, path, json=body, headers=api.bearer(token))
    if who in allowed:
        assert response.status_code == 200, response.text
    elif who in ("nobody", "unknown"):
        api.error(response, 401, "unauthorized")
    else:
        api.error(response, 403, "forbidden")
    assert api.seq() == seq  # reading changes nothing


def test_the_pages_are_public_but_their_data_is_not(api: Api) -> None:
    base = api.server.url
    for page in ("/clerk", "/manager"):
        redirect = httpx.get(f"{base}{page}", trust_env=False)
        assert redirect.status_code == 307 and redirect.headers["location"] == f"{page}/{HALL}"
        html = httpx.get(f"{base}{page}/{HALL}", trust_env=False)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "liuxia" not in html.text  # no clerk's username in a page anyone can load
        assert "frame-ancestors 'none'" in html.headers["content-security-policy"]
        assert "script-src 'self'" in html.headers["content-security-policy"]
        assert html.headers["x-frame-options"] == "DENY"
        assert "__CONFIG__" not in html.text and "__VERSION__" not in html.text
    assert httpx.get(f"{base}/clerk/nowhere", trust_env=False).status_code == 404
    for asset in ("clerk/clerk.js", "clerk/common.css", "manager/manager.js", "vendor/chart.umd.min.js"):
        response = httpx.get(f"{base}/console/{asset}", trust_env=False)
        assert response.status_code == 200, asset
    for hidden in (
        "vendor/README.md",
        "clerk/index.html",
        "vendor/chart.js.LICENSE.md",
        "web/board.js",
        "clerk/..%2Fboard.js",
    ):
        assert httpx.get(f"{base}/console/{hidden}", trust_env=False).status_code == 404, hidden


def test_a_cross_site_form_post_carries_no_credentials_and_is_refused(api: Api) -> None:
    """The pages keep their bearer token in the tab (sessionStorage); the server sets no cookie, so a
    form on another site that posts to the hall's server is refused and changes nothing."""
    token = api.open("liuxia", 1)
    api.issue("jisheng")
    login = httpx.post(
        f"{api.server.url}/api/v1/auth/login",
        json={"username": "liuxia", "password": "correct horse 42"},
        trust_env=False,
    )
    assert login.status_code == 200 and "set-cookie" not in login.headers
    seq = api.seq()
    evil = {"Origin": "http://evil.example", "Referer": "http://evil.example/page", "Cookie": f"session={token}"}
    for path, form in [
        ("/windows/1/call-next", {}),
        ("/windows/1/pause", {"reason": "x"}),
        ("/day/close", {}),
    ]:
        response = api.http.post(path, data=form, headers=evil)
        api.error(response, 401, "unauthorized")
    staff = httpx.post(
        f"{api.server.url}/api/v1/staff",
        data={"username": "mallory", "display_name": "M", "role": "admin", "password": "12345678"},
        headers=evil,
        trust_env=False,
    )
    assert staff.status_code == 401
    assert api.seq() == seq
    # No CORS: a script on another origin cannot read the answers or send the Authorization header.
    preflight = api.http.options(
        "/wall",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"},
    )  # fmt: skip
    assert "access-control-allow-origin" not in preflight.headers


def test_a_login_expires_for_the_console_and_the_dashboard(api: Api, clock: FakeClock) -> None:
    clerk, manager = api.staff("liuxia"), api.manager
    assert api.http.get("/console/desk", headers=api.bearer(clerk)).status_code == 200
    clock.advance(hours=11, minutes=59)
    assert api.http.get("/wall", headers=api.bearer(manager)).status_code == 200
    clock.advance(minutes=2)
    api.error(api.http.get("/console/desk", headers=api.bearer(clerk)), 401, "unauthorized")
    api.error(api.http.get("/reports", headers=api.bearer(manager)), 401, "unauthorized")


def test_the_reports_are_computed_from_the_event_log_not_the_ticket_rows(api: Api, day: Ledger) -> None:
    """Changing a ticket row behind the service's back changes no figure: the log is the source."""
    from sqlalchemy import update

    from queue_server.store.tables import tickets

    before = api.http.get("/reports", headers=api.bearer(api.manager)).json()["totals"]
    api.server.store.run_global_sync(lambda conn, _now: conn.execute(update(tickets).values(case_class="returned")))
    after = api.http.get("/reports", headers=api.bearer(api.manager)).json()["totals"]
    assert after == before
