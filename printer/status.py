"""Printer status: the states the kiosk and the manager show, and the decoding of DLE EOT replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from printer.layout import commands


class PrinterState(StrEnum):
    """What a printer is doing, most severe first when several hold at once."""

    UNREACHABLE = "unreachable"  # no connection, or no reply to a status query
    COVER_OPEN = "cover_open"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"  # the printer says it is offline or in error for another reason
    PAPER_NEAR_END = "paper_near_end"  # still prints
    ONLINE = "online"
    UNKNOWN = "unknown"  # not checked yet, or the transport cannot read status (file, CUPS without reply)

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.ONLINE, PrinterState.PAPER_NEAR_END, PrinterState.UNKNOWN)


_LABELS_ZH = {
    PrinterState.UNREACHABLE: "打印机无法连接",
    PrinterState.COVER_OPEN: "打印机盖未关",
    PrinterState.PAPER_OUT: "打印纸用完",
    PrinterState.OFFLINE: "打印机离线",
    PrinterState.PAPER_NEAR_END: "打印纸将尽",
    PrinterState.ONLINE: "打印机正常",
    PrinterState.UNKNOWN: "打印机状态未知",
}


@dataclass(frozen=True)
class DeviceStatus:
    """The printer's own report, from its DLE EOT 1/2/4 replies."""

    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False

    @property
    def state(self) -> PrinterState:
        if self.cover_open:
            return PrinterState.COVER_OPEN
        if self.paper_out:
            return PrinterState.PAPER_OUT
        if self.error or not self.online:
            return PrinterState.OFFLINE
        if self.paper_near_end:
            return PrinterState.PAPER_NEAR_END
        return PrinterState.ONLINE


class StatusReplyError(Exception):
    """The printer did not answer a status query in time, or answered something that is not a status byte."""


def valid_reply(byte: int) -> bool:
    """Every DLE EOT reply byte has bits 1 and 4 set and bits 0 and 7 clear (0b0xx1xx10)."""
    return byte & 0x93 == 0x12


def decode(printer: int, offline_cause: int, paper: int) -> DeviceStatus:
    """Status from the replies to DLE EOT 1 (printer), 2 (offline cause) and 4 (paper roll sensor)."""
    for byte in (printer, offline_cause, paper):
        if not valid_reply(byte):
            raise StatusReplyError(f"{byte:#04x} is not a DLE EOT status byte")
    return DeviceStatus(
        online=not printer & 0x08,
        cover_open=bool(offline_cause & 0x04),
        paper_out=bool(offline_cause & 0x20) or paper & 0x60 == 0x60,
        paper_near_end=paper & 0x0C == 0x0C,
        error=bool(offline_cause & 0x40),
    )


def query(send: Callable[[bytes], None], receive_one: Callable[[], int | None]) -> DeviceStatus:
    """Ask DLE EOT 1, 2 and 4 in turn; receive_one returns the next reply byte or None on timeout."""
    replies: list[int] = []
    for request in (commands.STATUS_PRINTER, commands.STATUS_OFFLINE_CAUSE, commands.STATUS_PAPER):
        send(request)
        byte = receive_one()
        if byte is None:
            raise StatusReplyError(f"no reply to DLE EOT {request[-1]}")
        replies.append(byte)
    return decode(*replies)
