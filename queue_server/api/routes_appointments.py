"""办事预约: free slots, booking, looking up and cancelling by code (public, rate-limited); check-in at a kiosk."""

from __future__ import annotations

import io
from typing import Annotated

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Depends, Path, Query, Response

from queue_server.api.deps import HallDep, KioskDep, State, SupervisorDep
from queue_server.api.params import IsoDate
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.protocol import IssuedTicket
from queue_server.services import appointments
from queue_server.services.appointments import (
    CODE_PATTERN,
    SLUG,
    AppointmentDay,
    AppointmentView,
    Availability,
    BookRequest,
)

router = APIRouter(prefix="/api/v1/halls/{hall}/appointments", tags=["appointments"], responses=errors(404, 409))
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="the appointment code (8 characters)")]
Slug = Annotated[str | None, Query(pattern=SLUG)]


@router.get("/slots", response_model=Availability, dependencies=[Depends(limited("slots"))])
async def slots(hall: HallDep, state: State, item_id: Slug = None, category: Slug = None) -> Availability:
    """Every bookable day's slots for a service item (or a category), with how many places are left."""
    return await state.store.run(hall.id, lambda tx: appointments.availability(tx, item_id, category))


@router.post("", response_model=AppointmentView, status_code=201, dependencies=[Depends(limited("book"))])
async def book(hall: HallDep, state: State, body: BookRequest) -> AppointmentView:
    """Book a slot; the answer's `code` is the only key to the appointment (show it at the kiosk)."""
    return await state.store.run(hall.id, lambda tx: appointments.book(tx, body))


@router.get("", response_model=AppointmentDay)
async def day_list(
    hall: HallDep, state: State, _staff: SupervisorDep, day: Annotated[IsoDate, Query()]
) -> AppointmentDay:
    """A day's appointments and how many were booked, cancelled, checked in and missed (managers)."""
    return await state.store.run(hall.id, lambda tx: appointments.day_list(tx, day))


@router.get(
    "/{code}", response_model=AppointmentView, dependencies=[Depends(limited("appointment", "code", fold_case=True))]
)
async def view(hall: HallDep, state: State, code: Code) -> AppointmentView:
    await state.store.run(hall.id, appointments.sweep_missed)
    return await state.store.run(hall.id, lambda tx: appointments.view(tx, code))


@router.post(
    "/{code}/cancel",
    response_model=AppointmentView,
    dependencies=[Depends(limited("appointment", "code", fold_case=True))],
)
async def cancel(hall: HallDep, state: State, code: Code) -> AppointmentView:
    """Cancel before the slot begins; the place is free again."""
    await state.store.run(hall.id, appointments.sweep_missed)
    return await state.store.run(hall.id, lambda tx: appointments.cancel(tx, code))


@router.get(
    "/{code}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    dependencies=[Depends(limited("appointment", "code", fold_case=True))],
)
async def qr(hall: HallDep, state: State, code: Code) -> Response:
    """The code as a QR image, to be scanned at the kiosk."""
    found = await state.store.run(hall.id, lambda tx: appointments.view(tx, code))
    image = qrcode.make(found.code, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/{code}/check-in", response_model=IssuedTicket, status_code=201)
async def check_in(hall: HallDep, device: KioskDep, state: State, code: Code, response: Response) -> IssuedTicket:
    """At a kiosk: a ticket of priority "appointment"; the same code checked in again answers the same ticket."""
    await state.store.run(hall.id, appointments.sweep_missed)
    result = await state.store.run(hall.id, lambda tx: appointments.check_in(tx, code, device.device))
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        response.status_code = 200
    return result.ticket
