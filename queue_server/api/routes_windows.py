"""The clerk's window actions; each acts only on the window the clerk opened."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.api.deps import HallDep, StaffDep, State, WindowActorDep
from queue_server.api.responses import errors
from queue_server.domain.tickets import CaseClass, Priority
from queue_server.domain.windows import Post
from queue_server.protocol import WindowView
from queue_server.runtime import HallRuntime, LiveTicket
from queue_server.services import window_actions as actions
from queue_server.services.views import estimates, window_view
from queue_server.store.writer import Tx, from_us

router = APIRouter(prefix="/api/v1/halls/{hall}/windows", tags=["windows"], responses=errors(400, 403, 404, 409))
WindowNumber = Annotated[int, Path(ge=1, le=999)]
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenBody(Body):
    post: Literal["A", "B"]


class ReasonBody(Body):
    reason: Reason


class CallBody(Body):
    number: Annotated[str, Field(pattern=r"^[A-Za-z][0-9]{3,4}$")]
    reason: Reason


class FinishBody(Body):
    case_class: CaseClass
    promised_days: Annotated[int, Field(ge=1, le=365)] | None = None
    missing_materials: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=20)] = []
    next_department: Annotated[str, Field(max_length=200)] | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None
    agent_name: Annotated[str, Field(max_length=64)] | None = None
    # The citizen's phone, optional (for telling them the result is ready); shown masked, never public.
    contact_phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{5,18}[0-9]$")] | None = None


class TransferBody(Body):
    to_window: Annotated[int, Field(ge=1, le=999)] | None = None
    to_category: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")] | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None


class TicketOut(BaseModel):
    id: int
    number: str
    category: str
    item_id: str | None
    priority: Priority
    state: str
    window: int | None
    recalls: int
    issued_at: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None


class ActionResult(BaseModel):
    window: WindowView
    ticket: TicketOut | None = None
    due_date: dt.date | None = None
    due_provisional: bool = False  # the due date was counted past the calendar's last year (weekends only)
    case_code: str | None = None  # finish: the code of the visit's case (办件编号), for the citizen's notice


class WaitingTicket(BaseModel):
    number: str
    category: str
    priority: Priority
    transferred: bool
    waited_s: int


class WindowDesk(BaseModel):
    window: WindowView
    waiting: list[WaitingTicket]


def ticket_out(ticket: LiveTicket) -> TicketOut:
    return TicketOut(
        id=ticket.id,
        number=ticket.number,
        category=ticket.category,
        item_id=ticket.item_id,
        priority=ticket.priority,
        state=ticket.state.value,
        window=ticket.window,
        recalls=ticket.recalls,
        issued_at=from_us(ticket.issued_at),
        called_at=from_us(ticket.called_at) if ticket.called_at else None,
        started_at=from_us(ticket.started_at) if ticket.started_at else None,
    )


def _result(tx: Tx, number: int, ticket: LiveTicket | None, due: dt.date | None = None) -> ActionResult:
    provisional = due is not None and tx.rt.day is not None and tx.calendar.provisional(tx.rt.day, due)
    return ActionResult(
        window=window_view(tx.rt, number),
        ticket=ticket_out(ticket) if ticket else None,
        due_date=due,
        due_provisional=provisional,
    )


def desk(tx: Tx, number: int) -> WindowDesk:
    """A window with the tickets waiting for it, in the order routing would call them."""
    rt: HallRuntime = tx.rt
    config_window = rt.hall.window(number)
    waits = estimates(rt)
    waiting = [
        t for t in rt.tickets.values()
        if t.id in waits and (t.target_window == number or (t.target_window is None and t.category in
                                                            config_window.categories))
    ]  # fmt: skip
    # As routing calls them: those sent to this window, then priority by age, then ordinary by category order.
    rank = {category: i for i, category in reversed(list(enumerate(config_window.categories)))}

    def call_order(t: LiveTicket) -> tuple[int, int, int, int]:
        if t.target_window == number:
            return (0, 0, t.queue_key, t.id)
        if t.priority is not Priority.ORDINARY:
            return (1, 0, t.queue_key, t.id)
        return (2, rank[t.category], t.queue_key, t.id)

    waiting.sort(key=call_order)
    return WindowDesk(
        window=window_view(rt, number),
        waiting=[
            WaitingTicket(
                number=t.number,
                category=t.category,
                priority=t.priority,
                transferred=t.target_window is not None or t.state.value == "transferred",
                waited_s=max(0, (tx.now_us - t.issued_at) // 1_000_000),
            )
            for t in waiting
        ],
    )


@router.get("", response_model=list[WindowDesk])
async def all_windows(hall: HallDep, state: State, staff: StaffDep) -> list[WindowDesk]:
    """Every window with the tickets waiting for it (staff only)."""
    return await state.store.run(hall.id, lambda tx: [desk(tx, w.number) for w in hall.windows])


@router.post("/{window}/open", response_model=ActionResult)
async def open_window(hall: HallDep, state: State, staff: StaffDep, window: WindowNumber, body: OpenBody) -> Any:
    def act(tx: Tx) -> ActionResult:
        actions.open_window(tx, window, staff, Post(body.post))
        return _result(tx, window, None)

    return await state.store.run(hall.id, act)


@router.post("/{window}/call-next", response_model=ActionResult, responses={204: {"description": "nobody waits"}})
async def call_next(hall: HallDep, state: State, staff: WindowActorDep, window: WindowNumber) -> Any:
    def act(tx: Tx) -> ActionResult | None:
        ticket = actions.call_next(tx, window, staff)
        return _result(tx, window, ticket) if ticket else None

    result = await state.store.run(hall.id, act)
    return result if result is not None else Response(status_code=204)


@router.post("/{window}/call", response_model=ActionResult)
async def call(hall: HallDep, state: State, staff: StaffDep, window: WindowNumber, body: CallBody) -> Any:
    """Call a specific number out of order; the reason goes into the audit trail."""
    return await state.store.run(
        hall.id, lambda tx: _result(tx, window, actions.call_number(tx, window, staff, body.number, body.reason))
    )


@router.post("/{window}/recall", response_model=ActionResult)
async def recall(hall: HallDep, state: State, staff: WindowActorDep, window: WindowNumber) -> Any:
    return await state.store.run(hall.id, lambda tx: _result(tx, window, actions.recall(tx, window, staff)))


@router.post("/{window}/start", response_model=ActionResult)
async def start(hall: HallDep, state: State, staff: WindowActorDep, window: WindowNumber) -> Any:
    return await state.store.run(hall.id, lambda tx: _result(tx, window, actions.start(tx, window, staff)))


@router.post("/{window}/finish", response_model=ActionResult)
async def finish(hall: HallDep, state: State, staff: WindowActorDep, window: WindowNumber, body: FinishBody) -> Any:
    """Finish the ticket being served with its case class; a promised case gets its due date."""
    request = actions.FinishRequest(
        case_class=body.case_class,
        promised_days=body.promised_days,
        missing_materials=tuple(body.missing_materials),
        next_department=body.next_department,
        reason=body.reason,
        agent_name=body.agent_name,
        contact_phone=body.contact_phone,
    )

    def act(tx: Tx) -> ActionResult:
        ticket, details, code = actions.finish(tx, window, staff, request)
        return _result(tx, window, ticket, details.due_date).model_copy(update={"case_code": code})

    return await state.store.run(hall.id, act)


@router.post("/{window}/no-show", response_model=ActionResult)
async def no_show(hall: HallDep, state: State, staff: StaffDep, window: WindowNumber) -> Any:
    return await state.store.run(hall.id, lambda tx: _result(tx, window, actions.no_show(tx, window, staff)))


@router.post("/{window}/transfer", response_model=ActionResult)
async def transfer(hall: HallDep, state: State, staff: StaffDep, window: WindowNumber, body: TransferBody) -> Any:
    return await state.store.run(
        hall.id,
        lambda tx: _result(
            tx, window, actions.transfer(tx, window, staff, body.to_window, body.to_category, body.reason)
        ),
    )


@router.post("/{window}/pause", response_model=ActionResult)
async def pause(hall: HallDep, state: State, staff: WindowActorDep, window: WindowNumber, body: ReasonBody) -> Any:
    return await state.store.run(
        hall.id, lambda tx: (actions.pause(tx, window, staff, body.reason), _result(tx, window, None))[1]
    )


@router.post("/{window}/resume", response_model=ActionResult)
async def resume(hall: HallDep, state: State, staff: WindowActorDep, window: WindowNumber) -> Any:
    return await state.store.run(hall.id, lambda tx: (actions.resume(tx, window, staff), _result(tx, window, None))[1])


@router.post("/{window}/close", response_model=ActionResult)
async def close(hall: HallDep, state: State, staff: StaffDep, window: WindowNumber) -> Any:
    return await state.store.run(
        hall.id, lambda tx: (actions.close_window(tx, window, staff), _result(tx, window, None))[1]
    )
