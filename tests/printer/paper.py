"""What a thermal printer makes of a byte stream: its command parser, kept across connections, and the cut pieces.

A printer does not start afresh with each TCP connection: a job cut off inside a GS v 0 image leaves
the printer inside it, and it takes the next bytes as dots. `Paper` parses the stream as a printer
does (the commands this package writes, and the usual ones around them) and records each cut-off
piece of paper as its printing commands, with what prints nothing (NULs, DLE EOT queries, zero feeds,
feeds right before the cut, unknown ESC/GS codes) left out and every cut written as one CUT. Two pieces
are the same printout when their records are equal; `piece_of(job)` is the record a whole job makes.
"""

from __future__ import annotations

CUT = b"<cut>"
ESC_PARAMS = {b"@": 0, b"a": 1, b"E": 1, b"M": 1, b"J": 1, b"d": 1, b"!": 1, b"-": 1, b"G": 1, b"t": 1, b"3": 1}
ESC_PARAMS[b"2"] = 0
GS_PARAMS = {b"!": 1, b"B": 1, b"L": 2, b"W": 2, b"H": 1, b"f": 1, b"h": 1, b"w": 1, b"r": 1, b"I": 1, b"a": 1}


class Paper:
    """Feed bytes in arrival order; `pieces` are the cut pieces, `open_piece` what is printed but not cut yet."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.pieces: list[bytes] = []
        self.current: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self.pending += data
        while self.pending:
            size = self._command_size()
            if size is None:
                return  # the command is not complete yet: wait for more bytes
            command = bytes(self.pending[:size])
            del self.pending[:size]
            self._take(command)

    @property
    def open_piece(self) -> bytes:
        return b"".join(self.current)

    @property
    def inside_command(self) -> bool:
        return bool(self.pending)

    def _command_size(self) -> int | None:
        data = self.pending
        first = data[0]
        if first == 0x1B:
            if len(data) < 2:
                return None
            return _complete(data, 2 + ESC_PARAMS.get(bytes(data[1:2]), 0))
        if first == 0x1D:
            if len(data) < 2:
                return None
            code = bytes(data[1:2])
            if code == b"V":
                if len(data) < 3:
                    return None
                return _complete(data, 4 if data[2] in (65, 66) else 3)
            if code == b"v":
                if len(data) < 8:
                    return None
                width, rows = data[4] + 256 * data[5], data[6] + 256 * data[7]
                return _complete(data, 8 + width * rows)
            if code in (b"(",):
                if len(data) < 5:
                    return None
                return _complete(data, 5 + data[3] + 256 * data[4])
            return _complete(data, 2 + GS_PARAMS.get(code, 0))
        if first == 0x1C:
            if len(data) < 2:
                return None
            return 2
        if first == 0x10:
            if len(data) < 2:
                return None
            if data[1] == 0x04:
                if len(data) < 3:
                    return None
                return _complete(data, 4 if data[2] in (7, 8) else 3)
            return 1
        return 1

    def _take(self, command: bytes) -> None:
        if command == b"\x00" or command.startswith(b"\x10\x04"):
            return  # NUL and real-time queries print nothing
        if command[:1] == b"\x1b" and (command[1:2] not in ESC_PARAMS or command in (b"\x1bd\x00", b"\x1bJ\x00")):
            return
        if command[:1] == b"\x1d" and command[1:2] not in (*GS_PARAMS, b"V", b"v", b"("):
            return
        if command[:2] == b"\x1dV":
            while self.current and self.current[-1][:2] in (b"\x1bd", b"\x1bJ"):
                self.current.pop()  # a feed before the cut only moves the paper to the knife
            self.current.append(CUT)
            self.pieces.append(b"".join(self.current))
            self.current = []
            return
        self.current.append(command)


def _complete(data: bytearray, size: int) -> int | None:
    return size if len(data) >= size else None


def piece_of(job: bytes) -> bytes:
    """The record of the printout a whole job makes by itself (its first cut piece)."""
    paper = Paper()
    paper.feed(job)
    assert paper.pieces and not paper.inside_command, "a job must end with a cut"
    return paper.pieces[0]


def blank(piece: bytes) -> bool:
    """A piece that carries nothing but resets and the cut (an extra cut sent to finish a job)."""
    return piece.replace(b"\x1b@", b"") == CUT
