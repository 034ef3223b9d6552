"""`bianmin devices` against a real server: a fake LED strip on loopback TCP, a fake caller keypad on a pty."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from queue_server.devices.fake import FakePtyDevice, FakeTcpDevice
from queue_server.devices.protocol import frame
from tests.queue_server.conftest import Api
from tests.queue_server.devices.bridge_support import eventually, hall_with_devices, running, settings
from tests.support.server import RunningServer


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the bridge is a client of the HTTP API and the websocket: the store is not what is tested


@pytest.fixture
def hall(start_hall: Callable[..., RunningServer], tls: ssl.SSLContext) -> Iterator[Api]:
    api = Api(start_hall(hall_with_devices()), tls)
    yield api
    api.close()


@pytest.fixture
def strip() -> Iterator[FakeTcpDevice]:
    device = FakeTcpDevice()
    yield device
    device.unplug()


@pytest.fixture
def caller(tmp_path: Path) -> Iterator[FakePtyDevice]:
    device = FakePtyDevice(tmp_path / "ttyCALLER")
    yield device
    device.unplug()


@pytest.fixture
def bridge(hall: Api, strip: FakeTcpDevice, caller: FakePtyDevice, tmp_path: Path) -> Iterator[Any]:
    tcp = {"type": "tcp", "host": "127.0.0.1", "port": strip.port}
    serial = {"type": "serial", "port": str(caller.path), "baudrate": 9600}
    with running(settings(hall.server, tmp_path, tcp, serial)) as bridge:
        yield bridge


def show_of(number: str, window: int = 1) -> Callable[[bytes], bool]:
    """A SHOW frame of `number` at `window` with the strip's default text, in GB18030, with its checksum."""
    expected = frame(f"SHOW|{window}|{number}|".encode("ascii") + f"请{number}号到{window}号窗口".encode("gb18030"))
    return lambda line: line + b"\r\n" == expected


def wall_devices(hall: Api) -> dict[str, str]:
    answer = hall.http.get("/wall", headers=hall.bearer(hall.manager))
    assert answer.status_code == 200, answer.text
    return {device["id"]: device["state"] for device in answer.json()["devices"]}


def test_a_call_at_the_console_shows_on_the_strip_in_gb18030(hall: Api, strip: FakeTcpDevice, bridge: Any) -> None:
    clerk = hall.open("liuxia", 1)
    strip.wait_for(lambda line: line.startswith(b"SHOW|1||"))  # idle: 1号窗口
    assert "1号窗口".encode("gb18030") in strip.shows()[0]
    hall.issue("jisheng")
    assert hall.ok(clerk, 1, "call-next")["ticket"]["number"] == "A001"
    strip.wait_for(show_of("A001"))
    hall.ok(clerk, 1, "recall")  # a recall shows the number again (the strip flashes it)
    eventually(lambda: len([s for s in strip.shows() if show_of("A001")(s)]) == 2, what="the recall on the strip")


