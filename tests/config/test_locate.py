"""Finding the line of a field path in TOML text."""

from __future__ import annotations

import tomllib

import pytest

from config.locate import index_lines, locate

TEXT = '''\
# comment [[not.a.header]]
calendar = ["a/*.toml",
            "b/*.toml"]

[[halls]]
id = "one"
notice = """
[[halls.windows]]
number = 99
"""
sessions = [
    { start = "08:30", end = "12:00" },  # morning
    { start = "14:30", end = "17:30" },
]

[halls.queue]
recall_limit = 3

[[halls.windows]]
number = 1

[[halls.windows]]
number = 2
categories = ["a", 'b', "c"]

[[halls]]
id = "two"

[[halls.windows]]
"number" = 7
name.zh = 'a # not a comment'

[[items]]
id = "x"
materials = [
  { name = "身份证", copies = 1 },
  { name = "户口簿", copies = "两份" },
]
'''


@pytest.fixture(scope="module")
def lines() -> dict[tuple[str | int, ...], int]:
    tomllib.loads(TEXT)  # the fixture is valid TOML
    return index_lines(TEXT)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("calendar",), 2),
        (("calendar", 1), 3),
        (("halls",), 5),
        (("halls", 0), 5),
        (("halls", 0, "id"), 6),
        (("halls", 0, "notice"), 7),
        (("halls", 0, "sessions", 0, "start"), 12),
        (("halls", 0, "sessions", 1), 13),
        (("halls", 0, "sessions", 1, "end"), 13),
        (("halls", 0, "queue"), 16),
        (("halls", 0, "queue", "recall_limit"), 17),
        (("halls", 0, "windows", 0, "number"), 20),  # the header inside the string does not count
        (("halls", 0, "windows", 1), 22),
        (("halls", 0, "windows", 1, "categories", 2), 24),
        (("halls", 1, "id"), 27),
        (("halls", 1, "windows", 0), 29),
        (("halls", 1, "windows", 0, "number"), 30),
        (("halls", 1, "windows", 0, "name", "zh"), 31),
        (("items", 0, "materials", 1, "copies"), 37),
    ],
)
def test_locate_finds_the_line(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...], line: int) -> None:
    assert locate(lines, path) == line


def test_a_missing_key_falls_back_to_its_table(lines: dict[tuple[str | int, ...], int]) -> None:
    assert locate(lines, ("halls", 1, "windows", 0, "name_en")) == 29
    assert locate(lines, ("halls", 0, "queue", "pause_alert_minutes")) == 16


def test_a_path_nowhere_in_the_file_has_no_line(lines: dict[tuple[str | int, ...], int]) -> None:
    assert locate(lines, ("devices", 0)) is None
    assert locate(lines, ()) is None


def test_text_the_scanner_does_not_understand_keeps_what_was_found() -> None:
    lines = index_lines('a = 1\nb = "unterminated\nc = 3\n')
    assert lines[("a",)] == 1
    assert ("c",) not in lines


def test_windows_line_endings() -> None:
    lines = index_lines("[[items]]\r\nid = 'x'\r\nmaterials = [\r\n  { copies = 1 },\r\n]\r\n")
    assert locate(lines, ("items", 0, "materials", 0, "copies")) == 4
