"""The city rollup on a real chain: a township on SQLite ships to its county on PostgreSQL, which relays every
hall it holds (its own hall and the township's shipped copy) to the city on PostgreSQL. The city's copy of
each hall's log is the hall's log, and each hall's figures at the city equal that hall's own report."""

from __future__ import annotations

import shutil
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from config.loader import load_config
from queue_server.cli import main
from queue_server.link import receiver
from queue_server.link.wire import Batch, ShippedEvent
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.queue_server.conftest import Api, PgDatabases
from tests.queue_server.link.conftest import log_rows, peer, wait_until
from tests.queue_server.link.test_link_up import report, traffic
from tests.support.city import CITY, write_city
from tests.support.clock import FakeClock
from tests.support.server import PASSWORD, RunningServer, free_port, start_server

DAY = "2026-03-16"
FAST = "interval_s = 0.05\nretry_min_s = 0.05\nretry_max_s = 0.4\nconflict_retry_s = 0.5\n"


@dataclass
class Chain:
    """township qingshan (SQLite) → county changqing (PostgreSQL) → city (PostgreSQL), each a real server."""

    root: Path
    clock: FakeClock
    tls: ssl.SSLContext
    dbs: dict[str, str | Path]
    city_port: int = field(default_factory=free_port)
    county_port: int = field(default_factory=free_port)
    servers: dict[str, RunningServer] = field(default_factory=dict)
    apis: list[Api] = field(default_factory=list)

    def files(self) -> Path:
        relay = f'url = "http://127.0.0.1:{self.city_port}"\ntoken_file = "{self.root / "relay.token"}"\n{FAST}'
        up = f'url = "http://127.0.0.1:{self.county_port}"\ntoken_file = "{self.root / "link.token"}"\n{FAST}'
        return write_city(self.root, links={"changqing": relay}, township_links={"qingshan": up})

    def start(self) -> None:
        city_file = self.files()
        self.servers["city"] = start_server(self.dbs["city"], self.clock, load_config(city_file), port=self.city_port)
        city = self.servers["city"]
        relay = city.store.run_global_sync(lambda c, now: receiver.add_county_token(c, to_us(now), "changqing"))
        (self.root / "relay.token").write_text(relay, encoding="utf-8")
        county_file = self.root / "counties" / "changqing" / "county.toml"
        self.servers["county"] = start_server(self.dbs["county"], self.clock, load_config(county_file),
                                              port=self.county_port)  # fmt: skip
        county = self.servers["county"]
        token = county.store.run_global_sync(lambda c, now: receiver.add_token(c, to_us(now), "qingshan"))
        (self.root / "link.token").write_text(token, encoding="utf-8")
        township_file = self.root / "counties" / "changqing" / "townships" / "qingshan.toml"
        self.servers["township"] = start_server(self.dbs["township"], self.clock, load_config(township_file))

    def api(self, server: str, hall: str) -> Api:
        api = Api(self.servers[server], self.tls, hall)
        self.apis.append(api)
        return api

    def relayed(self) -> None:
        """Wait until the city holds both halls' logs exactly as the halls themselves do."""
        township, county, city = self.servers["township"], self.servers["county"], self.servers["city"]

        def done() -> bool:
            mine = log_rows(township, "qingshan")
            return (bool(mine) and log_rows(county, "qingshan") == mine and log_rows(city, "qingshan") == mine
                    and log_rows(city, "changqing") == log_rows(county, "changqing"))  # fmt: skip

        wait_until(done, "the city did not get every event of the county's halls")


@pytest.fixture
def chain(
    pg_databases: PgDatabases,
    migrated_db: Path,
    tmp_path: Path,
    clock: FakeClock,
    tls: ssl.SSLContext,
    cheap_password_hashing: None,
) -> Iterator[Chain]:
    township_db = tmp_path / "township.db"
    shutil.copyfile(migrated_db, township_db)
    dbs: dict[str, str | Path] = {"township": township_db, "county": pg_databases.new(), "city": pg_databases.new()}
    made = Chain(tmp_path, clock, tls, dbs)
    yield made
    for api in made.apis:
        api.close()
    stopping = [threading.Thread(target=server.stop) for server in made.servers.values()]
    for thread in stopping:
        thread.start()
    for name in ("county", "city"):
        pg_databases.drop(str(dbs[name]), stopping)


