"""`[halls.link]` (a township shipping its log up) and `[[townships]]` (a county receiving it) in the configuration."""

from __future__ import annotations

import pytest

from config.loader import ConfigError, load_config
from tests.config.conftest import HallFiles

LINK = """
[halls.link]
url = "https://county.example.gov.cn/bianmin"
token_file = "secrets/link.token"
"""


def with_link(hall_files: HallFiles, text: str) -> None:
    # [halls.link] goes right after the hall's own keys, before its [halls.queue] table.
    hall_files.edit("hall.toml", "\n[halls.queue]", text + "\n[halls.queue]")


def test_a_hall_without_link_does_not_ship(hall_files: HallFiles) -> None:
    assert load_config(hall_files.main).halls[0].link is None


def test_a_link_loads_with_its_defaults(hall_files: HallFiles) -> None:
    with_link(hall_files, LINK)
    link = load_config(hall_files.main).halls[0].link
    assert link is not None
    assert link.url == "https://county.example.gov.cn/bianmin"
    assert link.token_file == "secrets/link.token" and link.token_env is None and link.ca_file is None
    assert (link.batch_size, link.interval_s, link.retry_min_s, link.retry_max_s) == (500, 5.0, 1.0, 300.0)


def test_the_token_may_come_from_an_environment_variable(hall_files: HallFiles) -> None:
    with_link(hall_files, LINK.replace('token_file = "secrets/link.token"', 'token_env = "BIANMIN_LINK_TOKEN"'))
    link = load_config(hall_files.main).halls[0].link
    assert link is not None and link.token_env == "BIANMIN_LINK_TOKEN"


def test_the_secret_itself_is_refused(hall_files: HallFiles) -> None:
    with_link(hall_files, LINK.replace('token_file = "secrets/link.token"', 'token = "bml_secret"'))
    (problem,) = hall_files.problems()
    assert problem.path == "halls[0].link.token" and problem.message.startswith('unknown field "token"')
    assert "bml_secret" not in str(problem)  # a secret written where it must not be is not echoed either


def test_both_credentials_at_once_are_refused(hall_files: HallFiles) -> None:
    with_link(hall_files, LINK + 'token_env = "X"\n')
    problem = hall_files.problem("halls[0].link")
    assert "exactly one of token_file or token_env" in problem.message
    assert problem.line == hall_files.line("hall.toml", "[halls.link]")


@pytest.mark.parametrize(
    ("line", "old", "new", "path"),
    [
        ("url", "https://county.example.gov.cn/bianmin", "ftp://county", "halls[0].link.url"),
        ("url", "https://county.example.gov.cn/bianmin", "https://county with space", "halls[0].link.url"),
        ("token_file", 'token_file = "secrets/link.token"', 'token_file = "secrets/link.token"\nbatch_size = 0',
         "halls[0].link.batch_size"),
        ("token_file", 'token_file = "secrets/link.token"', 'token_file = "secrets/link.token"\nretry_max_s = 0.5'
         '\nretry_min_s = 2', "halls[0].link"),
        ("token_file", 'token_file = "secrets/link.token"', 'token_env = "1BAD"', "halls[0].link.token_env"),
    ],
)  # fmt: skip
def test_bad_link_values_are_reported_where_they_are(
    hall_files: HallFiles, line: str, old: str, new: str, path: str
) -> None:
    with_link(hall_files, LINK.replace(old, new))
    assert hall_files.problem(path).line is not None


def write_county(hall_files: HallFiles, township_id: str = "test", config: str = "hall.toml") -> None:
    county = (hall_files.root / "hall.toml").read_text(encoding="utf-8").replace('id = "test"', 'id = "county"', 1)
    county += f'\n[[townships]]\nid = "{township_id}"\nconfig = "{config}"\n'
    hall_files.write("county/county.toml", county.replace('"items/*.toml"', '"../items/*.toml"').replace(
        '"calendar/*.toml"', '"../calendar/*.toml"'))  # fmt: skip


def test_a_county_lists_its_townships_by_their_own_files(hall_files: HallFiles) -> None:
    with_link(hall_files, LINK)
    write_county(hall_files, config="../hall.toml")
    config = load_config(hall_files.root / "county" / "county.toml")
    assert [h.id for h in config.halls] == ["county"]
    assert [h.id for h in config.townships] == ["test"]
    township = config.township("test")
    assert [item.id for item in township.items][:1] == ["jisheng-birth-registration"]  # with its own catalogue
    with pytest.raises(KeyError):
        config.hall("test")  # nothing of a township is served at the county


def test_a_township_file_that_is_missing_or_lacks_the_hall_is_reported(hall_files: HallFiles) -> None:
    write_county(hall_files, config="../nowhere.toml")
    main = hall_files.root / "county" / "county.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    assert any(p.message == "file not found" for p in caught.value.problems)
    write_county(hall_files, township_id="other", config="../hall.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    (problem,) = caught.value.problems
    assert problem.path == "townships[0].id" and 'has no hall "other"' in problem.message


def test_a_township_cannot_also_be_a_local_hall(hall_files: HallFiles) -> None:
    hall_files.write("hall.toml", (hall_files.root / "hall.toml").read_text("utf-8")
                     + '\n[[townships]]\nid = "test"\nconfig = "hall.toml"\n')  # fmt: skip
    problem = hall_files.problem("townships[0].id")
    assert "already named" in problem.message


def test_a_county_center_names_its_county_and_a_bad_one_is_reported(hall_files: HallFiles) -> None:
    write_county(hall_files, config="../hall.toml")
    main = hall_files.root / "county" / "county.toml"
    text = main.read_text(encoding="utf-8")
    county_table = '\n[county]\nid = "qingshan-xian"\nname_zh = "青山县"\nname_en = "Qingshan County"\n'
    main.write_text(text + county_table, "utf-8")
    county = load_config(main).county
    assert county is not None and (county.id, county.name_zh) == ("qingshan-xian", "青山县")
    main.write_text(text + county_table.replace("qingshan-xian", "Bad Id"), "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    assert [p.path for p in caught.value.problems] == ["county.id"]
    assert load_config(hall_files.root / "hall.toml").county is None
