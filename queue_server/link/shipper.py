"""The township's shipper: its hall's events after the county's acknowledged seq, in seq order, in batches.

It runs in the township's server process (started with the app, only for halls with `[halls.link]`) and never
touches the hall's own work: it reads the log on reader connections and writes only `link_state`, in a short
transaction of its own after each answer. The county's answer is the truth of what arrived: the shipper resumes
after the seq the county says it holds, whatever it thought before (a restart, a restored database on either
side). Network failures and 5xx are retried with capped exponential back-off and jitter; a refused batch (409)
or a refused credential is reported (logged once per change, shown on the wall) and retried only slowly.

The same shipper relays a county's halls to its city (`[county.link]`, `relay`): one per hall the county holds
(its own halls and its townships' shipped copies), reading the county's `events` table as a township reads its
own, so the city's copy of a hall's log is the hall's log, seq for seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import logging
import os
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import Connection, func, insert, select, update

from config.schema import Link
from queue_server.link.receiver import FIELDS
from queue_server.link.tables import link_state
from queue_server.link.wire import Ack, Batch, DocumentReport, ShippedEvent
from queue_server.store.tables import events
from queue_server.store.writer import Store, to_us

if TYPE_CHECKING:
    from queue_server.link.downlink import Downlink

log = logging.getLogger(__name__)

HEARTBEAT_S = 60.0  # an idle hall still tells its county it is alive (its last contact, its backlog 0)
NO_LINK_S = 60.0  # a hall whose link was removed by a reload looks again this often
try:
    VERSION = importlib.metadata.version("bianmin")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    VERSION = ""


class LinkError(Exception):
    """Why a request did not go through; `slow`: a person has to act, so it is retried only slowly."""

    def __init__(self, message: str, *, slow: bool) -> None:
        super().__init__(message)
        self.slow = slow


def acked_seq(conn: Connection, hall: str) -> int:
    return int(conn.execute(select(link_state.c.acked_seq).where(link_state.c.hall == hall)).scalar() or 0)


def events_after(conn: Connection, hall: str, after: int, limit: int) -> tuple[list[ShippedEvent], int]:
    """Up to `limit` events of the hall after `after`, in seq order, and the hall's newest seq."""
    columns = [events.c.seq, *(events.c[name] for name in FIELDS)]
    query = select(*columns).where(events.c.hall == hall, events.c.seq > after).order_by(events.c.seq).limit(limit)
    found = [ShippedEvent.model_construct(**row._asdict()) for row in conn.execute(query)]
    newest = int(conn.execute(select(func.max(events.c.seq)).where(events.c.hall == hall)).scalar() or 0)
    return found, newest


def save_state(conn: Connection, hall: str, acked: int, contact_us: int | None, error: str | None, error_us: int | None
               ) -> None:  # fmt: skip
    values = {"acked_seq": acked, "last_error": error, "error_at": error_us}
    if contact_us is not None:
        values["last_contact"] = contact_us
    if conn.execute(update(link_state).where(link_state.c.hall == hall).values(**values)).rowcount == 0:
        conn.execute(insert(link_state).values(hall=hall, **values))


