"""The kiosk's HTTP client: async httpx, typed answers and errors, bounded retries; no Kivy.

One tap is one `Idempotency-Key`, and every retry of that tap sends the same key: when an answer is
lost on the way back (the server committed the ticket, the kiosk never heard), the retry gets the
same ticket back (`Idempotent-Replayed: true`), never a second number.

What is retried, with capped exponential back-off, at most `RetryPolicy.attempts` times in all:
transport failures (refused, reset, timed out: the request may or may not have been carried out),
5xx answers and 429 (after its Retry-After, capped). Every other 4xx is final and becomes a typed
error at once. Every request is bounded by the policy's timeouts, so a tap ends within
`RetryPolicy.worst_case_s()` whatever the network does.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from config.schema import Hall, KioskDevice, PrinterDevice, QueueRules
from queue_server.protocol import IssuedTicket, IssueRequest, QueueSummary

log = logging.getLogger(__name__)

API = "/api/v1"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is tried; the defaults suit a hall LAN."""

    attempts: int = 4
    initial_s: float = 0.25
    factor: float = 2.0
    max_s: float = 2.0
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if not 0 <= self.initial_s <= self.max_s:
            raise ValueError("initial_s must be between 0 and max_s")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failed attempt (1, 2, ...)."""
        return float(min(self.max_s, self.initial_s * self.factor ** max(0, failures - 1)))

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout_s, connect=self.connect_timeout_s)

    def worst_case_s(self) -> float:
        """An upper bound of one request with all its retries."""
        waits = sum(self.delay(n) for n in range(1, self.attempts))
        return self.attempts * (self.connect_timeout_s + 2 * self.read_timeout_s) + waits


# -- errors --------------------------------------------------------------------------------------


class KioskError(Exception):
    """Something the kiosk could not get from the server; str() is for the log, not for citizens."""


class ServerUnreachable(KioskError):
    """No usable answer after every attempt: the network, or the server, is down or in trouble."""


class Throttled(ServerUnreachable):
    """The server is there but answered 429 (too many requests) to the last attempt: it is busy, not gone."""


class ApiError(KioskError):
    """The server answered with an error that retrying will not change."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class CategoryFull(ApiError):
    """The category's tickets for today are all given out (409 category_full)."""


class NotRegistered(ApiError):
    """The server does not accept this kiosk's token (401), or not for this hall (403)."""


class BadAnswer(KioskError):
    """The server answered something this kiosk does not understand (a version mismatch?)."""


# -- what the kiosk learns at start ------------------------------------------------------------


@dataclass(frozen=True)
class KioskSetup:
    """Everything the kiosk needs from the server before it can serve: the hall rebuilt, itself, its printer."""

    server: str
    hall: Hall
    device: KioskDevice
    printer: PrinterDevice | None

    def track_url(self, ticket: IssuedTicket) -> str:
        """What the tracking QR encodes: <hall public URL, or the server URL>/t/<track token>."""
        base = self.hall.public_url or self.server
        return base.rstrip("/") + ticket.track_path

    def supervision_url(self) -> str:
        """What the QR of 办件查询 · 投诉 encodes: <hall public URL, or the server URL>/q/<hall> (互联网+监督)."""
        base = self.hall.public_url or self.server
        return f"{base.rstrip('/')}/q/{quote(self.hall.id, safe='')}"


@dataclass(frozen=True)
class Issued:
    ticket: IssuedTicket
    replayed: bool  # the server answered an earlier attempt's ticket again
    attempts: int


def new_key(device: str) -> str:
    """A fresh Idempotency-Key for one tap: the device id and 128 random bits."""
    return f"{device}-{uuid.uuid4().hex}"


def api_base(server: str) -> str:
    """The HTTP base URL of a server given as http(s):// (or ws(s)://)."""
    base = server.rstrip("/")
    for ws, http in (("ws://", "http://"), ("wss://", "https://")):
        if base.startswith(ws):
            return http + base[len(ws) :]
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"not a server URL: {server!r} (expected http://host:port)")
    return base


