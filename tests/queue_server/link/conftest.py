"""A township hall on SQLite shipping to a county on PostgreSQL: both real servers on loopback."""

from __future__ import annotations

import shutil
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from config.loader import default_config_path, load_config
from config.schema import HallConfig, Link
from queue_server.cli import main
from queue_server.link import receiver
from queue_server.link.receiver import FIELDS
from queue_server.link.tables import link_peers, link_state
from queue_server.store.tables import events
from queue_server.store.writer import to_us
from tests.queue_server.conftest import Api, PgDatabases
from tests.support.clock import FakeClock
from tests.support.server import HALL, RunningServer, free_port, start_server

COUNTY_HALL = "changqing"  # the county center's own hall
OTHER_TOWNSHIP = "baiyun"
WAIT_S = 30.0


def wait_until(what: Callable[[], bool], message: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {message}")
        time.sleep(0.02)


def log_rows(server: RunningServer, hall: str = HALL) -> list[tuple[Any, ...]]:
    """The hall's events in the server's database, every column, in seq order."""
    columns = [events.c.seq, *(events.c[name] for name in FIELDS)]
    with server.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*columns).where(events.c.hall == hall).order_by(events.c.seq))]


def peer(server: RunningServer, hall: str = HALL) -> Any:
    with server.store.engine.connect() as conn:
        return conn.execute(select(link_peers).where(link_peers.c.hall == hall)).first()


def acked(server: RunningServer, hall: str = HALL) -> int:
    with server.store.engine.connect() as conn:
        return int(conn.execute(select(link_state.c.acked_seq).where(link_state.c.hall == hall)).scalar() or 0)


def county_config(demo: HallConfig) -> HallConfig:
    """A county center serving its own hall, with qingshan (and baiyun) as townships reporting to it."""
    qingshan = demo.hall(HALL)
    own = qingshan.model_copy(update={"id": COUNTY_HALL, "name_zh": "长青县政务服务中心", "name_en": "Changqing County",
                                      "link": None})  # fmt: skip
    other = qingshan.model_copy(update={"id": OTHER_TOWNSHIP, "name_zh": "白云镇便民服务中心", "link": None})
    return HallConfig(halls=[own], townships=[qingshan, other], calendar=demo.calendar)


def township_config(demo: HallConfig, url: str, token_file: Path, **link: Any) -> HallConfig:
    settings = {"interval_s": 0.05, "retry_min_s": 0.05, "retry_max_s": 0.4, "conflict_retry_s": 0.5, **link}
    hall = demo.hall(HALL).model_copy(update={"link": Link(url=url, token_file=str(token_file), **settings)})
    return HallConfig(halls=[hall], calendar=demo.calendar)


