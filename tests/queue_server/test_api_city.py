"""The city rollup's routes on a city server (no hall of its own): city managers made through the staff API and
`bianmin user add`, a city with no traffic yet, and every status listed in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from config.loader import load_config
from queue_server.cli import main
from queue_server.store.tables import users
from tests.queue_server.conftest import Api
from tests.support.city import CITY, write_city
from tests.support.server import RunningServer

HEADLINE = f"/api/v1/cities/{CITY}/headline"
REPORTS = f"/api/v1/cities/{CITY}/reports"


@pytest.fixture
def city_file(tmp_path: Path) -> Path:
    return write_city(tmp_path / "city")


@pytest.fixture
def capi(start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], city_file: Path) -> Api:
    """A city server of two counties (four halls, none served here); the API client points at one of its halls."""
    return make_api(start_hall(load_config(city_file)))


def get(api: Api, path: str, token: str | None, **params: Any) -> httpx.Response:
    return api.http.get(f"{api.server.url}{path}", params=params, headers=api.bearer(token))


def test_an_administrator_adds_a_city_manager_who_sees_the_citys_headline(capi: Api) -> None:
    admin = capi.staff("root", "admin")
    url = f"{capi.server.url}/api/v1/staff"
    body = {"username": "shi", "display_name": "市主管", "role": "city_manager", "password": "password123"}
    added = capi.http.post(url, json={**body, "city": CITY}, headers=capi.bearer(admin))
    assert added.status_code == 201, added.text
    assert (added.json()["role"], added.json()["city"], added.json()["halls"]) == ("city_manager", CITY, [])
    refusals = [
        ({**body, "username": "a1"}, "市级主管须指定所属市"),
        ({**body, "username": "a2", "city": "nowhere"}, "没有该市"),
        ({**body, "username": "a3", "city": CITY, "halls": ["qingshan"]}, "市级主管不属于任何大厅"),
        ({**body, "username": "a4", "role": "county_manager", "county": "changqing"}, "没有该县"),
    ]
    for refused, words in refusals:
        assert words in capi.error(capi.http.post(url, json=refused, headers=capi.bearer(admin)), 400)
    changed = capi.http.patch(f"{url}/shi", json={"role": "manager"}, headers=capi.bearer(admin))
    assert "市级主管账号不能改为其他角色" in capi.error(changed, 400)

    login = capi.http.post(f"{capi.server.url}/api/v1/auth/login", json={"username": "shi", "password": "password123"})
    boss = login.json()["access_token"]
    assert login.json()["city"] == CITY
    me = capi.http.get(f"{capi.server.url}/api/v1/auth/me", headers=capi.bearer(boss)).json()
    assert (me["role"], me["city"], me["halls"]) == ("city_manager", CITY, [])
    table = get(capi, HEADLINE, boss, date="2026-03-16").json()
    assert [line["county"] for line in table["counties"]] == ["changqing", "baishui"]
    assert [line["centers"] for line in table["counties"]] == [2, 2] and table["total"]["windows"] == 40
    assert table["total"]["served"] == 0 and table["total"]["completion_rate"] is None  # nothing yet: no rate
    assert table["total"]["centers_active"] == 0
    rows = get(capi, REPORTS, boss, date="2026-03-16", by="hall").json()["rows"]
    assert [row["key"] for row in rows] == ["changqing", "qingshan", "baishui", "baiyun"]
    assert capi.error(get(capi, "/api/v1/staff", boss), 403)  # no staff administration for a city manager


def test_the_city_page_and_the_county_pages_are_where_they_belong(capi: Api) -> None:
    page = httpx.get(f"{capi.server.url}/city/{CITY}", trust_env=False)
    assert page.status_code == 200 and "市级汇总" in page.text and f"/api/v1/cities/{CITY}" in page.text
    assert httpx.get(f"{capi.server.url}/city/nowhere", trust_env=False).status_code == 404
    assert httpx.get(f"{capi.server.url}/county/changqing", trust_env=False).status_code == 404  # the county's own


def test_the_openapi_document_lists_every_status_of_the_city_routes(capi: Api) -> None:
    paths = httpx.get(f"{capi.server.url}/openapi.json").json()["paths"]
    for path in ("/api/v1/cities/{city}/headline", "/api/v1/cities/{city}/reports"):
        responses = paths[path]["get"]["responses"]
        assert set(responses) == {"200", "400", "401", "403", "404", "422", "503"}
        assert set(responses["200"]["content"]) == {
            "application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }  # fmt: skip
    assert "404" in paths["/board"]["get"]["responses"]


def test_bianmin_user_add_makes_a_city_manager(city_file: Path, new_db: Callable[..., str | Path]) -> None:
    db = new_db(migrated=False)
    runner = CliRunner()

    def add(*args: str) -> str:
        result = runner.invoke(main, ["user", "add", *args, "--config", str(city_file), "--db", str(db)],
                               input="password123\n")  # fmt: skip
        return f"{result.exit_code}: {result.output}"

    shi = ("--city", CITY)
    made = add("shi", "--name", "市主管", "--role", "city_manager", *shi)
    assert made == f"0: added city_manager shi (市主管) of city {CITY}: its rollup is /city/{CITY}\n"
    assert "no city 'other'" in add("b", "--name", "B", "--role", "city_manager", "--city", "other")
    assert "needs --city" in add("c", "--name", "C", "--role", "city_manager")
    assert "goes with --role city_manager" in add("d", "--name", "D", "--role", "manager", *shi)
    assert "belongs to no hall" in add("e", "--name", "E", "--role", "city_manager", *shi, "--hall", "qingshan")
    engine = create_engine(db if isinstance(db, str) else f"sqlite:///{db}")
    with engine.connect() as conn:
        found = conn.execute(select(users.c.username, users.c.role, users.c.city, users.c.all_halls)).all()
    engine.dispose()
    assert [tuple(r) for r in found] == [("shi", "city_manager", CITY, False)]