def city_manager(api: Api, username: str = "shi-zhuguan") -> str:
    """A city manager's login (as `bianmin user add --role city_manager --city` makes it)."""
    server = api.server
    server.store.run_global_sync(
        lambda conn, now: accounts.add_user(
            conn, to_us(now), username, "市主管", accounts.Role.CITY_MANAGER, PASSWORD, None, None, CITY
        )
    )
    answer = api.http.post(f"{server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json()["city"] == CITY and answer.json()["halls"] == [] and answer.json()["county"] is None
    return str(answer.json()["access_token"])


def city_get(api: Api, token: str | None, path: str, city: str = CITY, **params: Any) -> httpx.Response:
    return api.http.get(f"{api.server.url}/api/v1/cities/{city}{path}", params=params, headers=api.bearer(token))


def test_a_halls_figures_at_the_city_equal_its_own_report(chain: Chain) -> None:
    chain.start()
    township = chain.api("township", "qingshan")
    traffic(township, chain, 9)  # type: ignore[arg-type]  # traffic needs only .clock
    agent = township.issue("jisheng")
    chain.clock.advance(minutes=1)
    clerk = township.server.tokens["liuxia"]
    township.ok(clerk, 1, "call-next")
    township.serve(clerk, 1, {"case_class": "agent", "agent_name": "李代办"})  # a village agent's case (代理件)
    township.issue("guotu")  # still waiting
    local = chain.api("county", "changqing")  # the county center's own hall, served live at the county
    traffic(local, chain, 4, rate_every=2)  # type: ignore[arg-type]
    chain.relayed()
    assert agent["number"]

    city = chain.api("city", "qingshan")  # at the city: the hall's report from the relayed events
    boss = city_manager(city)
    admin = city.staff("city-admin", "admin")
    for period in ("day", "month", "year"):
        own = report(township, township.manager, period=period, date=DAY)["totals"]
        county_hall = report(local, local.staff("county-admin", "admin"), period=period, date=DAY)["totals"]
        assert report(city, admin, period=period, date=DAY)["totals"] == own  # the hall's report at the city

        got = city_get(city, boss, "/reports", period=period, date=DAY, by="hall")
        assert got.status_code == 200, got.text
        halls = {h["hall"]: h["figures"] for h in got.json()["halls"]}
        assert halls["qingshan"] == own and halls["changqing"] == county_hall  # every figure, exactly
        assert halls["baiyun"]["issued"] == 0 and halls["baiyun"]["acceptance_rate"] is None
        own_cases = report(township, township.manager, period=period, date=DAY)["cases"]["totals"]
        cases = {h["hall"]: h["cases"] for h in got.json()["halls"]}
        assert cases["qingshan"] == own_cases  # folded at the city from the relayed case events
        assert (own_cases["cases"], own_cases["completed"]) == (10, 9)  # the 代理件 is still open
        assert cases["baiyun"]["completion_rate"] is None

        by_county = city_get(city, boss, "/reports", period=period, date=DAY, by="county").json()
        rows = {row["key"]: row for row in by_county["rows"]}
        assert list(rows) == ["changqing", "baishui"] and rows["changqing"]["label_zh"] == "长青县"
        changqing = rows["changqing"]["figures"]
        assert changqing["issued"] == own["issued"] + county_hall["issued"] == 11 + 4
        assert changqing["served"] == own["served"] + county_hall["served"] == 10 + 4
        assert changqing["by_agent"] == 1 and changqing["on_the_spot"] == 13
        assert changqing["staff"] == own["staff"] + county_hall["staff"] == 6  # each hall's clerks count there
        assert rows["baishui"]["figures"]["issued"] == 0  # never heard from: zeros
        assert by_county["total"]["served"] == 14

        head = city_get(city, boss, "/headline", period=period, date=DAY)
        assert head.status_code == 200, head.text
        table = head.json()
        line = table["counties"][0]
        assert (line["county"], line["name_zh"], line["centers"], line["centers_active"]) == (
            "changqing",
            "长青县",
            2,
            2,
        )
        assert line["windows"] == 20 and line["windows_used"] == changqing["windows"] == 6  # 10 + 10 configured
        assert (line["served"], line["on_the_spot"], line["by_agent"], line["staff"]) == (14, 13, 1, 6)
        # 办结率 counts cases, one definition: the township's 9 of 10 and the county hall's 4 of 4
        assert (
            (line["cases"], line["completed"])
            == (14, 13)
            == (rows["changqing"]["cases"]["cases"], rows["changqing"]["cases"]["completed"])
        )
        assert line["completion_rate"] == rows["changqing"]["cases"]["completion_rate"] == round(13 / 14, 4)
        assert line["on_time_rate"] == 1.0 and changqing["acceptance_rate"] == 1.0  # every visit was accepted
        assert line["satisfaction_rate"] == changqing["satisfaction_rate"] == 1.0
        assert line["rated"] == own["rated"] + county_hall["rated"]
        assert table["counties"][1]["served"] == 0 and table["counties"][1]["completion_rate"] is None
        total = table["total"]
        assert (total["county"], total["centers"], total["centers_active"], total["windows"]) == (None, 4, 2, 40)
        assert (total["served"], total["by_agent"], total["staff"]) == (14, 1, 6)
    assert table["label_zh"] == "2026年" and table["start"] == "2026-01-01" and table["end"] == "2026-12-31"

    csv = city_get(city, boss, "/headline", date=DAY, format="csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "长沙市" in text and "服务人次 visits served" in text and "委托代办 by agent" in text
    assert "办结率 (%) completion rate" in text and "按时办结率 (%) on-time rate" in text
    assert next(x for x in text.splitlines() if x.startswith("长青县,changqing,")).split(",")[2:10] == [
        "2", "2", "20", "6", "6", "14", "13", "1"]  # fmt: skip
    assert city_get(city, boss, "/headline", date=DAY, format="xlsx").content[:2] == b"PK"
    assert city_get(city, boss, "/reports", date=DAY, format="csv").status_code == 200


def test_a_county_token_sends_its_own_halls_only(chain: Chain) -> None:
    chain.start()
    township = chain.api("township", "qingshan")
    traffic(township, chain, 2)  # type: ignore[arg-type]
    chain.relayed()
    city_server = chain.servers["city"]
    held = log_rows(city_server, "qingshan")
    relay = (chain.root / "relay.token").read_text(encoding="utf-8")
    http = httpx.Client(base_url=f"{city_server.url}/api/v1/link/halls", timeout=10, trust_env=False)
    try:
        event = ShippedEvent(seq=1, type="day.closed", at=0, payload="{}", public="{}")
        batch = Batch(after=0, events=[event], waiting=0, version="x").model_dump_json()
        auth = {"Authorization": f"Bearer {relay}", "Content-Type": "application/json"}
        other = http.post("/baiyun/events", content=batch, headers=auth)  # a hall of the other county
        assert other.status_code == 403 and "changqing" in other.json()["error"]["message"]
        assert "不能上报其他县的数据" in other.json()["error"]["message"]
        unknown = http.post("/nowhere/events", content=batch, headers=auth)
        assert unknown.status_code == 403
        wrong = http.post("/qingshan/events", content=batch, headers={**auth, "Authorization": "Bearer bml_nope"})
        assert wrong.status_code == 401
        # A replay of what the city holds is answered with its last seq, nothing doubled; other content, refused.
        replay = Batch.model_validate({"after": 0, "waiting": 0, "version": "x", "events": [
            {"seq": r[0], **dict(zip(receiver.FIELDS, r[1:], strict=True))} for r in held[:3]]})  # fmt: skip
        again = http.post("/qingshan/events", content=replay.model_dump_json(), headers=auth)
        assert again.status_code == 200 and again.json() == {"hall": "qingshan", "last_seq": len(held), "received": 0}
        changed = http.post("/qingshan/events", content=batch, headers=auth)
        assert changed.status_code == 409 and changed.json()["error"]["code"] == "link_conflict"
        gap = Batch(after=len(held) + 5, events=[event.model_copy(update={"seq": len(held) + 6})], waiting=0,
                    version="x")  # fmt: skip
        refused = http.post("/qingshan/events", content=gap.model_dump_json(), headers=auth)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "link_gap"
    finally:
        http.close()
    assert log_rows(city_server, "qingshan") == held and log_rows(city_server, "baiyun") == []
    assert peer(city_server, "baiyun") is None


def test_who_sees_the_city_rollup(chain: Chain) -> None:
    chain.start()
    city = chain.api("city", "qingshan")
    boss = city_manager(city)
    assert city_get(city, boss, "/headline").status_code == 200
    assert city_get(city, None, "/headline").status_code == 401
    assert city_get(city, city.staff("city-admin", "admin"), "/headline").status_code == 200
    for token in (city.staff("shizhang", "manager"), city.staff("clerk", "clerk")):
        refused = city_get(city, token, "/headline")
        assert refused.status_code == 403 and "市级" in refused.json()["error"]["message"]
    # A city manager sees the rollup and nothing else: a hall's report, or another city, is refused.
    own = city.http.get("/reports", headers=city.bearer(boss))
    assert own.status_code == 403 and f"/city/{CITY}" in own.json()["error"]["message"]
    assert city_get(city, boss, "/headline", city="elsewhere").status_code == 403
    admin = city.staff("city-admin", "admin")
    missing = city_get(city, admin, "/headline", city="elsewhere")
    assert missing.status_code == 404 and "没有该市" in missing.json()["error"]["message"]
    # Malformed input is refused.
    assert city_get(city, boss, "/reports", by="township").status_code == 422
    assert city_get(city, boss, "/headline", period="decade").status_code == 422
    assert city_get(city, boss, "/headline", date="1999-12-31").status_code == 422  # reports cover 2000–2099
    assert city_get(city, boss, "/headline", format="pdf").status_code == 422
    # The city serves no hall: the bare pages say so.
    assert httpx.get(f"{city.server.url}/board", trust_env=False).status_code == 404


def test_link_add_county_makes_a_relay_token_at_the_city(tmp_path: Path, pg_databases: PgDatabases) -> None:
    city_file = write_city(tmp_path)
    db = pg_databases.new()
    try:
        made = CliRunner().invoke(main, ["link", "add", "baishui", "--county", "--config", str(city_file), "--db", db])
        assert made.exit_code == 0, made.output
        assert made.output.startswith("bml_")
        no = CliRunner().invoke(main, ["link", "add", "nowhere", "--county", "--config", str(city_file), "--db", db])
        assert no.exit_code != 0 and "not a county of this city" in no.output and "changqing, baishui" in no.output
        hall = CliRunner().invoke(main, ["link", "add", "qingshan", "--config", str(city_file), "--db", db])
        assert hall.exit_code != 0 and "--county" in hall.output
    finally:
        pg_databases.drop(db, [])


def test_the_relay_resumes_after_the_city_was_down(chain: Chain) -> None:
    """The city stops during traffic; the township and the county go on; once the city is back, every event of
    both halls reaches it once, in order, and its figures are the halls' own."""
    chain.start()
    township = chain.api("township", "qingshan")
    local = chain.api("county", "changqing")
    traffic(township, chain, 3)  # type: ignore[arg-type]
    chain.relayed()
    chain.servers["city"].stop()
    traffic(township, chain, 4)  # type: ignore[arg-type]
    traffic(local, chain, 3)  # type: ignore[arg-type]
    wait_until(lambda: log_rows(chain.servers["county"], "qingshan") == log_rows(chain.servers["township"], "qingshan"),
               "the county did not get the township's events")  # fmt: skip
    city_file = chain.root / "city.toml"
    chain.servers["city"] = start_server(chain.dbs["city"], chain.clock, load_config(city_file), port=chain.city_port)
    chain.relayed()
    city_server = chain.servers["city"]
    for hall in ("qingshan", "changqing"):
        seqs = [row[0] for row in log_rows(city_server, hall)]
        assert seqs == list(range(1, len(seqs) + 1))  # once each, in order
        held = peer(city_server, hall)
        assert held.last_seq == len(seqs) and held.last_refusal is None
    city = chain.api("city", "qingshan")
    admin = city.staff("city-admin", "admin")
    assert report(city, admin, period="month", date=DAY)["totals"] == report(
        township, township.manager, period="month", date=DAY)["totals"]  # fmt: skip
