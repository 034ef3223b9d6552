"""The township's side of link down: fetch the county's documents, check them, stage them, apply them at day start.

Everything from the county is handled as hostile input: answers are size-limited and validated, a body must have
the digest the index gave, and a version is checked with the hall's own configuration exactly as
`bianmin config check` does (the loader, with the fetched file in the place of the running one). A version that
fails is refused: never served, shown on the manager's wall, logged once and told to the county (in the next
batch or heartbeat of link up). A good one is staged and served from the next day start: the first request of
a new service day, or the tick that looks every few seconds (a hall that runs overnight), or a restart on a
later day. Nothing is changed on any error.

Files, in the link's documents folder (`[halls.link] documents_dir`): `qingshan-catalogue.toml` and
`calendar.toml` are what the configuration runs (the loader reads them); `qingshan-catalogue-v12.toml` is a
version fetched and staged (moved into place when applied) or refused (kept for the administrator to read).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select

from config import documents
from config.documents import Kind
from config.loader import ConfigError
from config.schema import HallConfig, Link
from queue_server.domain.numbering import service_day
from queue_server.link.shipper import LinkError, backoff_s, make_client, read_token
from queue_server.link.tables import link_received
from queue_server.link.wire import DocumentIndex, DocumentInfo, DocumentReport
from queue_server.store.writer import to_us

if TYPE_CHECKING:
    from queue_server.api.state import ServerState

log = logging.getLogger(__name__)

DAY_TICK_S = 1.0  # how often a staged version looks whether a new service day has begun (cheap: two dates)
MAX_INDEX = 64 * 1024  # bytes of the county's index answer
MAX_PROBLEMS = 3_000  # characters of a refusal kept and told to the county


@dataclass(frozen=True)
class Received:
    """A version fetched and checked: staged (from the service day `day`, applied on a later one) or refused."""

    hall: str
    kind: Kind
    state: str  # staged or refused
    version: int
    sha256: str
    day: dt.date | None = None
    error: str | None = None

    def row(self, now_us: int) -> dict[str, object]:
        return {"hall": self.hall, "kind": self.kind, "state": self.state, "version": self.version,
                "sha256": self.sha256, "day": self.day, "error": self.error, "at": now_us}  # fmt: skip


def received_rows(conn: Connection) -> list[Received]:
    rows = conn.execute(select(link_received)).all()
    return [Received(r.hall, r.kind, r.state, r.version, r.sha256, r.day, r.error) for r in rows]


def save_received(conn: Connection, now_us: int, received: Received, *, drop_older_refusals: bool = False) -> None:
    """Record a version staged or refused (replacing the hall's earlier one of that kind and state)."""
    key = (link_received.c.hall == received.hall) & (link_received.c.kind == received.kind)
    conn.execute(delete(link_received).where(key, link_received.c.state == received.state))
    if drop_older_refusals:  # a newer good version makes an older refusal history
        conn.execute(delete(link_received).where(key, link_received.c.state == "refused",
                                                 link_received.c.version < received.version))  # fmt: skip
    conn.execute(insert(link_received).values(**received.row(now_us)))


def drop_staged(conn: Connection, hall: str, kind: str) -> None:
    conn.execute(delete(link_received).where(link_received.c.hall == hall, link_received.c.kind == kind,
                                             link_received.c.state == "staged"))  # fmt: skip


@dataclass
class Downlink:
    """The county's documents of every hall with a link, in one server process."""

    state: ServerState
    staged: dict[tuple[str, Kind], Received] = field(default_factory=dict)
    refused: dict[tuple[str, Kind], Received] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # per hall: the last fetch that failed
    pokes: dict[str, asyncio.Event] = field(default_factory=dict)  # per hall: tell the county now (link up)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    # -- what the hall has ----------------------------------------------------------------------------------------

    def kinds(self, hall: str) -> tuple[Kind, ...]:
        """A hall fetches its catalogue; the first hall with a link also the calendar (the configuration's)."""
        linked = [h.id for h in self.state.config.halls if h.link is not None]
        return documents.KINDS if linked and linked[0] == hall else ("catalogue",)

    def report(self, hall: str) -> list[DocumentReport]:
        """The county's documents here: the version each kind runs, the one staged, the one refused."""
        found = []
        for kind in documents.KINDS:
            owner = self._owner(kind, hall)
            running = self.state.config.document(kind, hall)
            staged, refused = self.staged.get((owner, kind)), self.refused.get((owner, kind))
            found.append(DocumentReport(
                kind=kind,
                running=running.version if running else None,
                running_sha256=running.sha256 if running else None,
                staged=staged.version if staged else None,
                staged_on=staged.day if staged else None,
                refused=refused.version if refused else None,
                refusal=refused.error if refused else None,
                error=self.errors.get(owner),
            ))  # fmt: skip
        return found

    def _owner(self, kind: Kind, hall: str) -> str:
        """The hall whose link fetches this kind for `hall` (the calendar: the first hall with a link)."""
        if kind == "catalogue":
            return hall
        linked = [h.id for h in self.state.config.halls if h.link is not None]
        return linked[0] if linked else hall

    def _changed(self, hall: str) -> None:
        for owner in {hall, *(h.id for h in self.state.config.halls if h.link is not None)}:
            self.pokes.setdefault(owner, asyncio.Event()).set()

    # -- starting ------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read what was staged or refused, apply what a new day makes due (before the first request), and start
        a fetcher per hall with a link and the day tick."""
        for received in await self.state.store.read(received_rows):
            (self.staged if received.state == "staged" else self.refused)[(received.hall, received.kind)] = received
        await self.apply_due()
        for hall in self.state.config.halls:
            if hall.link is not None:
                self.pokes.setdefault(hall.id, asyncio.Event())
                self.tasks.append(asyncio.create_task(Fetcher(self, hall.id).run(), name=f"bianmin-downlink-{hall.id}"))
        self.tasks.append(asyncio.create_task(self._tick(), name="bianmin-downlink-day"))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(DAY_TICK_S)
            if self.staged:
                try:
                    await self.apply_due()
                except Exception:  # the database may be away: the next tick (or request) tries again
                    log.warning("applying the county's documents failed", exc_info=True)

    # -- checking a fetched version -----------------------------------------------------------------------------

    def source(self, candidates: Mapping[str, Path] | None = None) -> HallConfig:
        assert self.state.config_source is not None
        return self.state.config_source(documents=candidates)

    async def check(self, hall: str, kind: Kind, info: DocumentInfo, path: Path) -> str | None:
        """The problems of the configuration with this version in place of the running one (None: it passes)."""
        name = documents.file_name(kind, hall)
        try:
            config = await asyncio.to_thread(self.source, {name: path})
        except ConfigError as error:
            return str(error)
        used = config.document(kind, hall)
        if used is None or used.version != info.version:
            said = "no version" if used is None else f"version {used.version}"
            return f"{path}: the county's index gave version {info.version}, the document says {said}"
        return None

    async def received(self, hall: str, kind: Kind, info: DocumentInfo, path: Path, problems: str | None) -> None:
        """Record a checked version: staged, or refused (logged once, told to the county)."""
        tz = ZoneInfo(self.state.config.hall(hall).timezone)
        today = service_day(self.state.store.clock(), tz)
        if problems is None:
            received = Received(hall, kind, "staged", info.version, info.sha256, today)
            log.info("hall %s: the county's %s version %d passed the checks; it is served from the next day start",
                     hall, kind, info.version)  # fmt: skip
        else:
            received = Received(hall, kind, "refused", info.version, info.sha256, error=problems[:MAX_PROBLEMS])
            log.error("hall %s: the county's %s version %d fails the checks and is not used (县级下发未通过校验):\n%s",
                      hall, kind, info.version, problems)  # fmt: skip

        def write(conn: Connection, now: dt.datetime) -> None:
            save_received(conn, to_us(now), received, drop_older_refusals=problems is None)

        await self.state.store.run_global(write, invalidates=False)
        if problems is None:
            old = self.staged.get((hall, kind))
            if old is not None and old.version != info.version:
                _remove(path.with_name(documents.file_name(kind, hall, old.version)))
            self.staged[(hall, kind)] = received
            refused = self.refused.get((hall, kind))
            if refused is not None and refused.version < info.version:
                del self.refused[(hall, kind)]
        else:
            self.refused[(hall, kind)] = received
        self._changed(hall)

    # -- applying at the next day start --------------------------------------------------------------------------

    def due(self) -> list[Received]:
        now = self.state.store.clock()
        found = []
        for received in self.staged.values():
            if not self.state.config.has_hall(received.hall):
                continue
            today = service_day(now, ZoneInfo(self.state.config.hall(received.hall).timezone))
            if received.day is None or today > received.day:
                found.append(received)
        return found

    async def apply_due(self) -> None:
        """Serve the staged versions whose service day has passed: move them into place and reload the configuration
        from its files (checked again: the hall's own files may have changed). On any problem nothing changes."""
        if not self.due():
            return
        async with self.lock:
            due = self.due()
            if due:
                await self._apply(due)

    async def _apply(self, due: list[Received]) -> None:
        moves: list[tuple[Received, Path, Path, bytes | None]] = []  # staged file, running file, its old bytes
        for received in due:
            link = self.state.config.hall(received.hall).link
            if link is not None:
                folder = Path(link.documents_dir)
                running = folder / documents.file_name(received.kind, received.hall)
                staged = folder / documents.file_name(received.kind, received.hall, received.version)
                moves.append((received, staged, running, running.read_bytes() if running.exists() else None))
        try:
            for received, staged, running, _ in moves:
                if documents.sha256(staged.read_bytes()) != received.sha256:
                    raise _Changed(f"{staged} changed on disk after it was checked")
                os.replace(staged, running)
            config = await asyncio.to_thread(self.source)
        except (ConfigError, OSError, _Changed) as error:
            for _, staged, running, old in moves:  # put back what ran
                if running.exists() and not staged.exists():
                    os.replace(running, staged)
                if old is not None:
                    _write(running, old)
            for received in due:
                await self._unstage(received, refused=f"at the day start: {error}")
            return
        await self.state.serve_config(config, announce=True)
        for received in due:
            log.info("hall %s: serving the county's %s version %d from today (县级下发已生效)", received.hall,
                     received.kind, received.version)  # fmt: skip
            await self._unstage(received)

    async def _unstage(self, received: Received, refused: str | None = None) -> None:
        key = (received.hall, received.kind)
        self.staged.pop(key, None)
        refusal = None
        if refused is not None:
            refusal = Received(received.hall, received.kind, "refused", received.version, received.sha256,
                               error=refused[:MAX_PROBLEMS])  # fmt: skip
            self.refused[key] = refusal
            log.error("hall %s: the county's %s version %d is not served: %s", received.hall, received.kind,
                      received.version, refused)  # fmt: skip

        def write(conn: Connection, now: dt.datetime) -> None:
            drop_staged(conn, received.hall, received.kind)
            if refusal is not None:
                save_received(conn, to_us(now), refusal)

        await self.state.store.run_global(write, invalidates=False)
        self._changed(received.hall)


class _Changed(Exception):
    """A staged file is not the one that was checked."""


@dataclass
class Fetcher:
    """Asks the county for new versions of one hall's documents, every `documents_interval_s`, until cancelled."""

    downlink: Downlink
    hall: str
    failures: int = 0
    _client: httpx.AsyncClient | None = None
    _client_link: Link | None = None

    def link(self) -> Link | None:
        config = self.downlink.state.config
        return config.hall(self.hall).link if config.has_hall(self.hall) else None

    async def run(self) -> None:
        try:
            while True:
                link = self.link()
                if link is None:
                    await asyncio.sleep(60.0)
                    continue
                try:
                    await self.step(link)
                    self.failures = 0
                    self.error(None)
                    wait = link.documents_interval_s
                except LinkError as error:
                    self.error(str(error))
                    self.failures += 1
                    wait = min(backoff_s(link, self.failures), link.documents_interval_s)
                except Exception as error:  # the township's own database away, a bug: never a hot loop
                    log.warning("link down of hall %s: %s", self.hall, error, exc_info=True)
                    self.failures += 1
                    wait = min(backoff_s(link, self.failures), link.documents_interval_s)
                await asyncio.sleep(wait)
        finally:
            if self._client is not None:
                await self._client.aclose()

    def error(self, message: str | None) -> None:
        """Note a failed fetch (logged once per change, shown on the wall, told to the county) or its end."""
        errors = self.downlink.errors
        if errors.get(self.hall) == message:
            return
        if message is None:
            log.info("link down of hall %s works again", self.hall)
            errors.pop(self.hall, None)
        else:
            log.error("link down of hall %s: %s", self.hall, message)
            errors[self.hall] = message
        self.downlink._changed(self.hall)

    async def step(self, link: Link) -> None:
        """Ask for the index; fetch, check and record each version newer than what the hall has."""
        token = read_token(link)
        index = await self.index(link, token)
        for kind in self.downlink.kinds(self.hall):
            info: DocumentInfo | None = getattr(index, kind)
            if info is None or not self.wanted(kind, info):
                continue
            data = await self.body(link, token, kind, info)
            path = Path(link.documents_dir) / documents.file_name(kind, self.hall, info.version)
            await asyncio.to_thread(_write, path, data)
            problems = await self.downlink.check(self.hall, kind, info, path)
            await self.downlink.received(self.hall, kind, info, path, problems)

    def wanted(self, kind: Kind, info: DocumentInfo) -> bool:
        """A version newer than the one running, and not one already staged or refused (or older than those)."""
        running = self.downlink.state.config.document(kind, self.hall)
        if running is not None and info.version <= running.version:
            return False
        for known in (self.downlink.staged.get((self.hall, kind)), self.downlink.refused.get((self.hall, kind))):
            if known is None:
                continue
            if known.version > info.version or (known.version == info.version and known.sha256 == info.sha256):
                return False
        return True

    def client(self, link: Link) -> httpx.AsyncClient:
        if self._client is None or self._client_link != link:
            if self._client is not None:
                asyncio.get_running_loop().create_task(self._client.aclose())
            self._client, self._client_link = make_client(link), link
        return self._client

    async def get(self, link: Link, token: str, path: str, limit: int) -> bytes:
        """The body of a GET to the county, refused past `limit` bytes, or a LinkError saying why."""
        url = f"{link.url.rstrip('/')}/api/v1/link/halls/{self.hall}/{path}"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self.client(link).stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    text = (await response.aread())[:300].decode("utf-8", "replace")
                    raise LinkError(f"the county answered {response.status_code} to {path}: {text}", slow=False)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    message = f"the county's answer to {path} has {declared} bytes: more than {limit} bytes (过大)"
                    raise LinkError(message, slow=False)
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise LinkError(f"the county's answer to {path} has more than {limit} bytes (过大)", slow=False)
                return bytes(data)
        except httpx.HTTPError as error:
            raise LinkError(f"the county at {link.url} cannot be reached: {type(error).__name__} {error}".strip()
                            + " (无法连接县级服务器)", slow=False) from None  # fmt: skip

    async def index(self, link: Link, token: str) -> DocumentIndex:
        data = await self.get(link, token, "documents", MAX_INDEX)
        try:
            return DocumentIndex.model_validate_json(data)
        except ValidationError as error:
            first = error.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise LinkError(f"the county's document index is malformed ({where}: {first['msg']}); nothing was "
                            "fetched (县级目录索引格式错误)", slow=False) from None  # fmt: skip

    async def body(self, link: Link, token: str, kind: Kind, info: DocumentInfo) -> bytes:
        data = await self.get(link, token, f"documents/{kind}/{info.version}", info.size)
        if documents.sha256(data) != info.sha256:
            raise LinkError(f"the county's {kind} version {info.version} does not have the digest its index gave "
                            "(damaged or changed on the way); nothing was used (校验值不符)", slow=False)  # fmt: skip
        return data


def _write(path: Path, data: bytes) -> None:
    """Write the file whole or not at all (a file named like it is either the old one or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        _remove(Path(temporary))
        raise


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def start_downlink(state: ServerState) -> Downlink | None:
    """Link down for a township whose configuration has a hall with a link, read from a file (None: none)."""
    if not any(hall.link is not None for hall in state.config.halls):
        return None
    if state.config_source is None:
        log.warning("link down needs the configuration file the server was started with; it does not run")
        return None
    downlink = Downlink(state)
    await downlink.start()
    return downlink
