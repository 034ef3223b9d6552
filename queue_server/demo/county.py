"""`bianmin demo county`: a county center and its township halls on this machine, linked, with simulated traffic.

- The county's database: the PostgreSQL URL given (checked first: reachable, and holding no events of the demo's
  townships, which would conflict with their new logs), else a throwaway PostgreSQL cluster of the demo's own
  (the server binaries of /usr/lib/postgresql/*/bin, see `store/pg_cluster.py`), else SQLite, said so.
- Each township on SQLite, its own `bianmin serve` process on its own loopback port, with `[halls.link]` to the
  county and the link token `bianmin link add` makes, written to a file only this user can read.
- One traffic driver per township in this process (`simulation/driver.py`): the simulator's days played through
  the township's HTTP API. Every few seconds a line says how far the county's copy of each township is.
- A server of the demo that dies (a crash, a kill -9 to see the link resume) is said and started again on its
  port and database, up to RESTARTS times; then the demo stops with the end of its log.
- Ctrl-C (or SIGTERM, SIGHUP) stops the drivers, then the townships, the county and the cluster, and removes
  every file (unless `keep`). Nothing the demo started outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
from sqlalchemy.exc import OperationalError

from config.loader import ConfigError, load_config
from config.schema import Hall, HallConfig
from queue_server.demo.children import Child
from queue_server.demo.halls import COUNTY, TOWNSHIPS, Place, write_county, write_township
from queue_server.demo.seeding import ADMIN, MANAGER, halls_with_events, seed_county, seed_township
from queue_server.server import open_store
from queue_server.services import accounts
from queue_server.simulation.driver import HallDriver
from queue_server.store.pg_cluster import PgCluster, PgUnavailable

STATUS_S = 10.0
WATCH_S = 1.0  # how often the demo looks whether its servers are still running
RESTARTS = 3  # a server that dies more often than this stops the demo (it would only die again)


class DemoError(Exception):
    """Why the demo cannot start (said in one line; nothing is left running)."""


class Stop(BaseException):
    """A signal asked the demo to stop."""


@dataclass
class Settings:
    townships: int = 3
    speed: float = 60.0
    load: float = 0.7
    seed: int = 1
    db: str | None = None
    keep: bool = False


@dataclass
class Township:
    place: Place
    hall: Hall
    child: Child
    kiosk_token: str = ""
    driver: HallDriver | None = None


@dataclass
class CountyDemo:
    settings: Settings
    say: Callable[[str], None] = print
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bianmin-demo-")))
    cluster: PgCluster | None = None
    county: Child | None = None
    townships: list[Township] = field(default_factory=list)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    hashed: accounts.PasswordHash = field(init=False)
    admin_token: str = ""
    county_where: str = ""

    # -- the whole run ---------------------------------------------------------------------------

    def __post_init__(self) -> None:
        self.hashed = accounts.hash_password(self.password)  # one argon2 hash for every demo account

    def run(self) -> None:
        """Set up, start, play until stopped, and clean up whatever happened."""
        with _stopping_signals():
            try:
                self.start()
                self.banner()
                asyncio.run(self.play())
            except (KeyboardInterrupt, Stop):
                pass
            finally:
                with _signals_ignored():
                    self.stop()

    def start(self) -> None:
        s = self.settings
        places = list(TOWNSHIPS[: s.townships])
        county_db, where = self.county_database()
        self.county = Child("county 县政务中心", Path(), county_db, self.work / "county" / "server.log")
        tokens = {p.id: self.work / "townships" / p.id / "link.token" for p in places}
        township_files = [write_township(self.work, p, self.county.url, tokens[p.id]) for p in places]
        self.county.config = write_county(self.work, township_files, places)
        county_config = _load(self.county.config)
        self.seed_county(county_config, county_db, tokens)
        self.county_where = where
        self.county.start()
        for place, file in zip(places, township_files, strict=True):
            db = self.work / "townships" / place.id / "bianmin.db"
            config = _load(file)
            township = Township(place, config.hall(place.id), Child(f"township {place.id}", file, str(db),
                                                                    db.parent / "server.log"))  # fmt: skip
            township.kiosk_token = self.seed_township(config, township.hall, db)
            self.townships.append(township)
            township.child.start()
        self.admin_token = self.login(self.county.url, ADMIN)

    def stop(self) -> None:
        stopped = [t.child for t in self.townships] + ([self.county] if self.county else [])
        for child in stopped:  # the townships first: their shippers stop before the county goes
            child.stop()
        if self.cluster is not None:
            if self.settings.keep:
                self.cluster.stop()
            else:
                self.cluster.remove()
        if self.settings.keep:
            where = f" and {self.cluster.base}" if self.cluster is not None else ""
            self.say(f"已停止 Stopped. Files kept (--keep) in {self.work}{where}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
            self.say(f"已停止 Stopped; removed {self.work}")

    # -- databases and accounts ------------------------------------------------------------------

    def county_database(self) -> tuple[str, str]:
        """The county's database URL, and a phrase saying what it is."""
        given = self.settings.db
        if given is not None:
            kind = "PostgreSQL" if given.startswith("postgresql") else "SQLite"
            return given, f"{kind} (--db)"
        try:
            self.cluster = PgCluster()
            self.cluster.start()
            url = self.cluster.create_database("bianmin_demo")
        except PgUnavailable as missing:
            path = self.work / "county" / "bianmin.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.say(f"注意 Note: no PostgreSQL here ({missing}); the county runs on SQLite ({path}). A real county "
                     "center runs on PostgreSQL: give one with --db postgresql://USER@HOST/DB.")  # fmt: skip
            return str(path), "SQLite (no PostgreSQL found)"
        return url, f"PostgreSQL {self.cluster.bindir.parent.name} (a throwaway cluster in {self.cluster.base})"

    def seed_county(self, config: HallConfig, db: str, tokens: dict[str, Path]) -> None:
        """The county's administrator and one link token per township (as `bianmin link add`), into files."""
        try:
            store = open_store(config, db)
        except OperationalError as error:
            reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
            raise DemoError(f"cannot open the county's database (无法连接数据库): {reason}") from None
        try:
            held = halls_with_events(store, list(tokens))
            if held:
                raise DemoError(f"the county's database already holds events of {', '.join(held)} (an earlier demo?): "
                                "give an empty database, or no --db (the demo starts its own)")  # fmt: skip
            seed_county(store, self.hashed, tokens)
        finally:
            store.close()

    def seed_township(self, config: HallConfig, hall: Hall, db: Path) -> str:
        """The township's clerks and manager; its kiosk's token."""
        store = open_store(config, db)
        try:
            return seed_township(store, hall, self.hashed)
        finally:
            store.close()

    def login(self, url: str, username: str) -> str:
        answer = httpx.post(f"{url}/api/v1/auth/login", json={"username": username, "password": self.password},
                            timeout=30, trust_env=False)  # fmt: skip
        if answer.status_code != 200:
            raise DemoError(f"the demo's {username} cannot log in at {url}: {answer.status_code} {answer.text[:200]}")
        return str(answer.json()["access_token"])

    # -- what the user sees ----------------------------------------------------------------------

    def banner(self) -> None:
        assert self.county is not None
        s, county = self.settings, self.county.url
        lines = [
            f"便民县级联动演示 Bianmin county demo: a county center and {len(self.townships)} township halls on this "
            f"machine, simulated traffic at {s.speed:g}× speed",
            f"  县政务中心 county {COUNTY.name_zh} {COUNTY.name_en} ({COUNTY.id}): {county}  on {self.county_where}",
            f"    县级看板 county page:           {county}/county/{COUNTY.id}",
            f"    联动状态 link status (JSON):    {county}/api/v1/link/halls",
            f"      curl -s -H 'Authorization: Bearer {self.admin_token}' {county}/api/v1/link/halls",
        ]
        for t in self.townships:
            lines += [
                f"  乡镇 township {t.place.name_zh} ({t.place.id}): {t.child.url}  on SQLite, ships to the county",
                f"    管理墙 manager wall:            {t.child.url}/manager/{t.place.id}",
                f"    大厅屏 hall board:              {t.child.url}/board/{t.place.id}",
            ]
        lines += [
            f"  演示账号 accounts: county `{ADMIN}`, township managers `{MANAGER}`, clerks by window; "
            f"password 密码 {self.password}",
            f"  files 文件: {self.work} (removed at exit; --keep keeps them)",
            "按 Ctrl-C 停止 Press Ctrl-C to stop.",
        ]
        (self.work / "accounts.txt").write_text(f"password {self.password}\n", encoding="utf-8")
        (self.work / "accounts.txt").chmod(0o600)
        for line in lines:
            self.say(line)

    async def play(self) -> None:
        s = self.settings
        for n, t in enumerate(self.townships):
            seed = s.seed + 1000 * n  # each township its own traffic
            t.driver = HallDriver(t.child.url, t.hall, t.kiosk_token, self.password, s.speed, seed, s.load)
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, stopped.set)
        drivers = [asyncio.create_task(t.driver.run(), name=f"driver-{t.place.id}") for t in self.townships if t.driver]
        status = asyncio.create_task(self.report())
        watch = asyncio.create_task(self.watch())
        waiter = asyncio.create_task(stopped.wait())
        await asyncio.wait([waiter, watch, *drivers], return_when=asyncio.FIRST_COMPLETED)
        for task in (*drivers, status, watch, waiter):
            task.cancel()
        watched = watch.done() and not watch.cancelled() and watch.exception() is None
        given_up = watch.result() if watched else None  # a server kept dying: said once everything is stopped
        ended = await asyncio.gather(*drivers, status, watch, waiter, return_exceptions=True)
        for task, outcome in zip(drivers, ended, strict=False):
            if isinstance(outcome, Exception):
                self.say(f"  {task.get_name()} stopped: {type(outcome).__name__} {outcome}")
        for t in self.townships:
            if t.driver is not None and t.driver.errors:
                self.say(f"  {t.place.id}: {sum(t.driver.counts.values())} requests; first refusals: "
                         + "; ".join(t.driver.errors[:3]))  # fmt: skip
        if given_up is not None:
            raise DemoError(given_up)

    async def watch(self) -> str:
        """Every WATCH_S: a server of the demo that died is said, with its exit and its log, and started again
        on its own port and database (its township's traffic and link resume); after RESTARTS, the demo stops."""
        children = [t.child for t in self.townships] + ([self.county] if self.county else [])
        restarts = dict.fromkeys((c.name for c in children), 0)
        while True:
            await asyncio.sleep(WATCH_S)
            for child in children:
                code = child.exit_code()
                if code is None:
                    continue
                how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
                self.say(f"服务器意外退出 {child.name} stopped unexpectedly ({how}); its log: {child.log}")
                if restarts[child.name] >= RESTARTS:
                    tail = child.tail(800)
                    return f"{child.name} stopped {RESTARTS + 1} times (演示停止). The end of its log:\n{tail}"
                restarts[child.name] += 1
                try:
                    await asyncio.to_thread(child.start)
                except RuntimeError as error:
                    return f"{child.name} could not be started again (演示停止): {error}"
                self.say(f"  已重新启动 {child.name} started again at {child.url} "
                         f"({restarts[child.name]} of {RESTARTS} restarts)")  # fmt: skip

    async def report(self) -> None:
        """Every STATUS_S: per township, the events the county holds of the ones the township has, and traffic."""
        assert self.county is not None
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            while True:
                await asyncio.sleep(STATUS_S)
                parts = []
                try:
                    held = (await http.get(f"{self.county.url}/api/v1/link/halls", headers=headers)).json()
                    last = {row["hall"]: row["last_seq"] for row in held}
                    for t in self.townships:
                        board = (await http.get(f"{t.child.url}/api/v1/halls/{t.place.id}/board")).json()
                        issued = t.driver.counts["issued"] if t.driver else 0
                        parts.append(f"{t.place.id} {last.get(t.place.id, 0)}/{board['seq']} ({issued} tickets)")
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
                    parts = [f"status not available: {type(error).__name__}"]
                self.say("联动 link, events the county holds / the township has: " + " · ".join(parts))


def _load(path: Path) -> HallConfig:
    try:
        return load_config(path)
    except ConfigError as error:  # the demo wrote it: a bug, said with every problem
        raise DemoError(f"the demo's configuration {path} is invalid: " + "; ".join(map(str, error.problems))) from None


@contextlib.contextmanager
def _stopping_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the demo as Ctrl-C does (also while it starts)."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise Stop

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """While the demo stops its children (each has a time limit), another Ctrl-C would only leave orphans."""
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
