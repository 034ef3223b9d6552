"""Find the line of a field path such as halls[0].windows[2].number in the text of a TOML file."""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Mapping, Sequence

Key = str | int
FieldPath = tuple[Key, ...]

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def index_lines(text: str) -> dict[FieldPath, int]:
    """The 1-based line on which each table, key and array element of a TOML text starts.

    tomllib keeps no positions, so this walks the text once more. It is meant for text that
    tomllib has accepted; on anything it does not understand it stops and keeps what it found.
    """
    scanner = _Scanner(text)
    with contextlib.suppress(_Stop, IndexError, tomllib.TOMLDecodeError):
        scanner.document()
    return scanner.lines


def locate(lines: Mapping[FieldPath, int], path: Sequence[Key]) -> int | None:
    """The line of path, else of its nearest ancestor written in the file (a missing key's table); else None."""
    for end in range(len(path), 0, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


class _Stop(Exception):
    """The text is not TOML the scanner understands."""


class _Scanner:
    """A small TOML walker that records positions and ignores values."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[FieldPath, int] = {}
        self.arrays: dict[FieldPath, int] = {}  # array of tables -> how many of its [[headers]] were seen

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def advance(self, size: int = 1) -> None:
        self.line += self.text.count("\n", self.pos, self.pos + size)
        self.pos += size

    def expect(self, token: str) -> None:
        if self.peek(len(token)) != token:
            raise _Stop
        self.advance(len(token))

    def record(self, path: FieldPath, line: int) -> None:
        self.lines.setdefault(path, line)

    def skip_blank(self, newlines: bool) -> None:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif char in " \t\r" or (newlines and char == "\n"):
                self.advance()
            else:
                return

    def document(self) -> None:
        table: FieldPath = ()
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return
            if self.peek(2) == "[[":
                self.advance(2)
                table = self.header(array=True)
                self.expect("]]")
            elif self.peek() == "[":
                self.advance()
                table = self.header(array=False)
                self.expect("]")
            else:
                self.key_value(table)

    def header(self, array: bool) -> FieldPath:
        """Resolve a [table] or [[array.of.tables]] header to its path, counting the arrays' tables."""
        line = self.line
        names = self.key()
        path: FieldPath = ()
        for name in names[:-1]:
            path += (name,)
            if path in self.arrays:  # [[halls.windows]] belongs to the latest [[halls]]
                path += (self.arrays[path] - 1,)
        path += (names[-1],)
        if array:
            self.record(path, line)
            count = self.arrays.get(path, 0)
            self.arrays[path] = count + 1
            path += (count,)
        self.record(path, line)
        return path

    def key_value(self, table: FieldPath) -> None:
        line = self.line
        path = table
        for name in self.key():
            path += (name,)
            self.record(path, line)
        self.expect("=")
        self.skip_blank(newlines=False)
        self.value(path)

    def key(self) -> list[str]:
        """A dotted key: bare or quoted parts separated by dots."""
        names: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            start = self.pos
            if self.peek() in ('"', "'"):
                self.string()
                names.append(tomllib.loads("k = " + self.text[start : self.pos])["k"])
            else:
                while self.pos < len(self.text) and self.text[self.pos] in _BARE_KEY:
                    self.pos += 1
                if self.pos == start:
                    raise _Stop
                names.append(self.text[start : self.pos])
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return names
            self.advance()

    def value(self, path: FieldPath) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.advance()
            index = 0
            while True:
                self.skip_blank(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.record((*path, index), self.line)
                self.value((*path, index))
                self.skip_blank(newlines=True)
                if self.peek() == ",":
                    self.advance()
                index += 1
        elif char == "{":
            self.advance()
            while True:
                self.skip_blank(newlines=True)
                if self.peek() == "}":
                    self.advance()
                    return
                self.key_value(path)
                self.skip_blank(newlines=True)
                if self.peek() == ",":
                    self.advance()
        else:  # number, boolean, date or time: runs to the next delimiter
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}\n#":
                self.pos += 1
            if self.pos == start:
                raise _Stop

    def string(self) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:  # multi-line; up to two more quotes may close it
            self.advance(3)
            end = self.closing(quote * 3)
            self.advance(end + 3 - self.pos)
            for _ in range(2):
                if self.peek() == quote:
                    self.advance()
            return
        self.advance()
        self.advance(self.closing(quote) + 1 - self.pos)

    def closing(self, delimiter: str) -> int:
        """Where delimiter next occurs unescaped (literal 'strings' have no escapes)."""
        at = self.pos
        while True:
            at = self.text.find(delimiter, at)
            if at < 0:
                raise _Stop
            backslashes = 0
            while delimiter[0] == '"' and self.text[at - 1 - backslashes] == "\\":
                backslashes += 1
            if backslashes % 2 == 0:
                return at
            at += 1
