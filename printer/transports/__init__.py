"""Ways to reach a printer, chosen from its configuration: network, USB, serial, file, CUPS, virtual."""

from __future__ import annotations

from pathlib import Path

from config.schema import PrinterDevice, PrinterTransport
from printer.transports import device
from printer.transports.base import Transport, TransportError
from printer.transports.files import FileTransport
from printer.transports.network import NetworkTransport
from printer.transports.virtual import VirtualTransport

__all__ = [
    "FileTransport",
    "NetworkTransport",
    "Transport",
    "TransportError",
    "VirtualTransport",
    "transport_for",
]

DEFAULT_VIRTUAL_ROOT = Path("var") / "printer"


def transport_for(printer: PrinterDevice, virtual_root: Path = DEFAULT_VIRTUAL_ROOT) -> Transport:
    """The transport a printer's configuration asks for; a virtual printer writes to virtual_root/<id>.

    With `confirm = "none"` the printer is never asked for its status (it does not answer DLE EOT).
    """
    transport = _transport(printer, virtual_root)
    if printer.confirm == "none":
        transport.has_status = False
    return transport


def _transport(printer: PrinterDevice, virtual_root: Path) -> Transport:
    kind = printer.transport
    if kind is PrinterTransport.NETWORK:
        assert printer.host is not None  # the schema requires it
        return NetworkTransport(printer.host, printer.port, printer.timeout_s, min(1.0, printer.timeout_s))
    if kind is PrinterTransport.USB:
        assert printer.usb_vendor is not None and printer.usb_product is not None
        return device.usb(printer.usb_vendor, printer.usb_product, printer.timeout_s)
    if kind is PrinterTransport.SERIAL:
        assert printer.serial_port is not None
        return device.serial(printer.serial_port, printer.baudrate, printer.timeout_s)
    if kind is PrinterTransport.FILE:
        assert printer.path is not None
        return FileTransport(printer.path)
    if kind is PrinterTransport.CUPS:
        assert printer.cups_queue is not None
        return device.cups(printer.cups_queue)
    return VirtualTransport(virtual_root / printer.id, printer.paper_mm)
