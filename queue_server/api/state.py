"""What the running server holds: the configuration, the store, the broker."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.schema import HallConfig
from queue_server.broker import Broker
from queue_server.services.accounts import DeviceCache, StaffCache
from queue_server.store.writer import Store


@dataclass
class ServerState:
    config: HallConfig
    store: Store
    broker: Broker = field(default_factory=Broker)
    devices: DeviceCache = field(default_factory=DeviceCache)
    staff: StaffCache = field(default_factory=StaffCache)