def test_a_key_on_the_caller_calls_next_as_the_clerk_and_the_board_shows_it(
    hall: Api, strip: FakeTcpDevice, caller: FakePtyDevice, bridge: Any
) -> None:
    caller.wait_for(lambda line: line.startswith(b"PING"))  # the bridge has the port open
    caller.press("1")  # no clerk at window 1: refused, nothing changes
    caller.wait_for(lambda line: line.startswith(b"ACK|1|REFUSED|"))
    seq = hall.seq()
    hall.open("liuxia", 1)
    hall.issue("jisheng")
    caller.press("1")
    caller.wait_for(lambda line: line.startswith(b"ACK|1|OK|A001"))
    window = next(w for w in hall.board()["board"]["windows"] if w["number"] == 1)
    assert (window["current_number"], window["current_state"]) == ("A001", "called")
    strip.wait_for(show_of("A001"))
    caller.press("3")  # start
    caller.wait_for(lambda line: line.startswith(b"ACK|3|OK|A001"))
    caller.press("4")  # finish, as 即办件
    caller.wait_for(lambda line: line.startswith(b"ACK|4|OK|"))
    events = [e for e in hall.events(since=seq) if e["type"].startswith("ticket.")]
    assert [(e["type"], e["actor"], e["window"]) for e in events][-4:] == [
        ("ticket.issued", "device:kiosk-1", None), ("ticket.called", "liuxia", 1), ("ticket.started", "liuxia", 1),
        ("ticket.finished", "liuxia", 1),
    ]  # fmt: skip
    caller.press("1")
    caller.wait_for(lambda line: line.startswith(b"ACK|1|NONE|"))  # nobody waits
    logout = hall.http.post(f"{hall.server.url}/api/v1/auth/logout", headers=hall.bearer(hall.server.tokens["liuxia"]))
    assert logout.status_code == 204, logout.text
    hall.issue("jisheng")
    caller.press("1")  # the clerk logged out: the keypad has no clerk to act as
    caller.wait_for(lambda line: line.startswith(b"ACK|1|REFUSED|"))
    assert [e for e in hall.events(since=seq) if e["type"] == "ticket.called"][-1]["payload"]["number"] == "A001"


def test_unplug_shows_on_the_wall_and_replug_reconnects_with_the_current_number(
    hall: Api, strip: FakeTcpDevice, caller: FakePtyDevice, bridge: Any
) -> None:
    eventually(lambda: wall_devices(hall) == {"strip-1": "connected", "caller-1": "connected"}, what="connected")
    clerk = hall.open("liuxia", 1)
    hall.issue("jisheng")
    hall.issue("jisheng")
    hall.ok(clerk, 1, "call-next")
    strip.wait_for(show_of("A001"))
    strip.unplug()
    caller.unplug()
    eventually(lambda: wall_devices(hall) == {"strip-1": "disconnected", "caller-1": "disconnected"}, what="gone")
    hall.serve(clerk, 1)
    hall.ok(clerk, 1, "call-next")  # A002 is called while the strip is away
    strip.frames.clear()
    strip.plug()
    caller.plug()
    strip.wait_for(show_of("A002"))  # on reconnecting the strip gets the current number at once
    eventually(lambda: wall_devices(hall) == {"strip-1": "connected", "caller-1": "connected"}, what="back")
    caller.press("2")  # the keypad works again: recall A002
    caller.wait_for(lambda line: line.startswith(b"ACK|2|OK|A002"))


def test_hostile_bytes_from_a_caller_are_ignored_with_a_log_line(
    hall: Api, caller: FakePtyDevice, bridge: Any, caplog: pytest.LogCaptureFixture
) -> None:
    hall.open("liuxia", 1)
    hall.issue("jisheng")
    caller.wait_for(lambda line: line.startswith(b"PING"))
    seq = hall.seq()
    with caplog.at_level(logging.WARNING, logger="queue_server.devices"):
        caller.send(b"\x00\xff\xfe garbage without an end")
        caller.send(b"\r\n" + b"K" * 5000 + b"\r\n")  # a huge line
        caller.send(b"KEY|1*00\r\n")  # a wrong checksum
        caller.send(frame(b"KEY|\xb9\xfe"))  # not ASCII
        caller.send(frame(b"REBOOT|now"))  # an unknown command
        caller.send(frame(b"KEY|9"))  # a key not in the map
        caller.send(frame(b"PING"))  # a keypad that pings: harmless
        wanted = ("longer than 256 bytes", "wrong one", "outside printable ASCII", "unknown command", "key map")

        def logged() -> bool:  # each bad line has its own log line, the last one (the key map) included
            messages = "\n".join(r.getMessage() for r in caplog.records)
            return all(words in messages for words in wanted)

        eventually(logged, what="a log line for each bad line")
    assert hall.seq() == seq, "nothing changed"
    caller.press("1")  # and the keypad still works
    caller.wait_for(lambda line: line.startswith(b"ACK|1|OK|A001"))
