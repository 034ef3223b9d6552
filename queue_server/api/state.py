"""What the running server holds: the configuration, the store, the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from config.schema import HallConfig
from queue_server.broker import Broker
from queue_server.domain.numbering import service_day
from queue_server.hall_view import HallViews
from queue_server.runtime import HallRuntime
from queue_server.services.accounts import DeviceCache, StaffCache
from queue_server.store.writer import Store
from queue_server.topics import Topic, WindowCategories, topic_of_text, window_categories

if TYPE_CHECKING:
    from queue_server.link.downlink import Downlink


class ConfigSource(Protocol):
    """Reads the server's configuration file again; `documents`: other files in place of the county's documents."""

    def __call__(self, documents: Mapping[str, Path] | None = None) -> HallConfig: ...


@dataclass
class ServerState:
    config: HallConfig
    store: Store
    broker: Broker = field(default_factory=Broker)
    devices: DeviceCache = field(default_factory=DeviceCache)
    staff: StaffCache = field(default_factory=StaffCache)
    #: Reads the configuration again (from the file the server started with): an administrator's reload.
    config_source: ConfigSource | None = None
    #: Link down at a township: the county's documents, applied at the next day start (None: no hall has a link).
    downlink: Downlink | None = None
    #: What each kiosk last reported of its printer's spooler, and when (monotonic): (hall, device) -> (report, at).
    device_reports: dict[tuple[str, str], tuple[Any, float]] = field(default_factory=dict)
    #: What `bianmin devices` last reported of each LED strip and caller's link: (hall, device) -> (report, at).
    device_links: dict[tuple[str, str], tuple[Any, float]] = field(default_factory=dict)
    views: HallViews = field(init=False)
    _windows: dict[str, tuple[HallConfig, WindowCategories]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.views = HallViews(self.config)

    def topic_of(self, hall: str) -> Callable[[str], Topic]:
        """The topic (topics.py) of a serialized message of `hall`, under the configuration served now."""
        cached = self._windows.get(hall)
        if cached is None or cached[0] is not self.config:
            cached = self._windows[hall] = (self.config, window_categories(self.config.hall(hall)))
        windows = cached[1]
        return lambda text: topic_of_text(text, windows)

    async def reload_config(self, *, announce: bool) -> HallConfig:
        """Read the configuration file again and serve it; a file that fails validation changes nothing.

        Raises ConfigError with every problem. `announce`: the other processes reload theirs too.
        """
        if self.config_source is None:
            raise RuntimeError("this server has no configuration file to reload")
        new = await asyncio.to_thread(self.config_source)
        await self.serve_config(new, announce=announce)
        return new

    async def serve_config(self, new: HallConfig, *, announce: bool) -> None:
        """Serve a configuration loaded and validated by the caller, in this process (and the others: announce)."""
        self.views.replace_config(new)
        self.config = new
        await asyncio.to_thread(self.store.replace_config, new, announce=announce)

    async def view(self, hall: str) -> HallRuntime:
        """The hall's read side, on its current service day (the first read of a day lets the writer roll it)."""
        view = self.views.get(hall)
        if view is None or view.day != service_day(self.store.clock(), ZoneInfo(view.hall.timezone)):
            await self.store.catch_up_hall(hall)  # its delta is applied before this returns
            view = self.views.get(hall)
            assert view is not None, "the store has no publisher: is the app's lifespan running?"
        return view

    async def fresh_view(self, hall: str, seq: int) -> HallRuntime:
        """The read side at `seq` or later, if the hall's log has it (a client that saw it through another process)."""
        view = await self.view(hall)
        if view.last_seq < seq:
            await self.store.catch_up_hall(hall)
            view = await self.view(hall)
        return view
