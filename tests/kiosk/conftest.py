"""Fixtures of the kiosk tests: the demo hall as the kiosk sees it, fakes for the view-model, real servers."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from config.schema import HallConfig, KioskDevice, PrinterDevice, PrinterTransport, ServiceItem
from kiosk.client import Issued, KioskSetup
from queue_server.protocol import IssuedTicket, IssueRequest
from queue_server.server import open_store
from queue_server.services import accounts
from tests.printer.fake_printer import FakePrinter
from tests.support.clock import FakeClock
from tests.support.server import RunningServer, demo_config, start_server

SERVER = "http://127.0.0.1:8000"
NOW = dt.datetime(2026, 3, 16, 1, 5, tzinfo=dt.UTC)  # Monday 09:05 in the hall


def demo_setup(public_url: str | None = None, printer: bool = True) -> KioskSetup:
    hall = demo_config().hall("qingshan")
    if public_url is not None:
        hall = hall.model_copy(update={"public_url": public_url})
    device = next(d for d in hall.devices if isinstance(d, KioskDevice))
    printer_device = next(d for d in hall.devices if isinstance(d, PrinterDevice)) if printer else None
    return KioskSetup(server=SERVER, hall=hall, device=device, printer=printer_device)


def issued(
    number: str = "A001", category: str = "jisheng", item_id: str | None = None, **changes: object
) -> IssuedTicket:
    hall = demo_config().hall("qingshan")
    cat = hall.category(category)
    item = hall.item(item_id) if item_id else None
    values: dict[str, object] = {
        "id": 1, "number": number, "category": category, "category_name_zh": cat.name_zh,
        "category_name_en": cat.name_en, "item_id": item_id, "item_name_zh": item.name_zh if item else None,
        "item_name_en": item.name_en if item else None, "priority": "ordinary", "state": "waiting", "ahead": 2,
        "estimated_wait_s": 840, "windows": [1, 10], "issued_at": NOW, "track_token": "T" * 32,
        "track_path": "/t/" + "T" * 32,
    }  # fmt: skip
    values.update(changes)
    return IssuedTicket.model_validate(values)


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeIssuer:
    """Stands in for the client: records every (request, key), answers from a script of tickets and errors."""

    script: list[IssuedTicket | Exception] = field(default_factory=list)
    calls: list[tuple[IssueRequest, str]] = field(default_factory=list)
    numbers: int = 0

    async def __call__(self, request: IssueRequest, key: str) -> Issued:
        self.calls.append((request, key))
        answer = self.script.pop(0) if self.script else None
        if isinstance(answer, Exception):
            raise answer
        if answer is None:
            self.numbers += 1
            code = request.category or demo_config().hall("qingshan").item(request.item_id or "").category
            answer = issued(f"A{self.numbers:03d}", category=code, item_id=request.item_id,
                            priority=request.priority)  # fmt: skip
        return Issued(answer, replayed=False, attempts=1)


@dataclass
class FakePrinting:
    """The view-model's side of the printer: records what was asked and hands out handles."""

    receipts: list[tuple[IssuedTicket, str]] = field(default_factory=list)
    notices: list[ServiceItem] = field(default_factory=list)
    handles: int = 0

    def print_receipt(self, ticket: IssuedTicket, track_url: str) -> int:
        self.receipts.append((ticket, track_url))
        self.handles += 1
        return self.handles

    def print_notice(self, item: ServiceItem) -> int:
        self.notices.append(item)
        self.handles += 1
        return self.handles


# -- real servers -----------------------------------------------------------------------------------


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not a real password"))


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kiosk-template") / "queue.db"
    open_store(demo_config(), path).close()
    return path


def with_printer(config: HallConfig, port: int) -> HallConfig:
    """The demo hall whose printer-1 is a network printer on 127.0.0.1:port (a FakePrinter)."""
    hall = config.hall("qingshan")
    devices = [
        d.model_copy(
            update={"transport": PrinterTransport.NETWORK, "host": "127.0.0.1", "port": port, "timeout_s": 1.0}
        )
        if isinstance(d, PrinterDevice)
        else d
        for d in hall.devices
    ]
    return config.model_copy(update={"halls": [hall.model_copy(update={"devices": devices})]})


def with_cap(config: HallConfig, category: str, cap: int) -> HallConfig:
    hall = config.hall("qingshan")
    categories = [c.model_copy(update={"daily_cap": cap}) if c.code == category else c for c in hall.categories]
    return config.model_copy(update={"halls": [hall.model_copy(update={"categories": categories})]})


@pytest.fixture
def start_hall(
    tmp_path: Path, migrated_db: Path, cheap_password_hashing: None
) -> Iterator[Callable[..., RunningServer]]:
    """Start a real server (on a copy of a migrated database) with the test's config and clock."""
    running: list[RunningServer] = []

    def start(config: HallConfig | None = None, clock: FakeClock | None = None) -> RunningServer:
        db = tmp_path / f"queue-{len(running)}.db"
        shutil.copyfile(migrated_db, db)
        server = start_server(db, clock or FakeClock(), config or demo_config())
        running.append(server)
        return server

    yield start
    for server in running:
        if server._thread.is_alive():  # a test may have stopped it already (the server-down test)
            server.stop()


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter().start()
    yield printer
    printer.stop()
