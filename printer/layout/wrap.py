"""Line breaking of mixed Chinese/Latin text by a measured width, never splitting a character.

Chinese may break between any two characters, except that closing punctuation never starts a
line and opening punctuation never ends one (避头尾); Latin words break at spaces, and only a
word longer than a whole line is split, between characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

Measure = Callable[[str], float]

# The rule of every Chinese line this project sets: receipts and notices (printer/), the kiosk's
# wrapped texts (kiosk/kivy_text.py). Closing marks never start a line, opening marks never end one.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉〗〙〛］｝”’％‰…—～·,.;:?!)]}%")
NO_LINE_END = frozenset("（《「『【〔〈〖〘〚［｛“‘([{￥$#")


def clean(text: str) -> str:
    """Text with tabs as spaces and other control characters removed (they would be printer commands)."""
    out = []
    for char in text:
        if char == "\n":
            out.append(char)
        elif char == "\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs") and char != "\u200d":
            # Controls (printer commands), invisible format marks and lone surrogates. Unassigned and
            # private-use code points stay: a newer Unicode's rare hanzi must not vanish.
            continue
        else:
            out.append(char)
    return "".join(out)


def is_wide(char: str) -> bool:
    """Whether a character is set on its own (hanzi, kana, full-width forms): a line may break around it."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def units(text: str) -> list[str]:
    """The text cut into characters, each with the combining marks that follow it."""
    out: list[str] = []
    for char in text:
        if out and (unicodedata.combining(char) or char == "\u200d" or out[-1].endswith("\u200d")):
            out[-1] += char
        else:
            out.append(char)
    return out


@dataclass
class _Cluster:
    text: str
    space_before: bool


def _clusters(paragraph: str) -> list[_Cluster]:
    """Unbreakable pieces of a paragraph: a wide character or a Latin word, with glued punctuation."""
    pieces: list[_Cluster] = []
    space = False
    word = ""
    word_space = False
    for unit in units(paragraph):
        if unit.isspace():
            if word:
                pieces.append(_Cluster(word, word_space))
                word = ""
            space = True
        elif is_wide(unit[0]):
            if word:
                pieces.append(_Cluster(word, word_space))
                word = ""
            pieces.append(_Cluster(unit, space))
            space = False
        else:
            if not word:
                word_space, space = space, False
            word += unit
    if word:
        pieces.append(_Cluster(word, word_space))
    glued: list[_Cluster] = []
    for piece in pieces:
        if glued and (
            # The marks hold on across a space too: a break there would drop the space and strand the mark.
            piece.text[0] in NO_LINE_START
            or glued[-1].text[-1] in NO_LINE_END
            # A number keeps its unit: 15个, 1份, 60周岁 do not break after the digits.
            or (
                not piece.space_before
                and glued[-1].text[-1].isascii()
                and glued[-1].text[-1].isdigit()
                and is_wide(piece.text[0])
            )
        ):
            glued[-1].text += (" " if piece.space_before else "") + piece.text
        else:
            glued.append(piece)
    return glued


def wrap(text: str, first_width: float, width: float, measure: Measure) -> list[str]:
    """Break `text` into lines: the first at most `first_width` wide, the rest at most `width`.

    `measure` gives the printed width of a string. Hard newlines in the text start new lines.
    Every character of the text appears exactly once, in order (spaces at breaks are dropped).
    """
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        lines.extend(_wrap_paragraph(paragraph, first_width if not lines else width, width, measure))
    return lines


def _wrap_paragraph(paragraph: str, first_width: float, width: float, measure: Measure) -> list[str]:
    clusters = _clusters(paragraph)
    space_width = measure(" ")
    lines: list[str] = []
    start = 0
    while start < len(clusters):
        limit = first_width if not lines else width
        # Widths are summed piece by piece (each piece measured once, cheap with a cache) ...
        texts: list[str] = []
        total = 0.0
        end = start
        while end < len(clusters):
            cluster = clusters[end]
            sep = " " if texts and cluster.space_before else ""
            grown = total + (space_width if sep else 0.0) + measure(cluster.text)
            if grown > limit:
                break
            texts.append(sep + cluster.text)
            total = grown
            end += 1
        # ... and the exact width of the joined line (kerning) has the last word.
        while len(texts) > 1 and measure("".join(texts)) > limit:
            texts.pop()
            end -= 1
        if texts and measure("".join(texts)) <= limit:
            lines.append("".join(texts))
            start = end
            continue
        # A single piece wider than the whole line: split it between characters.
        head, rest = _split(clusters[start].text, limit, measure)
        lines.append(head)
        if rest:
            clusters[start] = _Cluster(rest, False)
        else:
            start += 1
    return lines or [""]


def _split(text: str, limit: float, measure: Measure) -> tuple[str, str]:
    """The longest run of whole characters from the start of text that fits in limit (at least one)."""
    pieces = units(text)
    fit = 1
    for count in range(2, len(pieces) + 1):
        if measure("".join(pieces[:count])) > limit:
            break
        fit = count
    return "".join(pieces[:fit]), "".join(pieces[fit:])
