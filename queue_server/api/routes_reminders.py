"""Phone reminders: the citizen's consent and phone number on the phone page, for 快到您了 and the call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.api.deps import HallDep, State
from queue_server.api.ratelimit import limited
from queue_server.api.responses import errors
from queue_server.api.routes_public import TOKEN_PATTERN
from queue_server.services import reminders
from queue_server.services.reminders import ReminderState

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["reminders"])
TrackToken = Annotated[str, Path(pattern=TOKEN_PATTERN)]
PATH = "/tickets/{track_token}/reminder"


class ReminderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, Field(pattern=r"^1[3-9][0-9]{9}$", description="a mainland mobile number, 11 digits")]
    consent: bool = Field(description="the citizen agrees the hall uses the number today for these reminders")


@router.get(PATH, response_model=ReminderState, responses=errors(404),
            dependencies=[Depends(limited("track", "track_token"))])  # fmt: skip
async def reminder(hall: HallDep, state: State, track_token: TrackToken) -> ReminderState:
    """Whether the hall sends phone reminders, and whether this ticket has one (the phone masked)."""
    return await state.store.run(hall.id, lambda tx: reminders.reminder_state(tx, track_token))


@router.post(PATH, response_model=ReminderState, responses=errors(400, 404, 409),
             dependencies=[Depends(limited("remind", "track_token"))])  # fmt: skip
async def ask_reminder(hall: HallDep, state: State, track_token: TrackToken, body: ReminderRequest) -> ReminderState:
    """Remind me: 快到您了 when few are ahead, and the call, to this phone (kept today only; 400 without consent,
    404 when the hall sends none, 409 once the ticket was called)."""
    return await state.store.run(hall.id, lambda tx: reminders.ask(tx, track_token, body.phone, body.consent))


@router.delete(PATH, status_code=204, response_class=Response, responses=errors(404),
               dependencies=[Depends(limited("remind", "track_token"))])  # fmt: skip
async def withdraw_reminder(hall: HallDep, state: State, track_token: TrackToken) -> Response:
    """No more reminders: the phone number is deleted."""
    await state.store.run(hall.id, lambda tx: reminders.withdraw(tx, track_token))
    return Response(status_code=204)
