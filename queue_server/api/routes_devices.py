"""A device's own settings: a kiosk asks who it is, which printer it drives and the hall facts it prints."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from config.schema import KioskDevice, PrinterDevice, QueueRules
from queue_server.api.deps import HallDep, KioskDep

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["kiosk"])


class HallSettings(BaseModel):
    """The hall facts a kiosk needs beyond the public catalogue (time zone, QR base URL, queue rules)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    timezone: str
    public_url: str | None
    queue: QueueRules


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
    facts = HallSettings(id=hall.id, timezone=hall.timezone, public_url=hall.public_url, queue=hall.queue)
    return DeviceSettings(device=kiosk, printer=printer, hall=facts)
