"""USB, serial and CUPS printers through python-escpos's device classes (imported only when used).

These need optional packages: pyusb (USB), pyserial (serial), pycups (CUPS). python-escpos is
imported lazily because importing it configures logging and makes a temporary folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable
from typing import Any

from printer.status import DeviceStatus, query
from printer.transports.base import Transport, TransportError

NEEDS = {"usb": ("usb", "pyusb"), "serial": ("serial", "pyserial"), "cups": ("cups", "pycups")}
"""kind -> (module to import, package to install)."""


class EscposDeviceTransport(Transport):
    """Wraps a python-escpos printer object: its open/_raw/_read/close are the device calls."""

    def __init__(self, kind: str, description: str, make: Callable[[], Any], has_status: bool) -> None:
        self.kind = kind
        self.description = description
        self.has_status = has_status
        self._make = make
        self._device: Any = None

    def open(self) -> None:
        self.close()
        module, package = NEEDS[self.kind]
        # Checked before python-escpos builds its object: a Usb object without pyusb fails even in __del__.
        if importlib.util.find_spec(module) is None:
            raise TransportError(f"{self.description} needs the {package} package (pip install {package})")
        try:
            device = self._make()
            device.open()
        except Exception as error:  # DeviceNotFoundError, USBError, SerialException, cups.IPPError, ...
            raise TransportError(f"cannot open {self.description}: {error}") from error
        self._device = device

    def write(self, data: bytes) -> None:
        device = self._opened()
        try:
            device._raw(data)
            if self.kind == "cups":
                device.send()
        except Exception as error:
            raise TransportError(f"writing to {self.description} failed: {error}") from error

    def status(self, timeout_s: float | None = None, stale: int = 0) -> DeviceStatus | None:
        if not self.has_status:
            return None
        device = self._opened()
        if self.kind == "cups":
            # CUPS answers from its queue state: b"0" accepting, b"8" stopped or busy.
            return DeviceStatus(online=device._read() == b"0")

        def receive_one() -> int | None:
            reply = bytes(device._read())
            return reply[-1] if reply else None

        try:
            for _ in range(stale):
                if receive_one() is None:
                    break
            return query(device._raw, receive_one)
        except TransportError:
            raise
        except Exception as error:
            raise TransportError(f"status query to {self.description} failed: {error}") from error

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            # Closing a vanished USB/serial device must not stop the spooler.
            with contextlib.suppress(Exception):
                device.close()

    def _opened(self) -> Any:
        if self._device is None:
            raise TransportError(f"{self.description} is not open")
        return self._device


def usb(vendor: int, product: int, timeout_s: float) -> EscposDeviceTransport:
    def make() -> Any:
        from escpos.printer import Usb

        return Usb(vendor, product, timeout=int(timeout_s * 1000))

    return EscposDeviceTransport("usb", f"USB printer {vendor:04x}:{product:04x}", make, has_status=True)


def serial(port: str, baudrate: int, timeout_s: float) -> EscposDeviceTransport:
    def make() -> Any:
        from escpos.printer import Serial

        return Serial(devfile=port, baudrate=baudrate, timeout=timeout_s)

    return EscposDeviceTransport("serial", f"serial printer {port} at {baudrate} baud", make, has_status=True)


def cups(queue: str) -> EscposDeviceTransport:
    def make() -> Any:
        from escpos.printer import CupsPrinter

        return CupsPrinter(printer_name=queue)

    return EscposDeviceTransport("cups", f"CUPS queue {queue}", make, has_status=True)