Sleep = Callable[[float], Awaitable[None]]


class KioskClient:
    """The kiosk's calls to the queue server. Use as `async with KioskClient(...) as client:`."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.server = api_base(server)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.server,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "bianmin-kiosk"},
            timeout=self.retry.timeout(),
            transport=transport,
            trust_env=False,  # a hall LAN: never through a proxy from the environment
        )

    async def __aenter__(self) -> KioskClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- calls ---------------------------------------------------------------------------------

    async def halls(self) -> list[str]:
        data = await self._json("GET", f"{API}/halls")
        try:
            return [str(hall["id"]) for hall in data]
        except (TypeError, KeyError) as error:
            raise BadAnswer(f"GET /halls: {error!r}") from None

    async def device_settings(self, hall: str) -> dict[str, Any]:
        data = await self._json("GET", f"{_hall_path(hall)}/devices/me")
        if not isinstance(data, dict):
            raise BadAnswer("GET devices/me: not an object")
        return data

    async def id_card_key(self, hall: str) -> bytes:
        """The hall's key of the ID card hashes (only a kiosk with a reader configured gets it)."""
        data = await self._json("GET", f"{_hall_path(hall)}/devices/me/id-card-key")
        try:
            return bytes.fromhex(data["key"])
        except (TypeError, KeyError, ValueError) as error:
            raise BadAnswer(f"GET devices/me/id-card-key: {error!r}") from None

    async def catalog(self, hall: str) -> dict[str, Any]:
        data = await self._json("GET", f"{_hall_path(hall)}/catalog")
        if not isinstance(data, dict):
            raise BadAnswer("GET catalog: not an object")
        return data

    async def queues(self, hall: str) -> list[QueueSummary]:
        data = await self._json("GET", f"{_hall_path(hall)}/queues")
        try:
            return [QueueSummary.model_validate(q) for q in data["queues"]]
        except (TypeError, KeyError, ValidationError) as error:
            raise BadAnswer(f"GET queues: {error}") from None

    async def issue(self, hall: str, request: IssueRequest, key: str, *, attempts: int | None = None) -> Issued:
        """POST a ticket with this tap's key; every retry sends the same key (and the same body).

        `attempts` overrides the policy's (1: one try, when the kiosk already knows the server is gone).
        """
        body = request.model_dump(exclude_none=True)
        path, headers = f"{_hall_path(hall)}/tickets", {"Idempotency-Key": key}
        response, attempts = await self._send("POST", path, body, headers, attempts)
        try:
            ticket = IssuedTicket.model_validate_json(response.content)
        except ValidationError as error:
            raise BadAnswer(f"POST tickets: {error}") from None
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        if replayed:
            log.info("kiosk: %s came back on a retry of key %s (no second ticket)", ticket.number, key)
        return Issued(ticket, replayed, attempts)

    async def report_status(self, hall: str, printer_state: str, queued: int, failed: int) -> None:
        """Tell the server what the printer's spooler is doing (its /metrics shows it); one try, no retry."""
        body = {"printer_state": printer_state, "queued": queued, "failed": failed}
        response = await self._http.post(f"{_hall_path(hall)}/devices/me/status", json=body)
        if response.status_code != 204:
            raise BadAnswer(f"POST devices/me/status: {response.status_code}")

    async def check_in(self, hall: str, code: str, *, attempts: int | None = None) -> Issued:
        """POST an appointment's check-in: a ticket of priority "appointment".

        Retrying is safe without a key: the server answers a code checked in before with the same
        ticket (200, `Idempotent-Replayed: true`). Refusals are `ApiError`s whose `code` says why:
        too_early, appointment_not_today, appointment_cancelled, appointment_missed, not_found.
        """
        path = f"{_hall_path(hall)}/appointments/{quote(code.upper(), safe='')}/check-in"
        response, attempts = await self._send("POST", path, None, {}, attempts)
        try:
            ticket = IssuedTicket.model_validate_json(response.content)
        except ValidationError as error:
            raise BadAnswer(f"POST check-in: {error}") from None
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        if replayed:
            log.info("kiosk: appointment %s was checked in before: the same ticket %s", code, ticket.number)
        return Issued(ticket, replayed, attempts)

    async def setup(self, device_id: str, hall: str | None = None) -> KioskSetup:
        """Find the hall (the given one, the server's only one, or the one that knows this token) and load it."""
        if hall is None:
            hall = await self._find_hall()
        settings = await self.device_settings(hall)
        catalog = await self.catalog(hall)
        setup = build_setup(self.server, settings, catalog)
        if setup.device.id != device_id:
            raise NotRegistered(403, "wrong_device", f"this token belongs to device {setup.device.id}, not {device_id}")
        return setup

    async def _find_hall(self) -> str:
        halls = await self.halls()
        if len(halls) == 1:
            return halls[0]
        for hall in halls:  # several halls: the one whose kiosk this token is
            try:
                await self.device_settings(hall)
            except NotRegistered:
                continue
            return hall
        raise NotRegistered(403, "no_hall", f"no hall of the server ({', '.join(halls) or 'none'}) knows this kiosk")

    # -- plumbing ------------------------------------------------------------------------------

    async def _json(self, method: str, path: str) -> Any:
        response, _attempts = await self._send(method, path, None, {})
        try:
            return response.json()
        except ValueError:
            raise BadAnswer(f"{method} {path}: not JSON") from None

    async def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        attempts: int | None = None,
    ) -> tuple[httpx.Response, int]:
        limit = attempts or self.retry.attempts
        failures = 0
        while True:
            wait: float | None = None
            try:
                response = await self._http.request(method, path, json=body, headers=dict(headers))
            except httpx.TransportError as error:  # the request may or may not have been carried out
                problem = f"{type(error).__name__}: {error}".rstrip(": ")
            else:
                if response.status_code < 400:
                    return response, failures + 1
                if response.status_code not in (429, 500, 502, 503, 504):
                    raise _error(response)
                problem = f"HTTP {response.status_code}"
                if response.status_code == 429:
                    wait = _retry_after(response)
            failures += 1
            if failures >= limit:
                gave_up = Throttled if problem == "HTTP 429" else ServerUnreachable
                raise gave_up(f"{method} {path}: no answer after {failures} attempts ({problem})")
            delay = self.retry.delay(failures) if wait is None else min(wait, self.retry.max_s)
            log.info("kiosk: %s %s failed (%s); retry %d in %.2f s", method, path, problem, failures, delay)
            await self._sleep(delay)


