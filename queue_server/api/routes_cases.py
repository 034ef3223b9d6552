"""The case ledger (办件): the clerk's desk of cases and its actions; the kiosk's 补办 return visit.

Staff of the hall read and act (services/case_actions.py says who may act on which case); a kiosk
links a return visit to a 补办件 by the code on its supplement notice (typed, or its QR scanned).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from pydantic import BaseModel

from queue_server.api.deps import HallDep, KioskCallDep, StaffDep, State, SupervisorDep
from queue_server.api.routes_reports import local_today
from queue_server.api.routes_tickets import KEY_PATTERN
from queue_server.domain.cases import normalise_code
from queue_server.errors import BadRequest, NotFound
from queue_server.protocol import IssuedTicket, IssueRequest
from queue_server.services import case_actions, issuing
from queue_server.services.case_actions import (
    CloseBody,
    CompleteBody,
    DeskCases,
    ExtendBody,
    HandBody,
    LinkBody,
    SupplementBody,
)
from queue_server.services.cases import CaseRecord, case_by_code, case_row, record_of
from queue_server.store.writer import Tx, to_us

router = APIRouter(prefix="/api/v1/halls/{hall}/cases", tags=["cases"])
CodePath = Annotated[str, Path(pattern=r"^[0-9A-Za-z-]{1,24}$", description="the case code (办件编号)")]
STAFF: dict[int | str, dict[str, Any]] = {
    401: {"description": "not logged in"},
    403: {"description": "another hall's account, or a device token"},
    404: {"description": "no such hall or case"},
}
ACTION: dict[int | str, dict[str, Any]] = {
    **STAFF,
    403: {"description": "not the case's handler, another hall's account, or a device token"},
    409: {"description": "the case is closed (or has no due date to extend)"},
    422: {"description": "a field is missing, too long, or not allowed"},
}


def _code(text: str) -> str:
    code = normalise_code(text)
    if code is None:
        raise NotFound("no case with this code (没有该办件编号)")
    return code


@router.get("/desk", response_model=DeskCases, responses=STAFF)
async def desk(hall: HallDep, state: State, staff: StaffDep) -> DeskCases:
    """My open cases (handled by me or at the window I hold), those due today and those overdue (逾期)."""

    def held(tx: Tx) -> tuple[int | None, Any, int]:
        window = next((w.number for w in tx.rt.windows.values() if w.clerk == staff.username), None)
        return window, tx.rt.day or local_today(hall, tx.now), tx.now_us

    window, today, now_us = await state.store.run(hall.id, held)
    calendar = state.store.calendar
    return await state.store.read(
        lambda conn: case_actions.desk_cases(conn, hall, staff, window, today, calendar, now_us)
    )


class CaseList(BaseModel):
    cases: list[CaseRecord]


@router.get(
    "",
    response_model=CaseList,
    responses={**STAFF, 403: {"description": "not a manager of the hall"}},
)
async def list_cases(
    hall: HallDep,
    state: State,
    _staff: SupervisorDep,
    view: Annotated[Literal["open", "overdue", "due_today"], Query()] = "open",
) -> CaseList:
    """The hall's open cases (oldest due first, at most 500), or only the overdue ones, or those due today."""
    now = state.store.clock()
    today, now_us, calendar = local_today(hall, now), to_us(now), state.store.calendar

    def read(conn: Any) -> CaseList:
        records = [record_of(r, hall, today, calendar, now_us) for r in case_actions.open_cases(conn, hall.id)]
        if view == "overdue":
            records = [r for r in records if r.overdue]
        elif view == "due_today":
            records = [r for r in records if r.due_today]
        return CaseList(cases=records)

    return await state.store.read(read)


@router.get("/{code}", response_model=CaseRecord, responses=STAFF)
async def get_case(hall: HallDep, state: State, _staff: StaffDep, code: CodePath) -> CaseRecord:
    """One case by its code: state, due date, handler, 联办 legs, extensions, return visits (the phone masked)."""
    wanted, today = _code(code), local_today(hall, state.store.clock())
    found = await state.store.read(lambda conn: case_by_code(conn, hall, wanted, today, state.store.calendar))
    if found is None:
        raise NotFound("no case with this code (没有该办件编号)")
    return found


