"""What every transport does: open, write, read status where it can, close."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from printer.status import DeviceStatus


class TransportError(Exception):
    """The printer could not be opened or written to; the job stays queued."""


class Transport(ABC):
    """One way to reach a printer. Each call is short and bounded by the transport's timeouts."""

    description: str = "printer"
    has_status: bool = False
    """Whether status() asks the printer itself (DLE EOT); otherwise it returns None."""

    @abstractmethod
    def open(self) -> None:
        """Connect; raise TransportError when the printer cannot be reached."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Send bytes; raise TransportError when they cannot all be handed over in time."""

    def status(self, timeout_s: float | None = None, stale: int = 0) -> DeviceStatus | None:
        """The printer's status (StatusReplyError when it does not answer), or None if it cannot be read.

        `stale`: how many replies the bytes written since the last query provoked (DLE EOT inside them):
        they are read and dropped first, so an answer is never taken for the reply to a later query.
        """
        return None

    def finish(self) -> None:
        """End the job cleanly: every reply read, then the connection closed in order (TransportError if not).

        Closing with replies unread makes TCP reset the connection, and the printer drops what it has not
        read yet; finish() never does. close() afterwards releases what is left.
        """
        return None

    @abstractmethod
    def close(self) -> None:
        """Disconnect; never raises."""

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
