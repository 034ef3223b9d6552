"""Transports: chosen from the configuration; network status over DLE EOT; clear errors."""

from __future__ import annotations

import sys
import time

import pytest

from config.schema import PrinterDevice
from printer.status import DeviceStatus, PrinterState, StatusReplyError, decode
from printer.transports import FileTransport, NetworkTransport, TransportError, VirtualTransport, transport_for
from printer.transports.device import EscposDeviceTransport
from tests.printer.fake_printer import FakePrinter


def device(**values: object) -> PrinterDevice:
    return PrinterDevice.model_validate({"kind": "printer", "id": "p1", "name": "取号机打印机", **values})


def test_transport_is_chosen_from_the_configuration(tmp_path) -> None:
    network = transport_for(device(transport="network", host="127.0.0.1", port=9101, timeout_s=2))
    assert isinstance(network, NetworkTransport) and network.port == 9101 and network.timeout_s == 2
    assert network.status_timeout_s == 1.0
    assert isinstance(transport_for(device(transport="file", path=str(tmp_path / "lp0"))), FileTransport)
    virtual = transport_for(device(), tmp_path)
    assert isinstance(virtual, VirtualTransport) and virtual.folder == tmp_path / "p1"
    usb = transport_for(device(transport="usb", usb_vendor=0x0483, usb_product=0x5743))
    assert isinstance(usb, EscposDeviceTransport) and usb.description == "USB printer 0483:5743"
    assert isinstance(transport_for(device(transport="serial", serial_port="/dev/ttyUSB0")), EscposDeviceTransport)
    assert isinstance(transport_for(device(transport="cups", cups_queue="xp80")), EscposDeviceTransport)


@pytest.mark.parametrize(
    ("kind", "values", "package"),
    [
        ("usb", {"usb_vendor": 1, "usb_product": 2}, "pyusb"),
        ("serial", {"serial_port": "/dev/ttyS99"}, "pyserial"),
        ("cups", {"cups_queue": "xp80"}, "pycups"),
    ],
)
def test_missing_driver_package_is_a_clear_transport_error(
    kind: str, values: dict[str, object], package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = {"pyusb": "usb", "pyserial": "serial", "pycups": "cups"}[package]
    for name in [m for m in sys.modules if m == module or m.startswith(f"{module}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # as where the package is not installed: import fails
    with pytest.raises(TransportError, match=f"pip install {package}"):
        transport_for(device(transport=kind, **values)).open()


def test_network_status_round_trip(fake_printer: FakePrinter) -> None:
    transport = NetworkTransport("127.0.0.1", fake_printer.port, 1.0, 0.5)
    with transport:
        assert transport.status() == DeviceStatus()
        fake_printer.paper_near_end()
        assert transport.status().state is PrinterState.PAPER_NEAR_END
        fake_printer.paper_out()
        assert transport.status().state is PrinterState.PAPER_OUT
        fake_printer.cover_open()
        assert transport.status().state is PrinterState.COVER_OPEN


def test_network_connect_to_a_closed_port_fails_fast() -> None:
    printer = FakePrinter().start()
    printer.stop()
    started = time.monotonic()
    with pytest.raises(TransportError, match="cannot connect"):
        NetworkTransport("127.0.0.1", printer.port, 1.0).open()
    assert time.monotonic() - started < 1


def test_silent_printer_status_times_out_quickly() -> None:
    printer = FakePrinter()
    printer.silent = True
    printer.start()
    try:
        transport = NetworkTransport("127.0.0.1", printer.port, 1.0, 0.2)
        with transport:
            started = time.monotonic()
            with pytest.raises(StatusReplyError):
                transport.status()
            assert time.monotonic() - started < 1
    finally:
        printer.stop()


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "state"),
    [
        (0x12, 0x12, 0x12, PrinterState.ONLINE),
        (0x12, 0x12, 0x1E, PrinterState.PAPER_NEAR_END),
        (0x1A, 0x32, 0x72, PrinterState.PAPER_OUT),
        (0x1A, 0x16, 0x12, PrinterState.COVER_OPEN),
        (0x1A, 0x52, 0x12, PrinterState.OFFLINE),
        (0x1A, 0x12, 0x12, PrinterState.OFFLINE),
    ],
)
def test_status_bytes_decode(printer: int, cause: int, paper: int, state: PrinterState) -> None:
    assert decode(printer, cause, paper).state is state


def test_garbage_is_not_a_status() -> None:
    with pytest.raises(StatusReplyError):
        decode(0x41, 0x12, 0x12)


def test_states_that_allow_printing() -> None:
    printable = {state for state in PrinterState if state.can_print}
    assert printable == {PrinterState.ONLINE, PrinterState.PAPER_NEAR_END, PrinterState.UNKNOWN}
    assert all(state.label_zh for state in PrinterState)


def test_confirm_none_makes_a_printer_that_is_never_asked_for_status(tmp_path) -> None:
    assert transport_for(device(transport="network", host="127.0.0.1")).has_status
    assert not transport_for(device(transport="network", host="127.0.0.1", confirm="none")).has_status
    assert not transport_for(device(confirm="none"), tmp_path).has_status
    for bad in ({"confirm": "sometimes"}, {"receipt_layout": "tiny"}):
        with pytest.raises(ValueError, match=r"confirm|receipt_layout"):
            device(**bad)
