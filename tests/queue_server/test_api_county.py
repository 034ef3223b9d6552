"""The county dashboard's routes: who may see them (county managers of the county, administrators of every hall),
what a county manager may not do, and every bad input a clear 4xx listed in the OpenAPI document."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from config.loader import default_config_path, load_config
from config.schema import County, HallConfig
from queue_server.cli import main
from queue_server.services import accounts
from queue_server.store.tables import users
from queue_server.store.writer import to_us
from tests.queue_server.conftest import Api
from tests.support.server import HALL, PASSWORD, RunningServer

COUNTY = County(id="qingshan-xian", name_zh="青山县", name_en="Qingshan County")
LIVE = f"/api/v1/counties/{COUNTY.id}/live"
REPORTS = f"/api/v1/counties/{COUNTY.id}/reports"
FORBIDDEN = "无权查看县级看板"


@pytest.fixture
def county(start_hall: Callable[..., RunningServer], hall_config: HallConfig) -> RunningServer:
    """A county center serving the demo hall, with a township (a copy) reporting to it."""
    township = hall_config.halls[0].model_copy(update={"id": "baiyun", "name_zh": "白云镇便民服务中心"})
    return start_hall(hall_config.model_copy(update={"county": COUNTY, "townships": [township]}))


@pytest.fixture
def capi(county: RunningServer, make_api: Callable[[RunningServer], Api]) -> Api:
    return make_api(county)


def county_manager(api: Api, username: str = "xian", county: str = COUNTY.id) -> str:
    api.server.store.run_global_sync(
        lambda conn, now: accounts.add_user(
            conn, to_us(now), username, "县主管", accounts.Role.COUNTY_MANAGER, PASSWORD, None, county
        )
    )
    answer = api.http.post(f"{api.server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def get(api: Api, path: str, token: str | None, **params: Any) -> httpx.Response:
    return api.http.get(f"{api.server.url}{path}", params=params, headers=api.bearer(token))


def test_a_county_manager_and_an_administrator_of_every_hall_see_the_county(capi: Api) -> None:
    boss = county_manager(capi)
    admin = capi.staff("root", "admin")
    for token in (boss, admin):
        live = get(capi, LIVE, token)
        assert live.status_code == 200, live.text
        assert [h["hall"] for h in live.json()["halls"]] == [HALL, "baiyun"]
        report = get(capi, REPORTS, token, period="month", date="2026-03-16")
        assert report.status_code == 200, report.text
        assert [r["key"] for r in report.json()["rows"]] == [HALL, "baiyun"]
    me = get(capi, "/api/v1/auth/me", boss).json()
    assert (me["role"], me["county"], me["halls"]) == ("county_manager", COUNTY.id, [])


def test_everyone_else_is_refused(capi: Api) -> None:
    assert get(capi, LIVE, None).status_code == 401
    scoped_admin = capi.staff("hall-admin", "admin", halls=[HALL])
    for token in (capi.staff("liuxia"), capi.manager, scoped_admin):
        for path in (LIVE, REPORTS):
            assert FORBIDDEN in capi.error(get(capi, path, token), 403, "forbidden")
    # A county manager of another county: refused here; its own county is not this server's (404).
    other = county_manager(capi, "elsewhere", "baiyun-xian")
    assert FORBIDDEN in capi.error(get(capi, LIVE, other), 403)
    assert "没有该县" in capi.error(get(capi, "/api/v1/counties/baiyun-xian/live", other), 404, "not_found")


def test_a_county_manager_acts_in_no_hall(capi: Api) -> None:
    boss = county_manager(capi)
    refused = [
        capi.http.get("/reports", headers=capi.bearer(boss)),
        capi.http.get("/wall", headers=capi.bearer(boss)),
        capi.http.get("/events", headers=capi.bearer(boss)),
        capi.act(boss, 1, "open", {"post": "A"}),
        capi.http.get(f"{capi.server.url}/api/v1/halls/baiyun/reports", headers=capi.bearer(boss)),
    ]
    for answer in refused:
        assert "县级主管只能查看县级看板" in capi.error(answer, 403, "forbidden")
    assert capi.error(get(capi, "/api/v1/staff", boss), 403)
    assert capi.board()["board"]["windows"][0]["state"] == "closed"  # nothing changed


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"period": "decade"}, 422, "query.period"),
        ({"by": "window"}, 422, "query.by"),
        ({"date": "2026-13-01"}, 422, "query.date"),
        ({"rank": "tickets"}, 422, "query.rank"),
        ({"format": "pdf"}, 422, "query.format"),
        ({"date": "1999-12-31"}, 422, "query.date"),  # the range is in the document (日期超出范围)
    ],
)
def test_bad_report_input_is_a_clear_4xx(capi: Api, params: dict[str, str], status: int, field: str | None) -> None:
    answer = get(capi, REPORTS, capi.staff("root", "admin"), **params)
    message = capi.error(answer, status)
    if field is not None:
        assert field in message
    else:
        assert "日期超出范围" in message


def test_an_unknown_county_is_404_for_an_administrator(capi: Api) -> None:
    admin = capi.staff("root", "admin")
    for path in ("/api/v1/counties/nowhere/live", "/api/v1/counties/nowhere/reports"):
        assert "没有该县" in capi.error(get(capi, path, admin), 404, "not_found")


def test_the_openapi_document_lists_every_status_of_the_county_routes(capi: Api) -> None:
    paths = httpx.get(f"{capi.server.url}/openapi.json").json()["paths"]
    live = paths["/api/v1/counties/{county}/live"]["get"]["responses"]
    reports = paths["/api/v1/counties/{county}/reports"]["get"]["responses"]
    assert set(live) == {"200", "401", "403", "404", "422", "503"}
    assert set(reports) == {"200", "400", "401", "403", "404", "422", "503"}
    assert set(reports["200"]["content"]) == {
        "application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    }  # fmt: skip


def test_an_administrator_adds_a_county_manager_through_the_staff_api(capi: Api) -> None:
    admin = capi.staff("root", "admin")
    url = f"{capi.server.url}/api/v1/staff"
    body = {"username": "xian", "display_name": "县主管", "role": "county_manager", "password": "password123"}
    added = capi.http.post(url, json={**body, "county": COUNTY.id}, headers=capi.bearer(admin))
    assert added.status_code == 201, added.text
    assert (added.json()["role"], added.json()["county"], added.json()["halls"]) == ("county_manager", COUNTY.id, [])
    refusals = [
        ({**body, "username": "a1"}, "县级主管须指定所属县"),
        ({**body, "username": "a2", "county": "nowhere"}, "没有该县"),
        ({**body, "username": "a3", "county": COUNTY.id, "halls": [HALL]}, "县级主管不属于任何大厅"),
        ({**body, "username": "a4", "role": "manager", "county": COUNTY.id, "halls": [HALL]}, "县级主管须指定所属县"),
    ]
    for refused, words in refusals:
        assert words in capi.error(capi.http.post(url, json=refused, headers=capi.bearer(admin)), 400)
    scoped = capi.staff("hall-admin", "admin", halls=[HALL])
    denied = capi.http.post(url, json={**body, "username": "a5", "county": COUNTY.id}, headers=capi.bearer(scoped))
    assert capi.error(denied, 403)
    changed = capi.http.patch(f"{url}/xian", json={"role": "manager"}, headers=capi.bearer(admin))
    assert "县级主管账号不能改为其他角色" in capi.error(changed, 400)
    listed = {a["username"]: a for a in capi.http.get(url, headers=capi.bearer(admin)).json()}
    assert set(listed) == {"root", "hall-admin", "xian"}
    assert listed["xian"]["county"] == COUNTY.id


def test_bianmin_user_add_makes_a_county_manager(tmp_path: Path, new_db: Callable[..., str | Path]) -> None:
    folder = tmp_path / "config"
    shutil.copytree(default_config_path().parent, folder)
    config = folder / "hall.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[county]\nid = "qingshan-xian"\nname_zh = "青山县"\nname_en = "Q"\n',
        encoding="utf-8",
    )
    assert load_config(config).county == County(id="qingshan-xian", name_zh="青山县", name_en="Q")
    db = new_db(migrated=False)
    runner = CliRunner()

    def add(*args: str) -> str:
        result = runner.invoke(main, ["user", "add", *args, "--config", str(config), "--db", str(db)],
                               input="password123\n")  # fmt: skip
        return f"{result.exit_code}: {result.output}"

    xian = ("--county", "qingshan-xian")
    made = add("xian", "--name", "县主管", "--role", "county_manager", *xian)
    assert made == f"0: added county_manager xian (县主管) of county {xian[1]}: its dashboard is /county/{xian[1]}\n"
    assert "no county 'other'" in add("b", "--name", "B", "--role", "county_manager", "--county", "other")
    assert "needs --county" in add("c", "--name", "C", "--role", "county_manager")
    assert "goes with --role county_manager" in add("d", "--name", "D", "--role", "manager", *xian)
    assert "belongs to no hall" in add("e", "--name", "E", "--role", "county_manager", *xian, "--hall", HALL)
    engine = create_engine(db if isinstance(db, str) else f"sqlite:///{db}")
    with engine.connect() as conn:
        found = conn.execute(select(users.c.username, users.c.role, users.c.county, users.c.all_halls)).all()
    engine.dispose()
    assert [tuple(r) for r in found] == [("xian", "county_manager", "qingshan-xian", False)]