def read_token(link: Link) -> str:
    """The hall's link token, from its file or its environment variable (read each time: it may be replaced)."""
    if link.token_file is not None:
        try:
            token = Path(link.token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            message = f"cannot read the link token file {link.token_file}: {error.strerror} (联动令牌文件无法读取)"
            raise LinkError(message, slow=True) from None
        where = f"the file {link.token_file}"
    else:
        token = os.environ.get(link.token_env or "", "").strip()
        where = f"the environment variable {link.token_env}"
    if not token:
        raise LinkError(f"no link token in {where} (未配置联动令牌)", slow=True)
    return token


def make_client(link: Link, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An HTTP client for the county: its timeout, and the CA file of an https county when given."""
    verify: ssl.SSLContext | bool = True
    if link.ca_file is not None:
        verify = ssl.create_default_context(cafile=link.ca_file)
    return httpx.AsyncClient(timeout=link.timeout_s, verify=verify, transport=transport)


def backoff_s(link: Link, failures: int, rng: Callable[[], float] = random.random) -> float:
    """The wait after `failures` failures in a row: doubling from retry_min_s, capped, with jitter (½ to 1×)."""
    base: float = min(link.retry_max_s, link.retry_min_s * 2.0 ** min(failures - 1, 60))
    return base * (0.5 + rng() / 2)


@dataclass
class Shipper:
    """Ships one hall's log to its county until cancelled."""

    store: Store
    hall: str
    transport: httpx.AsyncBaseTransport | None = None  # tests may route the requests themselves
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    acked: int | None = None  # the county holds every event up to this (None: not read yet)
    failures: int = 0
    error: str | None = None  # the last error reported (logged and saved once per change)
    heard: float | None = None  # time.monotonic() of the county's last answer to this process
    #: What the hall did with the county's documents (link down), told with every batch; `poke`: tell it now.
    documents: Callable[[], list[DocumentReport]] | None = None
    poke: asyncio.Event | None = None
    #: A county's relay of the hall to its city (`[county.link]`), rather than the hall's own `[halls.link]`.
    relay: bool = False
    _client: httpx.AsyncClient | None = field(default=None, repr=False)
    _client_link: Link | None = field(default=None, repr=False)

    def link(self) -> Link | None:
        """The hall's link as the configuration says now (a reload may change or remove it)."""
        config = self.store.config
        if self.relay:
            county = config.county
            relayed = county is not None and any(hall.id == self.hall for hall in config.relayed())
            return county.link if relayed and county is not None else None
        return config.hall(self.hall).link if config.has_hall(self.hall) else None

    async def run(self) -> None:
        try:
            while True:
                link = self.link()
                if link is None:
                    await self.pause(NO_LINK_S)
                    continue
                try:
                    wait = await self.step(link)
                    self.failures = 0
                except _Resend:  # the county holds less than thought: send from there, now
                    wait = 0.0
                except LinkError as error:
                    await self.report(str(error))
                    if error.slow:
                        self.failures = 0
                        wait = link.conflict_retry_s
                    else:
                        self.failures += 1
                        wait = backoff_s(link, self.failures)
                except Exception as error:  # the township's own database away, a bug: never a hot loop
                    log.warning("link up of hall %s: %s", self.hall, error, exc_info=True)
                    self.failures += 1
                    wait = backoff_s(link, self.failures)
                await self.pause(wait)
        finally:
            if self._client is not None:
                await self._client.aclose()

    async def pause(self, seconds: float) -> None:
        """Wait that long, or less when link down has news for the county."""
        if self.poke is None or seconds <= 0:
            await self.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.poke.wait()

    async def step(self, link: Link) -> float:
        """Send one batch (or a heartbeat); the seconds to wait before the next."""
        token = read_token(link)
        if self.acked is None:
            self.acked = await self.store.read(lambda conn: acked_seq(conn, self.hall))
            log.info("link up of hall %s resumes after seq %d (acknowledged by the county)", self.hall, self.acked)
        after = self.acked
        found, newest = await self.store.read(lambda conn: events_after(conn, self.hall, after, link.batch_size))
        quiet = self.heard is not None and time.monotonic() - self.heard < max(HEARTBEAT_S, link.interval_s)
        news = self.poke is not None and self.poke.is_set()
        if not found and quiet and self.error is None and not news:
            return link.interval_s
        if self.poke is not None:
            self.poke.clear()
        reports = self.documents() if self.documents is not None else None
        batch = Batch(after=after, events=found, waiting=max(0, newest - after - len(found)), version=VERSION,
                      documents=reports)  # fmt: skip
        ack = await self.post(link, token, batch)
        self.heard = time.monotonic()
        if ack.last_seq > newest:
            # The county holds more than this hall's log: this database was restored from a backup. Resume after
            # the hall's own newest event; the county will refuse what differs from its copy (409).
            log.error("link up of hall %s: the county holds seq %d, this hall's log ends at %d", self.hall,
                      ack.last_seq, newest)  # fmt: skip
        self.acked = min(ack.last_seq, newest)
        await self.save(contact=True, error=None)
        return 0.0 if len(found) == link.batch_size else link.interval_s

    async def post(self, link: Link, token: str, batch: Batch) -> Ack:
        client = self.client(link)
        url = f"{link.url.rstrip('/')}/api/v1/link/halls/{self.hall}/events"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            response = await client.post(url, content=batch.model_dump_json(), headers=headers)
        except httpx.HTTPError as error:
            untrusted = _certificate_error(error)
            if untrusted is not None:  # a person has to act: the CA file, the county's certificate or the URL
                message = (f"the county's certificate at {link.url} is not trusted: {untrusted}; check "
                           "[halls.link] ca_file and url (县级服务器证书验证失败，未上报)")  # fmt: skip
                raise LinkError(message, slow=True) from None
            raise LinkError(f"the county at {link.url} cannot be reached: {type(error).__name__} {error}".strip()
                            + " (无法连接县级服务器)", slow=False) from None  # fmt: skip
        if response.status_code == 200:
            return Ack.model_validate(response.json())
        message, code, last_seq = _refusal(response)
        if response.status_code == 409 and code == "link_gap" and last_seq is not None and last_seq != batch.after:
            # The county holds less than this process thought (its database restored): its answer wins.
            log.warning("link up of hall %s: the county holds up to seq %d; resending from there", self.hall, last_seq)
            self.acked = last_seq
            await self.save(contact=True, error=None)
            raise _Resend
        slow = response.status_code < 500 and response.status_code != 429
        raise LinkError(f"the county answered {response.status_code}: {message}", slow=slow)

    def client(self, link: Link) -> httpx.AsyncClient:
        if self._client is None or self._client_link != link:
            if self._client is not None:
                asyncio.get_running_loop().create_task(self._client.aclose())
            self._client, self._client_link = make_client(link, self.transport), link
        return self._client

    async def report(self, message: str) -> None:
        if message == self.error:
            return
        log.error("link up of hall %s: %s", self.hall, message)
        self.error = message
        await self.save(contact=False, error=message)

    async def save(self, *, contact: bool, error: str | None) -> None:
        if error is None and self.error is not None:
            log.info("link up of hall %s works again (acknowledged up to seq %s)", self.hall, self.acked)
        self.error = error
        acked = self.acked or 0
        hall = self.hall

        def write(conn: Connection, now: dt.datetime) -> None:
            save_state(conn, hall, acked, to_us(now) if contact else None, error, None if error is None else to_us(now))

        await self.store.run_global(write, invalidates=False)


class _Resend(LinkError):
    def __init__(self) -> None:
        super().__init__("resend", slow=False)


def _certificate_error(error: BaseException) -> str | None:
    """What TLS said of the county's certificate, when that is why the connection failed."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _refusal(response: httpx.Response) -> tuple[str, str | None, int | None]:
    """The county's error message, code and last seq (when its answer is the usual JSON error)."""
    try:
        error = response.json()["error"]
        last_seq = error.get("last_seq")
        return str(error["message"])[:500], str(error.get("code")), last_seq if isinstance(last_seq, int) else None
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase, None, None


@dataclass
class Links:
    """The shippers of a server process's halls."""

    tasks: list[asyncio.Task[None]]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def start_links(store: Store, downlink: Downlink | None = None) -> Links:
    """Start a shipper for every hall of the configuration with a `[halls.link]`, and at a county with a
    `[county.link]` one relaying each hall it holds to its city (none: nothing starts)."""
    halls = [hall.id for hall in store.config.halls if hall.link is not None]
    tasks = []
    county = store.config.county
    relayed = [hall.id for hall in store.config.relayed()]
    for hall in relayed:
        tasks.append(asyncio.create_task(Shipper(store, hall, relay=True).run(), name=f"bianmin-relay-{hall}"))
    if relayed and county is not None and county.link is not None:
        log.info("county %s relays %d halls to %s", county.id, len(relayed), county.link.url)
    for hall in halls:
        shipper = Shipper(store, hall)
        if downlink is not None:
            shipper.documents = partial(downlink.report, hall)
            shipper.poke = downlink.pokes.setdefault(hall, asyncio.Event())
        tasks.append(asyncio.create_task(shipper.run(), name=f"bianmin-link-{hall}"))
    for hall in halls:
        log.info("link up of hall %s to %s", hall, store.config.hall(hall).link.url)  # type: ignore[union-attr]
    return Links(tasks)
