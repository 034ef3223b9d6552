"""The county's documents a township runs (link down): read with the hall's own files, checked like them."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from config import documents
from config.loader import ConfigError, load_config
from config.schema import CalendarYear, Holiday
from tests.config.conftest import HallFiles

LINK = '\n[halls.link]\nurl = "https://county.example.gov.cn"\ntoken_env = "T"\n'
WHEN = dt.datetime(2026, 3, 16, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def linked(hall_files: HallFiles) -> HallFiles:
    hall_files.edit("hall.toml", "\n[halls.queue]", LINK + "\n[halls.queue]")
    return hall_files


def county_catalogue(linked: HallFiles, version: int = 4, **changes: str) -> str:
    """The hall's own items as the county publishes them, the birth registration renamed, one item added."""
    own = load_config(linked.main).hall("test").items
    items = [
        own[0].model_copy(update={"name_zh": "生育登记（县级）", **changes}),
        own[1].model_copy(update={"id": "jisheng-new"}),
    ]
    return documents.render("catalogue", version, documents.catalogue_content(items), "changqing", WHEN)


def test_the_countys_catalogue_takes_the_place_of_local_items_of_the_same_id(linked: HallFiles) -> None:
    linked.write("var/link/test-catalogue.toml", county_catalogue(linked))
    config = load_config(linked.main)
    items = {item.id: item.name_zh for item in config.hall("test").items}
    assert items["jisheng-birth-registration"] == "生育登记（县级）" and "jisheng-new" in items
    assert "minzheng-low-income" in items and len(items) == 4  # the local additions stay
    (used,) = config.documents
    assert (used.kind, used.hall, used.version, used.replaced) == (
        "catalogue",
        "test",
        4,
        ["jisheng-birth-registration"],
    )
    assert used.sha256 == documents.sha256((linked.root / "var/link/test-catalogue.toml").read_bytes())
    link = config.hall("test").link
    assert link is not None and link.documents_dir == str(linked.root / "var/link")


def test_a_county_item_of_a_category_the_hall_has_not_is_a_problem_at_its_line(linked: HallFiles) -> None:
    path = linked.write("elsewhere.toml", county_catalogue(linked, category="shuiwu"))
    with pytest.raises(ConfigError) as caught:
        load_config(linked.main, {"test-catalogue.toml": path})
    (problem,) = caught.value.problems
    assert problem.file == path and problem.path == "items[0].category"
    assert problem.line == next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "shuiwu" in line)
    assert load_config(linked.main).documents == []  # without it, the hall runs its own items


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[document]\nkind = 'calendar'\nversion = 1\n", "this is a county calendar, expected a catalogue"),
        ("[document]\nkind = 'catalogue'\nversion = 0\n", "expected a whole number from 1 to 2147483647, got 0"),
        ("[document]\nkind = 'catalogue'\nversion = 1\nextra = 1\n", 'unknown field "extra"'),
        ("[document]\nkind = 'catalogue'\nversion = 1\n[halls]\n", 'unknown top-level key "halls"'),
        ("[[items]]\nid = 'x'\n", "missing"),
        ("[document\n", "not valid TOML"),
    ],
)
def test_a_broken_document_is_refused(linked: HallFiles, text: str, message: str) -> None:
    path = linked.write("broken.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(linked.main, {"test-catalogue.toml": path})
    assert any(message in str(problem) for problem in caught.value.problems), caught.value


def test_the_countys_calendar_replaces_the_years_it_gives(linked: HallFiles) -> None:
    county_day = Holiday(name_zh="县庆", name_en="County Day", start=dt.date(2030, 3, 18), end=dt.date(2030, 3, 18))
    years = [CalendarYear(year=2030, holidays=[county_day]), CalendarYear(year=2031)]
    linked.write(
        "var/link/calendar.toml", documents.render("calendar", 2, documents.calendar_content(years), None, WHEN)
    )
    config = load_config(linked.main)
    assert [(y.year, [h.name_zh for h in y.holidays]) for y in config.calendar] == [(2030, ["县庆"]), (2031, [])]
    (used,) = config.documents
    assert (used.kind, used.version, used.replaced) == ("calendar", 2, ["2030"])


def test_documents_are_not_set_by_hand(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "[[halls]]", "documents = []\n\n[[halls]]")
    (problem,) = hall_files.problems()
    assert problem.path == "documents" and "set by the link" in problem.message


def test_the_writer_is_canonical_and_reads_back_as_written(linked: HallFiles) -> None:
    items = load_config(linked.main).hall("test").items
    text = documents.catalogue_content(items)
    assert text == documents.catalogue_content(list(items))  # the same content, the same bytes
    data = tomllib.loads(text)
    assert [documents.ServiceItem.model_validate(item) for item in data["items"]] == list(items)
    tricky = {"s": 'quote " back \\ tab \t del \x7f 中文', "d": dt.date(2030, 1, 2), "n": [1, 2], "b": True}
    assert tomllib.loads(documents.dumps(tricky)) == tricky


def test_config_check_names_the_countys_versions_in_use(linked: HallFiles) -> None:
    from click.testing import CliRunner

    from config.cli import config

    linked.write("var/link/test-catalogue.toml", county_catalogue(linked, version=7))
    result = CliRunner().invoke(config, ["check", str(linked.main)])
    assert result.exit_code == 0, result.output
    assert f"county catalogue version 7 ({linked.root / 'var/link/test-catalogue.toml'}, in the place of 1 local)" in (
        result.output
    )
