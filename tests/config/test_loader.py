"""The configuration loader: what a hall administrator sees for each kind of mistake."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config.loader import ConfigError, Problem, default_config_path, format_path, load_config
from config.schema import CaseKind, MaterialForm
from tests.config.conftest import CALENDAR, MAIN, HallFiles

# -- a good configuration ----------------------------------------------------------------------------


def test_a_valid_configuration_loads_with_its_catalogue_and_calendar(hall_files: HallFiles) -> None:
    config = load_config(hall_files.main)
    (hall,) = config.halls
    assert hall.id == "test"
    assert [category.code for category in hall.categories] == ["jisheng", "minzheng"]
    assert [window.number for window in hall.windows] == [1, 2]
    assert [device.kind for device in hall.devices] == ["kiosk", "printer", "board"]
    # Files are read in name order; each file's items in the order written.
    assert [item.id for item in hall.items] == [
        "jisheng-birth-registration",
        "jisheng-family-allowance",
        "minzheng-low-income",
    ]
    birth = hall.item("jisheng-birth-registration")
    assert birth.case_kind is CaseKind.IMMEDIATE
    assert [(m.name, m.form, m.copies) for m in birth.materials] == [
        ("夫妻双方居民身份证", MaterialForm.ORIGINAL_AND_COPY, 1),
        ("结婚证", MaterialForm.ORIGINAL, 1),
    ]
    assert [year.year for year in config.calendar] == [2030]
    assert config.calendar[0].holidays[0].makeup_workdays == [date(2030, 9, 29), date(2030, 10, 12)]


def test_an_item_file_category_is_the_default_for_its_items(hall_files: HallFiles) -> None:
    hall_files.edit(
        "items/jisheng.toml", 'id = "jisheng-family-allowance"', 'id = "x-allowance"\ncategory = "minzheng"'
    )
    hall = load_config(hall_files.main).halls[0]
    assert hall.item("jisheng-birth-registration").category == "jisheng"
    assert hall.item("x-allowance").category == "minzheng"  # an item's own category wins


def test_a_path_given_as_a_string_is_accepted(hall_files: HallFiles) -> None:
    assert load_config(str(hall_files.main)).halls[0].id == "test"  # type: ignore[arg-type]


def test_without_a_calendar_key_the_bundled_calendar_is_used(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'calendar = ["calendar/*.toml"]', "")
    (hall_files.root / "calendar" / "2030.toml").unlink()
    years = [year.year for year in load_config(hall_files.main).calendar]
    assert 2026 in years
    assert 2030 not in years


def test_without_a_calendar_key_the_years_beside_the_main_file_join_the_bundled_ones(hall_files: HallFiles) -> None:
    """`bianmin calendar add` puts a year in calendar/ beside the main file; one of a bundled year replaces it."""
    hall_files.edit("hall.toml", 'calendar = ["calendar/*.toml"]', "")
    hall_files.write("calendar/2026.toml", "year = 2026\n")  # a hall's own 2026: no holidays at all
    calendar = {year.year: year for year in load_config(hall_files.main).calendar}
    assert {2026, 2030} <= set(calendar)
    assert calendar[2026].holidays == [] and calendar[2030].holidays


def test_an_empty_calendar_list_means_no_calendar(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'calendar = ["calendar/*.toml"]', "calendar = []")
    assert load_config(hall_files.main).calendar == []


def test_globs_may_reach_into_other_folders(hall_files: HallFiles) -> None:
    hall_files.write("shared/items/minzheng.toml", (hall_files.root / "items/minzheng.toml").read_text("utf-8"))
    (hall_files.root / "items/minzheng.toml").unlink()
    hall_files.write("halls/main.toml", MAIN.replace('"calendar/*.toml"', '"../calendar/*.toml"'))
    hall_files.edit("halls/main.toml", '["items/*.toml"]', '["../items/*.toml", "../shared/**/*.toml"]')
    hall = load_config(hall_files.root / "halls/main.toml").halls[0]
    assert len(hall.items) == 3


def test_a_file_matched_by_two_globs_is_read_once(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '["items/*.toml"]', '["items/*.toml", "items/jisheng.toml"]')
    assert len(load_config(hall_files.main).halls[0].items) == 3


def test_two_halls_may_share_a_catalogue(hall_files: HallFiles) -> None:
    second = MAIN.split("[[halls]]", 1)[1].replace('id = "test"', 'id = "second"')
    hall_files.write("hall.toml", MAIN + "\n[[halls]]" + second)
    config = load_config(hall_files.main)
    assert [(hall.id, len(hall.items)) for hall in config.halls] == [("test", 3), ("second", 3)]


def test_a_utf8_bom_is_tolerated(hall_files: HallFiles) -> None:
    hall_files.main.write_bytes(b"\xef\xbb\xbf" + MAIN.encode())
    assert load_config(hall_files.main).halls[0].id == "test"


def test_the_default_catalogue_loads() -> None:
    # Fails until the demo catalogue (config/default/items/*.toml) is complete: 9 classes, 91 items.
    config = load_config(default_config_path())
    (hall,) = config.halls
    assert len(hall.categories) == 9
    assert len(hall.items) == 91
    assert 2026 in [year.year for year in config.calendar]


def test_default_config_path_is_the_bundled_main_file() -> None:
    path = default_config_path()
    assert path.name == "hall.toml"
    assert path.parent.name == "default"
    assert path.is_file()


# -- the shape of a problem ----------------------------------------------------------------------------


def test_a_problem_reads_file_line_path_message() -> None:
    problem = Problem(
        Path("config/default/items/jisheng.toml"),
        42,
        "items[3].materials[0].copies",
        'expected a whole number from 1 to 20, got "两份"',
    )
    assert str(problem) == (
        "config/default/items/jisheng.toml:42: items[3].materials[0].copies: "
        'expected a whole number from 1 to 20, got "两份"'
    )
    assert str(Problem(Path("hall.toml"), None, "halls[0].id", "x")) == "hall.toml: halls[0].id: x"
    assert str(Problem(Path("hall.toml"), 3, "", "not valid TOML")) == "hall.toml:3: not valid TOML"


def test_the_config_error_lists_every_problem(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'prefix = "C"', 'prefix = "c"')
    hall_files.edit("hall.toml", "number = 2", 'number = "two"')
    with pytest.raises(ConfigError) as caught:
        load_config(hall_files.main)
    text = str(caught.value)
    assert text.startswith("2 problems in the configuration:\n")
    assert all(str(problem) in text for problem in caught.value.problems)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("halls", 0, "windows", 2, "categories", 1), "halls[0].windows[2].categories[1]"),
        (("items", 3, "materials", 0, "copies"), "items[3].materials[0].copies"),
        (("year",), "year"),
        (("halls", 0, "名字"), 'halls[0]."名字"'),
        ((), ""),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


# -- reading files ---------------------------------------------------------------------------------------


def test_a_missing_main_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nowhere.toml")
    assert [str(problem) for problem in caught.value.problems] == [f"{tmp_path / 'nowhere.toml'}: file not found"]


def test_a_folder_given_as_main_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "is a folder" in caught.value.problems[0].message


def test_a_file_that_is_not_utf8(hall_files: HallFiles) -> None:
    hall_files.main.write_bytes(MAIN.encode("gbk"))
    problem = hall_files.problem("")
    assert problem.line is None
    assert "not UTF-8" in problem.message


def test_a_toml_syntax_error_gives_tomllib_line(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'name_en = "Family Planning"', 'name_en = "Family Planning')
    problem = hall_files.problem("")
    assert problem.line == hall_files.line("hall.toml", 'name_en = "Family Planning')
    assert problem.message.startswith("not valid TOML: ")
    assert "(column " in problem.message


def test_a_toml_syntax_error_in_an_item_file_still_reports_the_other_files(hall_files: HallFiles) -> None:
    hall_files.edit("items/jisheng.toml", "copies = 2 }", "copies = 2 ")
    hall_files.edit("hall.toml", "number = 2", "number = 0")
    problems = hall_files.problems()
    assert [(problem.file.name, problem.line, problem.path) for problem in problems] == [
        ("hall.toml", hall_files.line("hall.toml", "number = 0"), "halls[0].windows[1].number"),
        ("jisheng.toml", hall_files.line("items/jisheng.toml", "copies = 2"), ""),
    ]
    assert problems[1].message.startswith("not valid TOML")


def test_a_syntax_error_at_the_end_of_a_file(hall_files: HallFiles) -> None:
    hall_files.write("items/minzheng.toml", "category = ")
    problem = hall_files.problem("", file="items/minzheng.toml")
    assert problem.message.startswith("not valid TOML")


# -- unknown keys -----------------------------------------------------------------------------------------


def test_a_typo_in_a_key_is_reported_with_its_path_and_a_suggestion(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'prefix = "C"', 'prefx = "C"')
    typo = hall_files.problem("halls[0].categories[1].prefx")
    assert typo.line == hall_files.line("hall.toml", "prefx")
    assert typo.message == 'unknown field "prefx" in a category (did you mean "prefix"?)'
    missing = hall_files.problem("halls[0].categories[1].prefix")
    assert missing.line == hall_files.line("hall.toml", "[[halls.categories]]", 2)  # the table that lacks it
    assert missing.message == "missing: every category needs a prefix letter (票号字母)"


def test_an_unknown_key_in_an_item(hall_files: HallFiles) -> None:
    hall_files.edit("items/minzheng.toml", "appointment = false", "apointment = false")
    problem = hall_files.problem("items[0].apointment", file="items/minzheng.toml")
    assert problem.line == hall_files.line("items/minzheng.toml", "apointment")
    assert problem.message == 'unknown field "apointment" in a service item (did you mean "appointment"?)'


def test_an_unknown_key_in_an_inline_material(hall_files: HallFiles) -> None:
    hall_files.edit("items/jisheng.toml", "copies = 1, notes", "copies = 1, note")
    problem = hall_files.problem("items[0].materials[1].note", file="items/jisheng.toml")
    assert problem.line == hall_files.line("items/jisheng.toml", "note =")
    assert 'did you mean "notes"' in problem.message


def test_an_unknown_key_in_a_printer(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'name = "取号机热敏打印机"', 'name = "取号机热敏打印机"\nhots = "192.168.1.50"')
    problem = hall_files.problem("halls[0].devices[1].hots")  # the union's tag is not part of the path
    assert problem.line == hall_files.line("hall.toml", "hots =")
    assert problem.message == 'unknown field "hots" in a printer (did you mean "host"?)'


def test_an_unknown_top_level_key_in_an_item_file(hall_files: HallFiles) -> None:
    hall_files.edit("items/minzheng.toml", 'category = "minzheng"\n', 'category = "minzheng"\nversion = 2\n')
    problem = hall_files.problem("version", file="items/minzheng.toml")
    assert problem.line == 2
    assert problem.message.startswith('unknown top-level key "version"')


def test_a_misspelt_default_category_key(hall_files: HallFiles) -> None:
    hall_files.edit("items/jisheng.toml", "category =", "catgory =")
    problems = [str(problem) for problem in hall_files.problems()]
    file = hall_files.root / "items/jisheng.toml"
    assert problems == [
        f'{file}:1: catgory: unknown top-level key "catgory" (did you mean "category"?)',
        f"{file}:3: items[0].category: missing: every service item needs a category (业务类别)",
        f"{file}:18: items[1].category: missing: every service item needs a category (业务类别)",
    ]


def test_an_item_file_without_items(hall_files: HallFiles) -> None:
    hall_files.write("items/minzheng.toml", 'category = "minzheng"\n')
    problem = hall_files.problem("items", file="items/minzheng.toml")
    assert problem.message == "expected [[items]] tables, one per service item"


def test_an_unknown_top_level_key_in_the_main_file(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'calendar = ["calendar/*.toml"]', 'calendar = ["calendar/*.toml"]\ncatalog = []')
    problem = hall_files.problem("catalog")
    assert problem.line == 3
    assert (
        problem.message
        == 'unknown field "catalog" at the top level (known: calendar, city, counties, county, halls, townships)'
    )


# -- schema errors in the administrator's words -----------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "path", "message"),
    [
        (
            "items/jisheng.toml",
            "copies = 2",
            'copies = "两份"',
            "items[1].materials[0].copies",
            'expected a whole number from 1 to 20, got "两份"',
        ),
        ("items/jisheng.toml", "copies = 2", "copies = 21", "items[1].materials[0].copies", "from 1 to 20, got 21"),
        ("items/jisheng.toml", "copies = 2", "copies = 1.5", "items[1].materials[0].copies", "whole number"),
        (
            "items/jisheng.toml",
            'form = "original", copies = 1',
            'form = "orginal", copies = 1',
            "items[0].materials[1].form",
            'expected one of "original", "copy" or "original_and_copy", got "orginal"',
        ),
        (
            "items/jisheng.toml",
            'case_kind = "immediate"',
            'case_kind = "即办件"',
            "items[0].case_kind",
            'expected one of "immediate" or "promised", got "即办件"',
        ),
        (
            "items/minzheng.toml",
            "promised_days = 30",
            "promised_days = 0",
            "items[0]",
            "a promised item needs promised_days of at least 1",
        ),
        (
            "items/minzheng.toml",
            "fee = { free = true }",
            "fee = { free = false, amount_yuan = 10.123, basis = 'x' }",
            "items[0].fee.amount_yuan",
            "at most 2 decimal places",
        ),
        (
            "items/minzheng.toml",
            "appointment = false",
            'appointment = "maybe"',
            "items[0].appointment",
            "true or false",
        ),
        (
            "items/minzheng.toml",
            'legal_basis = ["《社会救助暂行办法》"]',
            "legal_basis = []",
            "items[0].legal_basis",
            "expected at least 1 entry, got []",
        ),
        ("hall.toml", 'prefix = "C"', 'prefix = "c"', "halls[0].categories[1].prefix", "one capital letter"),
        ("hall.toml", 'code = "minzheng"', 'code = "Min Zheng"', "halls[0].categories[1].code", "lower-case letters"),
        ("hall.toml", 'phone = "0731-1234 5678"', 'phone = "call us"', "halls[0].phone", "a phone number"),
        ("hall.toml", 'name_zh = "民政民宗"', 'name_zh = ""', "halls[0].categories[1].name_zh", "expected some text"),
        ("hall.toml", "number = 2", 'number = "二"', "halls[0].windows[1].number", 'from 1 to 999, got "二"'),
        ("hall.toml", "recall_limit = 3", "recall_limit = -1", "halls[0].queue.recall_limit", "from 0 to 10, got -1"),
        ("hall.toml", 'id = "test"', "id = 7", "halls[0].id", "expected text in quotes, got 7"),
        (
            "hall.toml",
            "window = 1",
            "window = 1.5",
            "halls[0].devices[2].window",
            "whole number from 1 to 999, got 1.5",
        ),
        (
            "hall.toml",
            'kind = "board"',
            'kind = "screen"',
            "halls[0].devices[2]",
            'unknown kind "screen": expected "printer", "kiosk", "board", "led_strip", "caller" or "pad"',
        ),
        ("hall.toml", 'kind = "board"\n', "", "halls[0].devices[2]", "missing: say what this device is"),
        (
            "hall.toml",
            '{ start = "08:30", end = "12:00" }',
            '{ start = "8:30", end = "12:00" }',
            "halls[0].sessions[0].start",
            "expected a time of day as HH:MM",
        ),
        (
            "hall.toml",
            '{ start = "08:30", end = "12:00" }',
            '{ start = "12:30", end = "12:00" }',
            "halls[0].sessions[0]",
            "must be before its end",
        ),
        (
            "hall.toml",
            'categories = ["jisheng"]',
            "categories = []",
            "halls[0].windows[0].categories",
            "at least 1 entry",
        ),
        (
            "hall.toml",
            'categories = ["jisheng"]',
            'categories = "jisheng"',
            "halls[0].windows[0].categories",
            "expected a list",
        ),
        ("calendar/2030.toml", "end = 2030-10-07", 'end = "10月7日"', "holidays[0].end", "expected a date like"),
    ],
)
def test_schema_errors_are_explained(
    hall_files: HallFiles, file: str, old: str, new: str, path: str, message: str
) -> None:
    hall_files.edit(file, old, new)
    problem = hall_files.problem(path, file=file)
    assert message in problem.message
    assert problem.line is not None


def test_a_missing_table_field_points_at_the_table(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'name_en = "Civil Affairs"\n', "")
    problem = hall_files.problem("halls[0].windows[1].name_en")
    assert problem.line == hall_files.line("hall.toml", "[[halls.windows]]", 2)
    assert problem.message == "missing: every window needs an English name"


def test_an_error_inside_a_multi_line_inline_array_points_at_its_element(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '{ start = "14:30", end = "17:30" }', '{ start = "14:30", end = "25:00" }')
    problem = hall_files.problem("halls[0].sessions[1].end")
    assert problem.line == hall_files.line("hall.toml", '"25:00"')


# -- catalogue and calendar globs ---------------------------------------------------------------------


def test_a_catalog_glob_that_matches_nothing(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '["items/*.toml"]', '["items/*.toml", "item/*.toml"]')
    problem = hall_files.problem("halls[0].catalog[1]")
    assert problem.line == hall_files.line("hall.toml", "catalog =")
    assert problem.message == f'no file matches "item/*.toml" (looked in {hall_files.root})'


def test_a_calendar_glob_that_matches_nothing(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '"calendar/*.toml"', '"calendars/*.toml"')
    problem = hall_files.problem("calendar[0]")
    assert problem.line == 2
    assert 'no file matches "calendars/*.toml"' in problem.message


def test_a_catalog_that_is_not_a_list(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '["items/*.toml"]', '"items/*.toml"')
    problem = hall_files.problem("halls[0].catalog")
    assert problem.message == 'expected a list of file patterns, e.g. ["items/*.toml"], got "items/*.toml"'


# -- cross-references ------------------------------------------------------------------------------------


def test_hall_ids_are_unique(hall_files: HallFiles) -> None:
    second = MAIN.split("[[halls]]", 1)[1]
    hall_files.write("hall.toml", MAIN + "\n[[halls]]" + second)
    problem = hall_files.problem("halls[1].id")
    assert problem.line == hall_files.line("hall.toml", 'id = "test"', 2)
    assert problem.message == (
        f'hall id "test" is already used by halls[0] (line {hall_files.line("hall.toml", "id = ")}); '
        "each must be different"
    )


def test_category_codes_are_unique(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'code = "minzheng"', 'code = "jisheng"')
    problem = hall_files.problem("halls[0].categories[1].code")
    assert problem.line == hall_files.line("hall.toml", 'code = "jisheng"', 2)
    first = hall_files.line("hall.toml", 'code = "jisheng"')
    assert problem.message == (
        f'category code "jisheng" is already used by halls[0].categories[0] (line {first}); each must be different'
    )


def test_prefix_letters_are_unique(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'prefix = "C"', 'prefix = "A"')
    problem = hall_files.problem("halls[0].categories[1].prefix")
    assert problem.line == hall_files.line("hall.toml", 'prefix = "A"', 2)
    first = hall_files.line("hall.toml", 'prefix = "A"')
    assert problem.message.startswith(
        f'prefix letter (票号字母) "A" is already used by halls[0].categories[0] (line {first})'
    )


def test_window_numbers_are_unique(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "number = 2", "number = 1")
    problem = hall_files.problem("halls[0].windows[1].number")
    assert problem.line == hall_files.line("hall.toml", "number = 1", 2)
    assert problem.message.startswith("window number 1 is already used by halls[0].windows[0]")


def test_agent_point_ids_are_unique_within_a_hall(hall_files: HallFiles) -> None:
    point = (
        '\n[[halls.agent_points]]\nid = "{id}"\nname_zh = "青山村代办点"\nname_en = "Qingshan"\nvillage = "{village}"\n'
    )
    hall_files.write("hall.toml", MAIN + point.format(id="cun", village="青山村") + point.format(id="cun", village=""))
    problems = {p.path: p for p in hall_files.problems()}
    assert problems["halls[0].agent_points[1].village"].message == 'expected some text, got ""'
    hall_files.write(
        "hall.toml", MAIN + point.format(id="cun", village="青山村") + point.format(id="cun", village="水口")
    )
    problem = hall_files.problem("halls[0].agent_points[1].id")
    assert problem.message.startswith('agent point id (代办点) "cun" is already used by halls[0].agent_points[0]')


def test_a_window_category_must_exist(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '["minzheng", "jisheng"]', '["jisheng", "minzhen"]')
    problem = hall_files.problem("halls[0].windows[1].categories[1]")
    assert problem.line == hall_files.line("hall.toml", '"minzhen"')
    assert (
        problem.message
        == 'window 2 serves category "minzhen", which hall "test" does not have (did you mean "minzheng"?)'
    )


def test_every_category_is_served_by_a_window(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '["minzheng", "jisheng"]', '["jisheng"]')
    problem = hall_files.problem("halls[0].categories[1].code")
    assert problem.line == hall_files.line("hall.toml", 'code = "minzheng"')
    assert problem.message.startswith('no window serves category "minzheng" (民政民宗)')


def test_an_item_category_must_exist(hall_files: HallFiles) -> None:
    hall_files.edit("items/minzheng.toml", 'category = "minzheng"', 'category = "minzhen"', count=2)
    problem = hall_files.problem("items[0].category", file="items/minzheng.toml")
    assert problem.line == 5
    assert problem.message == (
        'service item "minzheng-low-income" is in category "minzhen", which hall "test" does not have '
        '(did you mean "minzheng"?)'
    )


def test_an_unknown_default_category_is_reported_once_where_it_is_written(hall_files: HallFiles) -> None:
    hall_files.edit("items/jisheng.toml", 'category = "jisheng"', 'category = "jishen"')
    problems = hall_files.problems()
    assert [(p.file.name, p.line, p.path) for p in problems] == [("jisheng.toml", 1, "category")]
    assert problems[0].message == 'default category "jishen" is not a category of hall "test" (did you mean "jisheng"?)'


def test_a_malformed_default_category_is_reported_once(hall_files: HallFiles) -> None:
    hall_files.edit("items/jisheng.toml", 'category = "jisheng"', 'category = "Jisheng"')
    problems = hall_files.problems()
    assert [(p.file.name, p.line, p.path) for p in problems] == [("jisheng.toml", 1, "category")]
    assert "lower-case letters" in problems[0].message


def test_item_ids_are_unique_within_a_hall_across_files(hall_files: HallFiles) -> None:
    hall_files.edit("items/minzheng.toml", 'id = "minzheng-low-income"', 'id = "jisheng-family-allowance"')
    problem = hall_files.problem("items[0].id", file="items/minzheng.toml")
    assert problem.line == 4
    first = hall_files.root / "items/jisheng.toml"
    assert problem.message == (
        f'service item id "jisheng-family-allowance" is already used by items[1] in {first}:19; each must be different'
    )


def test_device_ids_are_unique(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'id = "board-w1"', 'id = "kiosk-1"')
    problem = hall_files.problem("halls[0].devices[2].id")
    assert problem.line == hall_files.line("hall.toml", 'id = "kiosk-1"', 2)
    assert problem.message.startswith('device id "kiosk-1" is already used by halls[0].devices[0]')


def test_a_kiosk_printer_must_be_a_printer_device(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'printer = "printer-1"', 'printer = "printer-2"')
    problem = hall_files.problem("halls[0].devices[0].printer")
    assert problem.line == hall_files.line("hall.toml", 'printer = "printer-2"')
    assert problem.message == (
        'kiosk "kiosk-1" prints on "printer-2", which is not a device of hall "test" (did you mean "printer-1"?)'
    )


def test_a_kiosk_printer_that_names_another_kind_of_device(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'printer = "printer-1"', 'printer = "board-w1"')
    problem = hall_files.problem("halls[0].devices[0].printer")
    assert problem.message == 'kiosk "kiosk-1" prints on "board-w1", which is a board, not a printer'


def test_a_board_window_must_exist(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "window = 1", "window = 7")
    problem = hall_files.problem("halls[0].devices[2].window")
    assert problem.line == hall_files.line("hall.toml", "window = 7")
    assert problem.message == 'board "board-w1" shows window 7, which hall "test" does not have (windows: 1, 2)'


def test_sessions_must_not_overlap(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '{ start = "14:30", end = "17:30" }', '{ start = "11:30", end = "17:30" }')
    problem = hall_files.problem("halls[0].sessions[1]")
    assert problem.line == hall_files.line("hall.toml", '"11:30"')
    assert problem.message == "session 11:30–17:30 overlaps the session before it, 08:30–12:00"


def test_sessions_must_be_in_order(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '{ start = "14:30", end = "17:30" }', '{ start = "07:00", end = "08:00" }')
    problem = hall_files.problem("halls[0].sessions[1]")
    assert problem.message == "session 07:00–08:00 is listed after 08:30–12:00; list the sessions in order of time"


def test_sessions_that_touch_are_fine(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", '{ start = "14:30", end = "17:30" }', '{ start = "12:00", end = "17:30" }')
    assert len(load_config(hall_files.main).halls[0].sessions) == 2


def test_the_timezone_must_be_a_known_zone(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'address = "', 'timezone = "Asia/Beijing"\naddress = "')
    problem = hall_files.problem("halls[0].timezone")
    assert problem.line == hall_files.line("hall.toml", "timezone")
    assert problem.message == 'unknown time zone "Asia/Beijing"; expected a zone name such as "Asia/Shanghai"'


def test_calendar_years_are_unique(hall_files: HallFiles) -> None:
    hall_files.write("calendar/2030-again.toml", "year = 2030\n")
    problem = hall_files.problem("year", file="calendar/2030.toml")
    assert problem.line == 1
    assert problem.message == (
        f"calendar year 2030 is already used in {hall_files.root / 'calendar/2030-again.toml'}:1; "
        "each must be different"
    )


def test_holiday_dates_must_be_in_their_year(hall_files: HallFiles) -> None:
    hall_files.edit("calendar/2030.toml", "end = 2030-10-07", "end = 2031-10-07")
    problem = hall_files.problem("holidays[0].end", file="calendar/2030.toml")
    assert problem.line == 7
    assert problem.message == "2031-10-07 is not in 2030, the year of this file"


def test_a_make_up_workday_must_be_in_its_year(hall_files: HallFiles) -> None:
    hall_files.edit("calendar/2030.toml", "2030-09-29", "2029-09-29")
    problem = hall_files.problem("holidays[0].makeup_workdays[0]", file="calendar/2030.toml")
    assert problem.line == 8
    assert "2029-09-29 is not in 2030" in problem.message


def test_new_year_may_reach_back_into_december(hall_files: HallFiles) -> None:
    # 元旦 2024 ran 2023-12-30 to 2024-01-01 under the 2024 notice; 2012's make-up day was 2011-12-31.
    hall_files.write(
        "calendar/2030.toml",
        'year = 2030\n[[holidays]]\nname_zh = "元旦"\nname_en = "New Year"\n'
        "start = 2029-12-30\nend = 2030-01-01\nmakeup_workdays = [2029-12-29]\n",
    )
    assert load_config(hall_files.main).calendar[0].holidays[0].start == date(2029, 12, 30)


def test_a_make_up_workday_must_be_a_weekend_day(hall_files: HallFiles) -> None:
    hall_files.edit("calendar/2030.toml", "2030-09-29", "2030-09-30")
    problem = hall_files.problem("holidays[0].makeup_workdays[0]", file="calendar/2030.toml")
    assert problem.line == 8
    assert problem.message.startswith("make-up workday (调休上班日) 2030-09-30 is a Monday;")


def test_a_make_up_workday_must_not_fall_inside_a_holiday(hall_files: HallFiles) -> None:
    hall_files.edit("calendar/2030.toml", "2030-10-12", "2030-10-05")
    problem = hall_files.problem("holidays[0].makeup_workdays[1]", file="calendar/2030.toml")
    assert "falls inside the holiday 国庆节 (2030-10-01 to 2030-10-07)" in problem.message


def test_a_calendar_file_named_after_another_year(hall_files: HallFiles) -> None:
    hall_files.write("calendar/2030.toml", CALENDAR.replace("2030", "2031"))
    problem = hall_files.problem("year", file="calendar/2030.toml")
    assert problem.message == "this file gives the holidays of 2031 but is named 2030; name it 2031.toml"


# -- everything in one pass --------------------------------------------------------------------------------


def test_every_problem_of_every_file_is_reported_in_one_pass(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'prefix = "C"', 'prefx = "C"')  # schema error in a category ...
    hall_files.edit("hall.toml", "number = 2", "number = 1")  # ... does not hide a clash of windows
    hall_files.edit("hall.toml", "window = 1", "window = 9")
    hall_files.edit("items/jisheng.toml", "copies = 2", 'copies = "两份"')
    hall_files.edit("items/minzheng.toml", 'id = "minzheng-low-income"', 'id = "jisheng-birth-registration"')
    hall_files.edit("calendar/2030.toml", "2030-09-29", "2030-09-30")
    found = [(p.file.relative_to(hall_files.root).as_posix(), p.line, p.path) for p in hall_files.problems()]
    assert found == [
        ("hall.toml", 26, "halls[0].categories[1].prefix"),
        ("hall.toml", 28, "halls[0].categories[1].prefx"),
        ("hall.toml", 41, "halls[0].windows[1].number"),
        ("hall.toml", 61, "halls[0].devices[2].window"),
        ("items/jisheng.toml", 30, "items[1].materials[0].copies"),
        ("items/minzheng.toml", 4, "items[0].id"),
        ("calendar/2030.toml", 8, "holidays[0].makeup_workdays[0]"),
    ]


def test_an_unknown_key_in_a_calendar_file(hall_files: HallFiles) -> None:
    hall_files.edit("calendar/2030.toml", "year = 2030\n", "year = 2030\nsource = '国务院办公厅通知'\n")
    problem = hall_files.problem("source", file="calendar/2030.toml")
    assert problem.line == 2
    assert problem.message == 'unknown field "source" at the top level (known: holidays, year)'


BOARD = """
[halls.board]
featured_items = ["jisheng-birth-registratoin"]
page_seconds = 6
announcements = [{ zh = "午间不休息", en = "Open at noon" }]
"""


def test_a_hall_board_table_loads_with_announcements_and_featured_items(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "[halls.queue]", BOARD.replace("registratoin", "registration") + "\n[halls.queue]")
    hall_files.edit("hall.toml", "window = 1\n", 'window = 1\n\n[[halls.devices]]\nkind = "board"\nid = "board-2"\n'
                    'name = "二楼屏"\nnotice_zone = false\n')  # fmt: skip
    hall = load_config(hall_files.main).halls[0]
    assert hall.board.featured_items == ["jisheng-birth-registration"] and hall.board.page_seconds == 6
    assert [(a.zh, a.en) for a in hall.board.announcements] == [("午间不休息", "Open at noon")]
    assert hall.board.notice_zone and hall.board.window_rows == 2  # the defaults


def test_a_featured_item_must_be_an_item_of_the_hall(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "[halls.queue]", BOARD + "\n[halls.queue]")
    problem = hall_files.problem("halls[0].board.featured_items[0]")
    assert problem.line == hall_files.line("hall.toml", "featured_items")
    assert problem.message == (
        'featured item "jisheng-birth-registratoin" is not a service item of hall "test" '
        '(did you mean "jisheng-birth-registration"?)'
    )


def test_a_window_board_has_no_notice_zone(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "window = 1\n", "window = 1\nnotice_zone = true\n")
    problem = hall_files.problem("halls[0].devices[2]")
    assert "a window-top board has no notice zone" in problem.message


def test_board_settings_are_checked(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", "[halls.queue]", "[halls.board]\npage_seconds = 1\n\n[halls.queue]")
    problem = hall_files.problem("halls[0].board.page_seconds")
    assert problem.message == "expected a whole number from 2 to 120, got 1"


def test_a_category_colour_too_light_for_white_text_is_refused(hall_files: HallFiles) -> None:
    hall_files.edit("hall.toml", 'prefix = "A"\n', 'prefix = "A"\ncolour = "#43A047"\n')
    problem = hall_files.problem("halls[0].categories[0].colour")
    assert "white text on #43A047 has a contrast of 3.30:1, below 4.5:1; choose a darker colour" in problem.message
    assert problem.line == hall_files.line("hall.toml", 'colour = "#43A047"')
