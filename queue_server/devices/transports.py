"""Connections to a device: TCP, or a serial port (RS232, or RS485 through a USB adapter) with pyserial.

Each only opens, reads, writes and closes; every wait has a timeout. A read of b"" means the device
went away (TCP: the peer closed; serial: the port vanished, e.g. the USB adapter was unplugged).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from queue_server.devices.settings import Serial, Tcp

READ_CHUNK = 1024


class DeviceGone(Exception):
    """The device cannot be reached or stopped answering."""


class Connection(Protocol):
    async def read(self) -> bytes: ...
    async def write(self, data: bytes) -> None: ...
    async def close(self) -> None: ...


class TcpConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout_s: float) -> None:
        self._reader, self._writer, self._timeout_s = reader, writer, timeout_s

    async def read(self) -> bytes:
        return await self._reader.read(READ_CHUNK)

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        async with asyncio.timeout(self._timeout_s):
            await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(self._timeout_s):
                await self._writer.wait_closed()


class SerialConnection:
    """A pyserial port read without blocking the loop: the loop watches its file descriptor."""

    def __init__(self, port: object, timeout_s: float) -> None:
        self._port = port
        self._timeout_s = timeout_s
        self._ready = asyncio.Event()
        self._fd: int = port.fileno()  # type: ignore[attr-defined]
        asyncio.get_running_loop().add_reader(self._fd, self._ready.set)

    async def read(self) -> bytes:
        import serial

        while True:
            await self._ready.wait()
            self._ready.clear()
            try:
                data: bytes = self._port.read(READ_CHUNK)  # type: ignore[attr-defined]
            except (serial.SerialException, OSError):
                return b""  # "readiness to read but returned no data": the port is gone
            if data:
                return data

    async def write(self, data: bytes) -> None:
        import serial

        try:
            await asyncio.to_thread(self._port.write, data)  # type: ignore[attr-defined]
        except (serial.SerialException, OSError) as error:
            raise DeviceGone(f"serial write failed: {error}") from error

    async def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self._fd)
        with contextlib.suppress(Exception):
            self._port.close()  # type: ignore[attr-defined]


async def open_connection(transport: Tcp | Serial, timeout_s: float) -> Connection:
    """Open the device's port; DeviceGone when it cannot be opened."""
    if isinstance(transport, Tcp):
        try:
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(transport.host, transport.port)
        except (OSError, TimeoutError) as error:
            raise DeviceGone(f"cannot connect to {transport.host}:{transport.port}: {error or 'timed out'}") from error
        return TcpConnection(reader, writer, timeout_s)
    import serial  # pyserial: pip install -e '.[devices]'

    try:
        port = serial.Serial(
            transport.port,
            baudrate=transport.baudrate,
            bytesize=transport.bytesize,
            parity=transport.parity,
            stopbits=transport.stopbits,
            timeout=0,  # reads never block: the loop waits for the descriptor
            write_timeout=timeout_s,
        )
    except (serial.SerialException, OSError, ValueError) as error:
        raise DeviceGone(f"cannot open {transport.port}: {error}") from error
    return SerialConnection(port, timeout_s)
