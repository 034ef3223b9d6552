"""Village agent points (村级代办点): the agent's phone page `/agent/{hall}` and its API.

An agent (role `agent`, bound to one point of one hall) takes cases for villagers (代理件 in the hall's ledger,
no ticket), follows its point's cases (states, due dates, results, 补办 requests with what is missing), brings
the missing materials, and records handing the result back. Nobody else uses these routes: a clerk or
manager sees the agents' cases in the ledger (`/cases`, the desk); an agent sees nothing else of the hall.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from config.schema import AgentPoint
from queue_server.api.deps import AgentDep, HallDep, State
from queue_server.api.routes_cases import ACTION, STAFF, CodePath
from queue_server.api.routes_console import page_html
from queue_server.api.routes_reports import local_today
from queue_server.domain.cases import normalise_code
from queue_server.errors import NotFound
from queue_server.services import agent_cases
from queue_server.services.agent_cases import ResubmitBody, TakeBody
from queue_server.services.cases import CaseRecord
from queue_server.store.writer import to_us

router = APIRouter(tags=["agent"])
API = "/api/v1/halls/{hall}/agent"
AGENT: dict[int | str, dict[str, Any]] = {
    **STAFF,
    403: {"description": "not a village agent of the hall (a clerk, a manager, another hall's agent, a device)"},
    404: {"description": "no such hall, or no such case at the agent's point"},
}
AGENT_ACTION: dict[int | str, dict[str, Any]] = {
    **ACTION,
    **AGENT,
    400: {"description": "a material index the item does not have, or not every missing material ticked"},
    409: {"description": "the case is not in a state for this (no 补办 asked, not completed, handed back already)"},
}


@router.get("/agent/{hall}", response_class=HTMLResponse, responses={404: {"description": "no such hall"}})
async def agent_page(hall: HallDep) -> HTMLResponse:
    """The village agent's page (村级代办, phone-sized): log in, take a case, follow the point's cases."""
    config = {"kind": "agent", "hall": hall.id, "name_zh": hall.name_zh, "name_en": hall.name_en,
              "timezone": hall.timezone, "api": f"/api/v1/halls/{hall.id}",
              "ws_path": f"/ws/halls/{hall.id}/board"}  # fmt: skip
    return page_html("agent", config)


class AgentDesk(BaseModel):
    """Who I am, my point, and the point's cases (newest first)."""

    username: str
    display_name: str
    point: AgentPoint
    cases: list[CaseRecord]


def _code(text: str) -> str:
    code = normalise_code(text)
    if code is None:
        raise NotFound("no case of your agent point with this code (本代办点没有该办件)")
    return code


@router.get(API + "/desk", response_model=AgentDesk, responses=AGENT)
async def desk(hall: HallDep, state: State, agent: AgentDep) -> AgentDesk:
    """My point and its cases: state, due date, result, 补办 requests with the missing materials."""
    point = agent_cases.point_of(hall, agent)
    now = state.store.clock()
    today, now_us, calendar = local_today(hall, now), to_us(now), state.store.calendar
    found = await state.store.read(lambda conn: agent_cases.point_cases(conn, hall, point.id, today, calendar, now_us))
    return AgentDesk(username=agent.username, display_name=agent.display_name, point=point, cases=found)


TAKE: dict[int | str, dict[str, Any]] = {
    **AGENT,
    400: {"description": "a material index the item does not have"},
    404: {"description": "no such hall or service item (or the agent's point is no longer configured)"},
    422: {"description": "a field is missing, too long or not allowed (a name of letters only; consent must be true)"},
}


@router.post(API + "/cases", response_model=CaseRecord, status_code=201, responses=TAKE)
async def take(hall: HallDep, state: State, agent: AgentDep, body: TakeBody) -> CaseRecord:
    """受理 a case for a villager (代理件): the item, the materials collected, the name and phone (with consent)."""
    return await state.store.run(hall.id, lambda tx: agent_cases.take(tx, agent, body))


@router.get(API + "/cases/{code}", response_model=CaseRecord, responses=AGENT)
async def get_case(hall: HallDep, state: State, agent: AgentDep, code: CodePath) -> CaseRecord:
    """One case of my point by its code."""
    wanted, today, point = _code(code), local_today(hall, state.store.clock()), agent.point or ""
    return await state.store.read(
        lambda conn: agent_cases.point_case(conn, hall, point, wanted, today, state.store.calendar)
    )


@router.post(API + "/cases/{code}/resubmit", response_model=CaseRecord, responses=AGENT_ACTION)
async def resubmit(hall: HallDep, state: State, agent: AgentDep, code: CodePath, body: ResubmitBody) -> CaseRecord:
    """补办: the materials the clerk asked for are brought (each ticked); the case moves on and its clock restarts."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: agent_cases.resubmit(tx, agent, wanted, body))


@router.post(API + "/cases/{code}/handed-back", response_model=CaseRecord, responses=AGENT_ACTION)
async def handed_back(hall: HallDep, state: State, agent: AgentDep, code: CodePath) -> CaseRecord:
    """The result of a completed case was handed to the villager (recorded in the audit trail)."""
    wanted = _code(code)
    return await state.store.run(hall.id, lambda tx: agent_cases.hand_back(tx, agent, wanted))