@dataclass
class Linkage:
    """A county on PostgreSQL and one township on SQLite, on one fake clock; servers stopped at the end."""

    demo: HallConfig
    clock: FakeClock
    tls: ssl.SSLContext
    tmp: Path
    county_db: str
    township_db: Path
    county_port: int = field(default_factory=free_port)
    county: RunningServer | None = None
    township: RunningServer | None = None
    running: list[RunningServer] = field(default_factory=list)
    apis: list[Api] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.county_port}"

    @property
    def token_file(self) -> Path:
        return self.tmp / "link.token"

    def start_county(self, config: HallConfig | None = None) -> RunningServer:
        config = config or county_config(self.demo)
        self.county = start_server(self.county_db, self.clock, config, port=self.county_port)
        self.running.append(self.county)
        return self.county

    def add_token(self, hall: str = HALL) -> str:
        assert self.county is not None
        return self.county.store.run_global_sync(lambda conn, now: receiver.add_token(conn, to_us(now), hall))

    def start_township(self, url: str | None = None, **link: Any) -> RunningServer:
        """The township, shipping to the county (or to `url`: a proxy in front of it) with these link settings."""
        config = township_config(self.demo, url or self.url, self.token_file, **link)
        self.township = start_server(self.township_db, self.clock, config)
        self.running.append(self.township)
        return self.township

    def township_files(self, **link: Any) -> Path:
        """The township's hall as files (the demo hall with a [halls.link]): link down checks and reloads them."""
        folder = self.tmp / "township"
        if not folder.exists():
            shutil.copytree(default_config_path().parent, folder)
        main = folder / "hall.toml"
        settings = {"url": self.url, "token_file": str(self.token_file), "interval_s": 0.05, "retry_min_s": 0.05,
                    "retry_max_s": 0.4, "conflict_retry_s": 0.5, "documents_interval_s": 0.1, **link}  # fmt: skip
        text = (default_config_path().read_text(encoding="utf-8")).replace(
            "\n[halls.queue]", "\n[halls.link]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in settings.items())
            + "\n[halls.queue]", 1,
        )  # fmt: skip
        main.write_text(text, encoding="utf-8")
        return main

    def start_township_from_files(self, **link: Any) -> RunningServer:
        """The township started as `bianmin serve --config hall.toml` is: its configuration read from its files."""
        main = self.township_files(**link)
        self.township = start_server(self.township_db, self.clock, load_config(main),
                                     config_source=partial(load_config, main))  # fmt: skip
        self.running.append(self.township)
        return self.township

    def county_files(self, items: str, calendar: str | None = None) -> Path:
        """The county's configuration as files: its hall (the demo's, with a tax category the township has not),
        `[county] catalog` = the item file given, and the calendar given (else the bundled one)."""
        folder = self.tmp / "county"
        (folder / "catalogue").mkdir(parents=True, exist_ok=True)
        if not (folder / "items").exists():
            shutil.copytree(default_config_path().parent / "items", folder / "items")
        (folder / "catalogue" / "county.toml").write_text(items, encoding="utf-8")
        head = 'calendar = ["calendar/*.toml"]\n' if calendar is not None else ""
        if calendar is not None:
            (folder / "calendar").mkdir(exist_ok=True)
            (folder / "calendar" / "2026.toml").write_text(calendar, encoding="utf-8")
        hall = default_config_path().read_text(encoding="utf-8").replace('id = "qingshan"', f'id = "{COUNTY_HALL}"', 1)
        main = folder / "county.toml"
        main.write_text(head + COUNTY + hall + TAX, encoding="utf-8")
        return main

    def publish(self, items: str, calendar: str | None = None, *more: str) -> str:
        """`bianmin link publish` at the county; its output."""
        args = ["link", "publish", "--config", str(self.county_files(items, calendar)), "--db", self.county_db, *more]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return result.output

    def stop(self, server: RunningServer) -> None:
        server.stop()
        self.running.remove(server)

    def api(self, server: RunningServer, hall: str = HALL) -> Api:
        api = Api(server, self.tls, hall)
        api._keys = 10_000 * len(self.apis)  # Idempotency-Keys of their own: a restarted township is the same database
        self.apis.append(api)
        return api

    def caught_up(self, timeout: float = WAIT_S) -> None:
        """Wait until the county holds the township's whole log and the township knows it."""
        assert self.county is not None and self.township is not None
        county, township = self.county, self.township

        def done() -> bool:
            mine = log_rows(township)
            return bool(mine) and acked(township) == mine[-1][0] and log_rows(county)[-1:] == mine[-1:]

        wait_until(done, "the county did not catch up with the township", timeout)


COUNTY = """
[county]
id = "changqing"
name_zh = "长青县"
name_en = "Changqing County"
catalog = ["catalogue/*.toml"]

"""
TAX = """
[[halls.categories]]
code = "shuiwu"
prefix = "T"
name_zh = "税务服务"
name_en = "Taxes"

[[halls.windows]]
number = 30
name_zh = "税务窗口"
name_en = "Taxes"
categories = ["shuiwu"]
"""


def _toml(value: object) -> str:
    return str(value) if isinstance(value, int | float) else f'"{value}"'


@pytest.fixture
def linkage(
    pg_databases: PgDatabases,
    migrated_db: Path,
    tmp_path: Path,
    clock: FakeClock,
    tls: ssl.SSLContext,
    hall_config: HallConfig,
    cheap_password_hashing: None,
) -> Iterator[Linkage]:
    township_db = tmp_path / "township.db"
    shutil.copyfile(migrated_db, township_db)
    county_db = pg_databases.new()
    made = Linkage(hall_config, clock, tls, tmp_path, county_db, township_db)
    yield made
    for client in made.apis:
        client.close()
    stopping = [threading.Thread(target=server.stop) for server in made.running]
    for thread in stopping:
        thread.start()
    pg_databases.drop(county_db, stopping)
