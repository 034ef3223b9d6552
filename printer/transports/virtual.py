"""The virtual printer of the demo: each job becomes <n>.bin and a <n>.png picture in a folder."""

from __future__ import annotations

from pathlib import Path

from printer.layout.emulator import EmulatorError, emulate
from printer.model import PAPER_PIXELS, Paper
from printer.status import DeviceStatus
from printer.transports.base import Transport, TransportError


class VirtualTransport(Transport):
    """Writes jobs as numbered files; always online. The PNG is drawn by the ESC/POS emulator."""

    has_status = True

    def __init__(self, folder: str | Path, paper: Paper = 80) -> None:
        self.folder = Path(folder)
        self.paper = paper
        self.description = f"virtual printer in {self.folder}"
        self._job = bytearray()

    def open(self) -> None:
        self._job = bytearray()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TransportError(f"cannot create {self.folder}: {error}") from error

    def write(self, data: bytes) -> None:
        self._job += data

    def finish(self) -> None:
        """A job's bytes (written in parts: body, then the cut) become one numbered file."""
        data, self._job = bytes(self._job), bytearray()
        if not data:
            return  # a status poll
        number = 1 + max((int(p.stem) for p in self.folder.glob("*.bin") if p.stem.isdigit()), default=0)
        try:
            (self.folder / f"{number}.bin").write_bytes(data)
        except OSError as error:
            raise TransportError(f"writing job {number} to {self.folder} failed: {error}") from error
        try:
            picture = emulate(data, PAPER_PIXELS[self.paper]).image
        except EmulatorError:
            return  # bytes from elsewhere that the emulator does not know: the .bin is the job
        try:
            picture.save(self.folder / f"{number}.png")
        except OSError as error:
            raise TransportError(f"writing the preview of job {number} failed: {error}") from error

    def status(self, timeout_s: float | None = None, stale: int = 0) -> DeviceStatus:
        return DeviceStatus()

    def close(self) -> None:
        pass