def _hall_path(hall: str) -> str:
    return f"{API}/halls/{quote(hall, safe='')}"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _error(response: httpx.Response) -> ApiError:
    """The typed error of a final 4xx answer ({"error": {"code", "message"}})."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", response.text[:200]
    status = response.status_code
    if code == "category_full":
        return CategoryFull(status, code, message)
    if status in (401, 403):
        return NotRegistered(status, code, message)
    return ApiError(status, code, message)


def build_setup(server: str, settings: Mapping[str, Any], catalog: Mapping[str, Any]) -> KioskSetup:
    """The hall as the kiosk needs it (a `config.schema.Hall`, for the printer's layouts), from two answers."""
    try:
        device = KioskDevice.model_validate(settings["device"])
        printer = PrinterDevice.model_validate(settings["printer"]) if settings.get("printer") else None
        facts = settings["hall"]
        hall = Hall.model_validate(
            {
                **catalog["hall"],
                "timezone": facts["timezone"],
                "public_url": facts.get("public_url"),
                "queue": QueueRules.model_validate(facts["queue"]),
                "id_card": facts.get("id_card", {}),
                "categories": catalog["categories"],
                "windows": catalog["windows"],
                "items": catalog["items"],
                "devices": [device, *([printer] if printer else [])],
            }
        )
    except (KeyError, TypeError, ValidationError) as error:
        raise BadAnswer(f"the hall's settings or catalogue cannot be read: {error}") from None
    return KioskSetup(server=api_base(server), hall=hall, device=device, printer=printer)
