"""远程取号: today's remote-ticket places and taking one from the phone (public, rate-limited).

The place is checked in at the kiosk like an appointment (`POST .../appointments/{code}/check-in`), and read or
cancelled by its code there too (`GET .../appointments/{code}`, `POST .../appointments/{code}/cancel`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from queue_server.api.deps import HallDep, State
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.services import appointments, remote_tickets
from queue_server.services.appointments import AppointmentView
from queue_server.services.remote_tickets import RemoteRequest, RemoteStatus

router = APIRouter(prefix="/api/v1/halls/{hall}/remote-tickets", tags=["remote tickets"], responses=errors(404))


@router.get("", response_model=RemoteStatus, dependencies=[Depends(limited("slots"))])
async def status(hall: HallDep, state: State) -> RemoteStatus:
    """Whether remote tickets are taken now (and when they are), and each category's places left today."""
    view = await state.view(hall.id)  # the read side: a phone's look never waits behind the hall's writes
    now = state.store.clock()
    taken = await state.store.read(lambda conn: remote_tickets.taken_today(conn, hall, now))
    return remote_tickets.status(view, taken, state.store.calendar, now)


@router.post(
    "",
    response_model=AppointmentView,
    status_code=201,
    responses=errors(409, 422),
    dependencies=[Depends(limited("remote"))],
)
async def take(hall: HallDep, state: State, body: RemoteRequest) -> AppointmentView:
    """Take a place in today's queue: its `code` (and QR) is checked in at the kiosk by `check_in_until`.

    409 `outside_hours` (not within the remote-ticket hours or not a working day), `quota_reached` (the
    category's places of the day are taken), `remote_held` (this phone holds one of the category), `remote_banned`
    (too many remote tickets of this phone were not checked in: until when is said), `not_bookable` (an item
    that takes no appointment)."""
    await state.store.run(hall.id, appointments.sweep_missed)
    return await state.store.run(hall.id, lambda tx: remote_tickets.take(tx, body))
