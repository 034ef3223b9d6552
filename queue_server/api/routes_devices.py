"""A device's own settings: a kiosk asks who it is, which printer it drives and the hall facts it prints; an
administrator revokes a device's token."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from config.schema import IdCardRules, KioskDevice, PrinterDevice, QueueRules
from queue_server.api.deps import AdminDep, DeviceDep, HallDep, KioskDep, State
from queue_server.api.ratelimit import client_ip
from queue_server.api.responses import ErrorBody, errors
from queue_server.errors import BadRequest, Forbidden, ServiceError
from queue_server.services import accounts, id_card, staff_audit
from queue_server.store.writer import to_us

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["kiosk"], responses=errors(400))


class HallSettings(BaseModel):
    """The hall facts a kiosk needs beyond the public catalogue (time zone, QR base URL, queue rules)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    timezone: str
    public_url: str | None
    queue: QueueRules
    id_card: IdCardRules = IdCardRules()


class DeviceSettings(BaseModel):
    """GET /api/v1/halls/{hall}/devices/me: the calling kiosk, its printer (None if it has none) and its hall.

    Nothing secret: no token, no staff, no other device. A kiosk therefore needs only the server's
    URL, its device id and its token; everything else is configured once, on the server.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: KioskDevice
    printer: PrinterDevice | None
    hall: HallSettings


@router.get("/devices/me", response_model=DeviceSettings)
async def me(hall: HallDep, device: KioskDep) -> DeviceSettings:
    """The settings of the kiosk whose device token authenticates the request."""
    kiosk = next(d for d in hall.devices if isinstance(d, KioskDevice) and d.id == device.device)
    printer = next((d for d in hall.devices if isinstance(d, PrinterDevice) and d.id == kiosk.printer), None)
    facts = HallSettings(
        id=hall.id, timezone=hall.timezone, public_url=hall.public_url, queue=hall.queue, id_card=hall.id_card
    )
    return DeviceSettings(device=kiosk, printer=printer, hall=facts)


class IdCardKey(BaseModel):
    """GET /api/v1/halls/{hall}/devices/me/id-card-key: the hall's key of the ID card hashes (docs/id-card.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(description="hex: the kiosk sends HMAC-SHA256(key, ID number) as id_hash")]


class KeyUnavailable(ServiceError):
    code = "id_card_key_unavailable"
    status = 503


KEY_503 = {"model": ErrorBody, "description": "the key file cannot be made or read (the server's log says why)"}


@router.get("/devices/me/id-card-key", response_model=IdCardKey, responses={**errors(403), 503: KEY_503})
async def id_card_key(hall: HallDep, device: KioskDep, state: State, response: Response) -> IdCardKey:
    """The key a kiosk with an ID card reader hashes the ID number with; a kiosk without a reader is refused."""
    kiosk = next(d for d in hall.devices if isinstance(d, KioskDevice) and d.id == device.device)
    if kiosk.id_reader is None:
        raise Forbidden(f"kiosk {kiosk.id} has no ID card reader configured (该取号机未配置身份证读卡器)")
    path = id_card.key_path(hall, state.store.engine)
    try:
        key = await asyncio.to_thread(id_card.hall_key, path)
    except (OSError, ValueError) as error:  # a key file that cannot be made or read: said, the kiosk retries
        log.error("the ID card key of hall %s cannot be read: %s", hall.id, error)
        raise KeyUnavailable("the hall's ID card key cannot be read: see the server's log (身份证密钥不可用)") from None
    response.headers["Cache-Control"] = "no-store"
    return IdCardKey(key=key)


class DeviceReport(BaseModel):
    """POST /api/v1/halls/{hall}/devices/me/status: what a kiosk's printer spooler is doing (for /metrics)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    printer_state: Literal["unreachable", "cover_open", "paper_out", "offline", "paper_near_end", "online", "unknown"]
    queued: Annotated[int, Field(ge=0, le=100_000, strict=True)]
    failed: Annotated[int, Field(ge=0, le=100_000, strict=True)]


class LinkReport(BaseModel):
    """POST /api/v1/halls/{hall}/devices/me/status from `bianmin devices`: an LED strip's or caller's link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: Literal["connected", "disconnected"]
    detail: Annotated[str, Field(max_length=200)] = ""


@router.post("/devices/me/status", status_code=204, response_class=Response, responses={204: {"description": "kept"}})
async def report_status(hall: HallDep, device: DeviceDep, state: State, body: DeviceReport | LinkReport) -> Response:
    """A device reports its state; kept in memory (for /metrics and the manager's wall).

    A kiosk reports its printer and spool queue (`DeviceReport`, every 30 s and when they change); `bianmin
    devices` reports each LED strip's and caller's link (`LinkReport`, the same way). Each kind sends its own.
    """
    kiosk = any(isinstance(d, KioskDevice) and d.id == device.device for d in hall.devices)
    if kiosk != isinstance(body, DeviceReport):
        wanted = "printer_state, queued and failed" if kiosk else "link (connected or disconnected)"
        raise BadRequest(f"device {device.device} reports {wanted} (设备状态格式不符)")
    reports = state.device_reports if kiosk else state.device_links
    reports[(hall.id, device.device)] = (body, time.monotonic())
    return Response(status_code=204)


@router.delete(
    "/devices/{device}",
    status_code=204,
    response_class=Response,
    tags=["staff"],
    responses=errors(404),  # no such device registered in the hall (401, 403: from the login's dependency)
)
async def revoke(
    hall: HallDep,
    state: State,
    admin: AdminDep,
    device: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")],
    request: Request,
) -> Response:
    """Revoke a device's token: the kiosk is refused (401) from the answer on, by every server process."""

    def act(conn: Connection, now: dt.datetime) -> None:
        accounts.revoke_device(conn, hall.id, device)
        staff_audit.record(conn, to_us(now), "device.revoked", actor=admin.username, subject=device,
                           halls=[hall.id], source=client_ip(request))  # fmt: skip

    # A global change: after its commit this process drops its cached device tokens, and every other process
    # does on the accounts generation's notification (PostgreSQL) or its next poll (SQLite, 0.25 s).
    await state.store.run_global(act)
    return Response(status_code=204)
