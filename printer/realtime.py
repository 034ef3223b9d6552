"""Job bytes and real-time status requests (DLE EOT n): keep them out of image data, count what is left.

A printer acts on DLE EOT n the moment it receives it, even inside a GS v 0 image, and answers it.
Replies to such accidental requests arrive before the reply to the spooler's own query and would be
taken for it. Jobs rendered here never contain the pattern (printer/layout/commands.py breaks it in
every image); `realtime_safe` does the same to any job's images, and `realtime_queries` counts the
requests left elsewhere, whose replies the transport reads and drops before asking its own question.
"""

from __future__ import annotations

from printer.layout import commands

_PARAMS = {0x1B: {b"@": 0, b"a": 1, b"E": 1, b"M": 1, b"J": 1, b"d": 1, b"!": 1, b"-": 1, b"G": 1, b"t": 1, b"3": 1}}
_GS_PARAMS = {b"!": 1, b"B": 1, b"L": 2, b"W": 2, b"H": 1, b"f": 1, b"h": 1, b"w": 1, b"r": 1, b"I": 1, b"a": 1}


def _image_regions(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each GS v 0 image's dot data, found by walking the commands from the start."""
    regions: list[tuple[int, int]] = []
    at, end = 0, len(data)
    while at < end:
        byte = data[at]
        code = data[at + 1 : at + 2]
        if byte == 0x1B:
            at += 2 + _PARAMS[0x1B].get(code, 0)
        elif byte == 0x1D and code == b"v" and at + 8 <= end:
            size = (data[at + 4] + 256 * data[at + 5]) * (data[at + 6] + 256 * data[at + 7])
            regions.append((at + 8, min(end, at + 8 + size)))
            at += 8 + size
        elif byte == 0x1D and code == b"(" and at + 5 <= end:
            at += 5 + data[at + 3] + 256 * data[at + 4]
        elif byte == 0x1D and code == b"V":
            at += 4 if at + 2 < end and data[at + 2] in (65, 66) else 3
        elif byte == 0x1D:
            at += 2 + _GS_PARAMS.get(code, 0)
        elif byte == 0x1C:
            at += 2
        elif byte == 0x10 and code == b"\x04":
            at += 3
        else:
            at += 1
    return regions


def realtime_safe(data: bytes) -> bytes:
    """The job with DLE EOT pairs inside its images broken (one dot cleared), everything else unchanged."""
    if commands.REALTIME_PREFIX not in data:
        return data
    out = bytearray(data)
    for start, end in _image_regions(data):
        out[start:end] = commands.without_realtime(bytes(out[start:end]))
        if end < len(out) and out[end - 1] == 0x10 and out[end] == 0x04:
            out[end - 1] = 0  # the last dot byte and the next command's first byte
    return bytes(out)


def realtime_queries(data: bytes) -> int:
    """How many DLE EOT n (n = 1..4) a printer finds in data, scanning as it does: each one is answered."""
    count, at = 0, data.find(commands.REALTIME_PREFIX)
    while at >= 0:
        if at + 2 < len(data) and 1 <= data[at + 2] <= 4:
            count += 1
        at = data.find(commands.REALTIME_PREFIX, at + 3)
    return count


def split_cut(data: bytes) -> tuple[bytes, bytes]:
    """The job's body and its closing cut (feed + GS V), held back until the body is confirmed."""
    trailer = commands.feed_lines(4) + commands.PARTIAL_CUT
    if data.endswith(trailer):
        return data[: -len(trailer)], trailer
    for cut in (commands.PARTIAL_CUT, commands.GS + b"V\x00", commands.GS + b"V0", commands.GS + b"V1"):
        if data.endswith(cut):
            return data[: -len(cut)], cut
    return data, b""
