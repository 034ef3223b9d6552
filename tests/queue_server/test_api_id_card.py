"""Tickets by ID card through the API: the hall's key, one open ticket per card per category (against 黄牛)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from config.schema import HallConfig, IdCardRules, IdReader, KioskDevice
from queue_server.store import tables
from tests.support.clock import FakeClock
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

NUMBER = "36010219610302432X"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the key file's default is ./var/idcard-<hall>.key: under the test's folder, not the project's."""
    monkeypatch.chdir(tmp_path)


def key_files(server: RunningServer) -> list[Path]:
    """Where the server put the hall's key: beside the SQLite file, or under ./var/."""
    database = server.store.engine.url.database
    places = [Path(database).parent] if server.store.engine.url.get_backend_name() == "sqlite" else [Path("var")]
    return [path for place in places for path in place.glob("idcard-*.key")]


def with_reader(config: HallConfig, **rules: object) -> HallConfig:
    """The demo hall whose kiosk-1 has a (simulated) ID card reader, with these id_card rules."""
    hall = config.hall("qingshan")
    devices = [
        d.model_copy(update={"id_reader": IdReader(type="simulated")}) if isinstance(d, KioskDevice) else d
        for d in hall.devices
    ]
    update = {"devices": devices, "id_card": IdCardRules(**rules)}  # type: ignore[arg-type]
    return config.model_copy(update={"halls": [hall.model_copy(update=update)]})


def hashed(api: Api, number: str = NUMBER) -> str:
    answer = api.http.get("/devices/me/id-card-key", headers=api.bearer(api.kiosk))
    assert answer.status_code == 200, answer.text
    return hmac.new(bytes.fromhex(answer.json()["key"]), number.encode(), hashlib.sha256).hexdigest()


def test_a_second_ticket_of_a_card_in_a_category_is_refused_until_the_first_is_served(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_reader(hall_config)))
    card = hashed(api)
    first = api.issue_raw({"category": "jisheng", "id_hash": card})
    assert first.status_code == 201, first.text
    assert "id_hash" not in first.json()
    again = api.issue_raw({"item_id": "jisheng-birth-registration", "id_hash": card})
    message = api.error(again, 409, "id_ticket_open")
    assert "A001" in message and "该身份证在本类业务已有未办结的号" in message
    assert api.issue_raw({"category": "guotu", "id_hash": card}).status_code == 201  # another category: fine
    assert api.issue_raw({"category": "jisheng", "id_hash": hashed(api, "360102195001014321")}).status_code == 201
    assert api.issue_raw({"category": "jisheng"}).status_code == 201  # no card: no rule
    clerk = api.open("liuxia", 1)
    assert api.ok(clerk, 1, "call-next")["ticket"]["number"] == "A001"
    api.error(api.issue_raw({"category": "jisheng", "id_hash": card}), 409, "id_ticket_open")  # called: still open
    api.serve(clerk, 1)
    assert api.issue_raw({"category": "jisheng", "id_hash": card}).status_code == 201  # served: a new one
    events = str(api.events())
    assert card not in events and "id_hash" not in events


def test_the_rule_can_be_turned_off(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(with_reader(hall_config, one_open_per_category=False)))
    card = hashed(api)
    for _ in range(2):
        assert api.issue_raw({"category": "jisheng", "id_hash": card}).status_code == 201


def test_the_key_is_the_halls_and_only_for_a_kiosk_with_a_reader(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    api = make_api(start_hall(hall_config))  # the demo kiosk has no reader
    message = api.error(api.http.get("/devices/me/id-card-key", headers=api.bearer(api.kiosk)), 403, "forbidden")
    assert "未配置身份证读卡器" in message
    api.error(api.http.get("/devices/me/id-card-key"), 401)
    with_one = make_api(start_hall(with_reader(hall_config)))
    key = with_one.http.get("/devices/me/id-card-key", headers=with_one.bearer(with_one.kiosk)).json()["key"]
    assert (
        len(key) == 64
        and key == with_one.http.get("/devices/me/id-card-key", headers=with_one.bearer(with_one.kiosk)).json()["key"]
    )
    settings = with_one.http.get("/devices/me", headers=with_one.bearer(with_one.kiosk)).json()
    assert settings["hall"]["id_card"] == {"senior_age": 60, "one_open_per_category": True}
    assert settings["device"]["id_reader"]["type"] == "simulated"
    bad = with_one.issue_raw({"category": "jisheng", "id_hash": NUMBER})  # a clear number is not a hash
    with_one.error(bad, 422)
    assert NUMBER not in bad.text  # not echoed back either


def test_the_document_names_the_refusal_and_the_key_route(api: Api) -> None:
    document = httpx.get(f"{api.server.url}/openapi.json", timeout=10).json()
    issue = document["paths"]["/api/v1/halls/{hall}/tickets"]["post"]
    assert "409" in issue["responses"] and "id_ticket_open" in issue["description"]
    key = document["paths"]["/api/v1/halls/{hall}/devices/me/id-card-key"]["get"]
    assert {"200", "401", "403"} <= set(key["responses"])


@pytest.mark.parametrize(
    ("reader", "error"),
    [
        ({"type": "serial"}, "a serial ID card reader needs port"),
        ({"type": "tcp", "host": "10.0.0.9"}, "a tcp ID card reader needs tcp_port"),
        ({"type": "simulated", "port": "/dev/ttyUSB0"}, "a simulated ID card reader takes no port"),
        ({"type": "serial", "port": "/dev/ttyUSB0", "baudrate": 12345}, "baudrate"),
        ({"type": "usb"}, "type"),
    ],
)
def test_reader_settings_are_checked_with_clear_errors(reader: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        IdReader.model_validate(reader)


def test_the_senior_age_is_checked() -> None:
    assert IdCardRules().senior_age == 60 and IdCardRules(senior_age=65).senior_age == 65
    with pytest.raises(ValidationError, match="senior_age"):
        IdCardRules(senior_age=30)


def test_the_key_is_a_file_of_mode_600_outside_the_database_and_the_hashes_last_a_day(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig,
    clock: FakeClock,
) -> None:  # fmt: skip
    api = make_api(start_hall(with_reader(hall_config)))
    card = hashed(api)
    (key_file,) = key_files(api.server)
    assert key_file.name == "idcard-qingshan.key" and key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert api.issue_raw({"category": "jisheng", "id_hash": card}).status_code == 201
    with api.server.store.engine.connect() as conn:
        assert conn.execute(select(tables.tickets.c.id_hash)).scalars().all() == [card]
        assert "id_card_keys" not in tables.metadata.tables
    clock.advance(days=1)  # Tuesday: the day's first request closes Monday, and clears its hashes
    assert api.issue_raw({"category": "jisheng", "id_hash": card}).json()["number"] == "A001"
    with api.server.store.engine.connect() as conn:
        assert conn.execute(select(tables.tickets.c.id_hash)).scalars().all() == [None, card]
    assert key not in str(api.events())


def test_a_key_file_that_holds_no_key_is_a_clear_503(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig,
    tmp_path: Path,
) -> None:  # fmt: skip
    (tmp_path / "broken.key").write_text("not a key\n")
    api = make_api(start_hall(with_reader(hall_config, key_file=str(tmp_path / "broken.key"))))
    answer = api.http.get("/devices/me/id-card-key", headers=api.bearer(api.kiosk))
    assert "身份证密钥不可用" in api.error(answer, 503, "id_card_key_unavailable")
