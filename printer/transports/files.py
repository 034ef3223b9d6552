"""A device node or file (e.g. /dev/usb/lp0): write-only, no status."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import BinaryIO

from printer.transports.base import Transport, TransportError


class FileTransport(Transport):
    """Appends each job to a file or character device."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = str(path)
        self._file: BinaryIO | None = None

    def open(self) -> None:
        self.close()
        try:
            self._file = self.path.open("ab")
        except OSError as error:
            raise TransportError(f"cannot open {self.path}: {error}") from error

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise TransportError(f"{self.path} is not open")
        try:
            self._file.write(data)
            self._file.flush()
        except OSError as error:
            raise TransportError(f"writing to {self.path} failed: {error}") from error

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