@router.post("/{code}/complete", response_model=CaseRecord, responses=ACTION)
async def complete(hall: HallDep, state: State, staff: StaffDep, code: CodePath, body: CompleteBody) -> CaseRecord:
    """办结: mark the case completed with how the citizen gets the result (window, mail, village agent)."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: case_actions.complete(tx, wanted, staff, body))


@router.post("/{code}/extend", response_model=CaseRecord, responses=ACTION)
async def extend(hall: HallDep, state: State, staff: StaffDep, code: CodePath, body: ExtendBody) -> CaseRecord:
    """Extend the due date by 1–30 working days, with the reason (kept in the audit trail)."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: case_actions.extend(tx, wanted, staff, body))


@router.post("/{code}/hand", response_model=CaseRecord, responses=ACTION)
async def hand(hall: HallDep, state: State, staff: StaffDep, code: CodePath, body: HandBody) -> CaseRecord:
    """Hand the case to another window or a department: a new 联办 leg (who, when; it lasts until the next)."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: case_actions.hand(tx, wanted, staff, body))


@router.post("/{code}/close", response_model=CaseRecord, responses=ACTION)
async def close(hall: HallDep, state: State, staff: StaffDep, code: CodePath, body: CloseBody) -> CaseRecord:
    """退回 (returned) or 不予受理 (not accepted) an open case, with the reason."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: case_actions.close_unfinished(tx, wanted, staff, body))


@router.post("/{code}/supplement", response_model=CaseRecord, responses=ACTION)
async def supplement(hall: HallDep, state: State, staff: StaffDep, code: CodePath, body: SupplementBody) -> CaseRecord:
    """补办: ask for the missing materials (a village agent sees the request on its page); the clock stops until
    they are back."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: case_actions.request_supplement(tx, wanted, staff, body))


@router.post("/{code}/link", response_model=CaseRecord, responses=ACTION)
async def link(hall: HallDep, state: State, staff: StaffDep, code: CodePath, body: LinkBody) -> CaseRecord:
    """Link a ticket of today to the case: the citizen is back with the missing materials (补办)."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: case_actions.link_by_clerk(tx, wanted, staff, body))


class ReturnVisit(BaseModel):
    """The kiosk's answer: the new ticket, and what the citizen was asked to bring."""

    ticket: IssuedTicket
    item_name_zh: str | None
    missing_materials: list[str]


@router.post(
    "/{code}/return-visit",
    response_model=ReturnVisit,
    status_code=201,
    responses={
        400: {"description": "no Idempotency-Key"},
        401: {"description": "no device token"},
        403: {"description": "not a kiosk of the hall"},
        404: {"description": "no such hall or case"},
        409: {"description": "the case is closed"},
        422: {"description": "the same key with another case"},
    },
)
async def return_visit(
    kiosk: KioskCallDep, code: CodePath, idempotency_key: Annotated[str | None, Header(max_length=128)] = None
) -> ReturnVisit:
    """补办: the citizen typed the code of their supplement notice (or scanned its QR); a ticket for the case's
    item is issued and linked to the case, so the clerk who calls it sees what was missing."""
    if idempotency_key is None or not re.fullmatch(KEY_PATTERN, idempotency_key):
        raise BadRequest("an Idempotency-Key header (1–128 printable ASCII characters, no spaces) is required")
    wanted, key, device = _code(code), idempotency_key, kiosk.device.device

    def act(tx: Tx) -> ReturnVisit:
        row = case_row(tx.conn, tx.rt.hall.id, wanted)
        if row is None:
            raise NotFound("no case with this code (没有该办件编号)")
        request = IssueRequest(item_id=row.item_id) if row.item_id else IssueRequest(category=row.category)
        issued = issuing.issue_ticket(tx, request, device, key).ticket
        record = case_actions.link_visit(tx, wanted, issued.id, issued.number, "kiosk", device)
        return ReturnVisit(ticket=issued, item_name_zh=record.item_name_zh, missing_materials=record.missing_materials)

    return await kiosk.state.store.run(kiosk.hall.id, act)
