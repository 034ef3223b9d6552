"""Issuing tickets at a kiosk, and re-queueing a no-show there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from queue_server.api.deps import HallDep, KioskCallDep, KioskDep, State
from queue_server.api.responses import errors
from queue_server.api.routes_public import TOKEN_PATTERN
from queue_server.protocol import IssuedTicket, IssueRequest
from queue_server.services import issuing

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["kiosk"], responses=errors(400, 404, 409))

KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"


@router.post("/tickets", response_model=IssuedTicket, status_code=201)
async def issue(
    body: IssueRequest,
    kiosk: KioskCallDep,
    idempotency_key: Annotated[
        str, Header(pattern=KEY_PATTERN, description="1–128 printable ASCII characters, no spaces: the kiosk's own")
    ],
) -> Response:
    """Issue a ticket. The same `Idempotency-Key` from the same kiosk always returns the same ticket.

    A ticket by ID card carries `id_hash` (never the number): while that card's ticket of the category
    is still waiting or called, a second one is refused with 409 `id_ticket_open` (when the hall's
    `id_card.one_open_per_category` is on, the default). A full category is 409 `category_full`.
    """
    key = idempotency_key
    device = kiosk.device.device
    result = await kiosk.state.store.run(kiosk.hall.id, lambda tx: issuing.issue_ticket(tx, body, device, key))
    # The busiest route: serialize the typed answer once, rather than have it validated and dumped again.
    return Response(
        result.ticket.model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if result.replayed else None,
    )


@router.post("/tickets/{track_token}/requeue", response_model=IssuedTicket)
async def requeue(
    hall: HallDep, device: KioskDep, state: State, track_token: Annotated[str, Path(pattern=TOKEN_PATTERN)]
) -> IssuedTicket:
    """Put a missed (过号) ticket back in the queue, behind the hall's configured number of tickets."""
    return await state.store.run(hall.id, lambda tx: issuing.requeue(tx, track_token, device.device))
