"""Line breaking: whole characters only, punctuation rules, Latin words, hanging lines."""

from __future__ import annotations

import itertools
import random

import pytest

from printer.layout.wrap import NO_LINE_END, NO_LINE_START, clean, wrap


def columns(text: str) -> float:
    """A stand-in measure: hanzi and full-width forms two columns, the rest one."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def test_hanzi_break_anywhere_within_the_width() -> None:
    assert wrap("一二三四五六七八九十", 8, 8, columns) == ["一二三四", "五六七八", "九十"]


def test_closing_punctuation_never_starts_a_line() -> None:
    lines = wrap("一二三，四五六。", 6, 6, columns)
    assert lines == ["一二", "三，四", "五六。"]


def test_opening_punctuation_never_ends_a_line() -> None:
    lines = wrap("一二（三四）", 6, 6, columns)
    assert all(not line.endswith("（") for line in lines)
    assert "".join(lines) == "一二（三四）"


@pytest.mark.parametrize("mark", sorted(NO_LINE_START))
def test_no_closing_mark_starts_a_line_where_the_width_would_put_it_there(mark: str) -> None:
    lines = wrap(f"一二三四{mark}五六", 8, 8, columns)  # the width ends right after 四
    assert lines[0].endswith(f"四{mark}") or (lines[0].endswith(mark) is False and not lines[1].startswith(mark))
    assert all(not line.startswith(mark) for line in lines)
    assert "".join(lines) == f"一二三四{mark}五六"


@pytest.mark.parametrize("mark", sorted(NO_LINE_END))
def test_no_opening_mark_ends_a_line_where_the_width_would_leave_it_there(mark: str) -> None:
    lines = wrap(f"一二三{mark}四五六", 7, 7, columns)  # the width ends right after the mark
    assert all(not line.endswith(mark) for line in lines[:-1])
    assert "".join(lines) == f"一二三{mark}四五六"


def test_a_semicolon_never_stands_alone_on_a_line() -> None:
    """The kiosk's 办理程序 of 最低生活保障申请 used to end a line with 登记 and put "；" alone on the next."""
    lines = wrap("村（居）公示7天；镇人民政府审核确认", 16, 16, columns)
    assert all(line.strip("；") for line in lines)
    assert all(not line.startswith(("；", "）")) for line in lines)
    assert all(not line.endswith("（") for line in lines)


def test_number_stays_with_its_unit() -> None:
    assert wrap("复印件11份", 8, 8, columns) == ["复印件", "11份"]


def test_latin_breaks_at_spaces_and_splits_only_overlong_words() -> None:
    assert wrap("Please bring your ID card", 12, 12, columns) == ["Please bring", "your ID card"]
    assert wrap("abcdefghijklmnop", 6, 6, columns) == ["abcdef", "ghijkl", "mnop"]


def test_first_line_may_be_narrower() -> None:
    assert wrap("一二三四五六", 4, 8, columns) == ["一二", "三四五六"]


def test_hard_newlines_and_empty_text() -> None:
    assert wrap("一\n\n二", 8, 8, columns) == ["一", "", "二"]
    assert wrap("", 8, 8, columns) == [""]


def test_combining_marks_stay_with_their_letter() -> None:
    lines = wrap("e\u0301" * 5, 2, 2, len)
    assert all(not line.startswith("\u0301") for line in lines)


def test_control_characters_are_removed_but_rare_characters_kept() -> None:
    assert clean("a\x1bb\tc\u200bd𠮷\U0010fffd") == "ab cd𠮷\U0010fffd"


@pytest.mark.parametrize("seed", range(30))
def test_random_text_keeps_every_character_and_fits(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "申请人居民身份证户口簿，。、；：（）《》ABCxyz0123 ￥䶮𠮷"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
    width = rng.randint(4, 40)
    lines = wrap(text, width, width, columns)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert columns(line) <= width or len(line) == 1
    for before, line in itertools.pairwise(lines):
        if columns(before) + columns(line[:1]) <= width:  # not a run of marks wider than the whole line
            assert line[:1] not in NO_LINE_START, (before, line)
            assert before[-1:] not in NO_LINE_END, (before, line)
