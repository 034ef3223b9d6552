"""`[city]` with `[[counties]]` (a city reading each county center's own file) and `[county.link]` (a county
relaying its halls to its city) in the configuration: what loads, and every mistake said where it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from config.loader import ConfigError, Problem, load_config
from queue_server.cli import main as cli_main
from tests.support.city import CITY, write_city

RELAY = 'url = "https://city.example.gov.cn"\ntoken_file = "/etc/bianmin/city.token"'


def problems(main: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    return caught.value.problems


def test_a_city_holds_every_hall_of_its_counties_by_county(tmp_path: Path) -> None:
    config = load_config(write_city(tmp_path))
    assert config.city is not None and config.city.id == CITY and config.halls == []
    assert [(c.id, c.name_zh, c.halls) for c in config.counties] == [
        ("changqing", "长青县", ["changqing", "qingshan"]), ("baishui", "白水县", ["baishui", "baiyun"])]  # fmt: skip
    assert [h.id for h in config.townships] == ["changqing", "qingshan", "baishui", "baiyun"]
    assert config.townships[1].name_zh == "青山镇便民服务中心" and len(config.townships[1].items) == 91
    county = config.county_of("baiyun")
    assert county is not None and county.id == "baishui" and config.county_of("nowhere") is None


def test_a_county_relays_every_hall_it_holds(tmp_path: Path) -> None:
    write_city(tmp_path, links={"changqing": RELAY})
    county = load_config(tmp_path / "counties" / "changqing" / "county.toml")
    assert county.county is not None and county.county.link is not None
    assert county.county.link.url == "https://city.example.gov.cn" and county.county.link.batch_size == 500
    assert [h.id for h in county.relayed()] == ["changqing", "qingshan"]
    assert load_config(tmp_path / "counties" / "baishui" / "county.toml").relayed() == []


def test_a_county_with_a_relay_cannot_also_ship_a_hall_of_its_own(tmp_path: Path) -> None:
    write_city(tmp_path, links={"changqing": RELAY})
    county = tmp_path / "counties" / "changqing" / "county.toml"
    text = county.read_text(encoding="utf-8").replace("\n[halls.queue]", f"\n[halls.link]\n{RELAY}\n\n[halls.queue]", 1)
    county.write_text(text, encoding="utf-8")
    (problem,) = problems(county)
    assert "[county.link] relays every hall of the county" in problem.message and "changqing" in problem.message


def test_a_county_named_with_another_countys_file_is_refused(tmp_path: Path) -> None:
    main = write_city(tmp_path)
    main.write_text(main.read_text(encoding="utf-8").replace('id = "baishui"', 'id = "heshan"'), encoding="utf-8")
    (problem,) = problems(main)
    assert problem.path == "counties[1].id" and problem.line is not None
    assert 'is not county "heshan" (its [county] is "baishui")' in problem.message


def test_a_hall_in_two_counties_is_refused(tmp_path: Path) -> None:
    main = write_city(tmp_path)
    text = main.read_text(encoding="utf-8")
    main.write_text(text.replace("counties/baishui/county.toml", "counties/changqing/county.toml"), "utf-8")
    found = problems(main)
    assert any('is not county "baishui"' in p.message for p in found)
    other = tmp_path / "other"
    write_city(other)
    baishui = other / "counties" / "baishui" / "townships" / "baiyun.toml"
    baishui.write_text(baishui.read_text(encoding="utf-8").replace('id = "baiyun"', 'id = "qingshan"', 1), "utf-8")
    county = other / "counties" / "baishui" / "county.toml"
    county.write_text(county.read_text(encoding="utf-8").replace('id = "baiyun"', 'id = "qingshan"'), "utf-8")
    (problem,) = problems(other / "city.toml")
    assert problem.path == "counties[1].config"
    assert 'hall "qingshan" of county "baishui" is already a hall of county "changqing"' in problem.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[city]\nid = "x"\nname_zh = "市"\nname_en = "X"\n', "a city's configuration lists its counties"),
        ('[[counties]]\nid = "a"\nconfig = "a.toml"\n', "only a city's configuration ([city]) lists counties"),
        ("calendar = []\n", "only a city's configuration ([city]) may have none"),
    ],
)
def test_a_city_or_a_hall_configuration_missing_its_parts_is_refused(tmp_path: Path, text: str, words: str) -> None:
    main = tmp_path / "main.toml"
    main.write_text(text, encoding="utf-8")
    assert any(words in p.message for p in problems(main)), problems(main)


def test_a_city_cannot_also_be_a_county(tmp_path: Path) -> None:
    main = write_city(tmp_path)
    main.write_text(main.read_text(encoding="utf-8") + '\n[county]\nid = "c"\nname_zh = "县"\nname_en = "C"\n', "utf-8")
    assert any("not both" in p.message for p in problems(main))


def test_config_check_lists_the_citys_counties_and_a_countys_relay(tmp_path: Path) -> None:
    main = write_city(tmp_path, links={"changqing": RELAY})
    checked = CliRunner().invoke(cli_main, ["config", "check", str(main)])
    assert checked.exit_code == 0, checked.output
    assert f"city {CITY} 长沙市: 2 counties, 4 halls" in checked.output
    assert "county changqing 长青县: changqing, qingshan" in checked.output
    county = CliRunner().invoke(cli_main, ["config", "check", str(tmp_path / "counties" / "changqing" / "county.toml")])
    assert county.exit_code == 0, county.output
    assert "townships reporting here: qingshan" in county.output
    assert "relays every hall to the city at https://city.example.gov.cn" in county.output
