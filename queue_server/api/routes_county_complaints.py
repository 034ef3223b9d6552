"""The county's view of complaints (投诉举报) in every hall of the county, from each hall's event log.

`GET /api/v1/counties/{county}/complaints?period=month&date=...`: each hall's complaints filed in the
period (category, window, filed and due days, state, answered day, late or overdue) and their figures.
A township's come from its shipped events, exactly as its own reports count them. The county sees no
complaint's text, answer, code or contact: those stay in the hall (queue_server/services/complaints.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from queue_server.api.deps import State
from queue_server.api.params import EARLIEST, LATEST, ReportDate
from queue_server.api.routes_county import REPORT_ERRORS, CountyDep, CountyStaffDep, county_halls
from queue_server.api.routes_reports import local_today
from queue_server.errors import BadRequest
from queue_server.reports.complaints import ComplaintFact, ComplaintFigures, figures_of, read_facts
from queue_server.reports.periods import Period, PeriodKind

router = APIRouter(prefix="/api/v1/counties/{county}", tags=["county"])


class HallComplaints(BaseModel):
    model_config = ConfigDict(frozen=True)

    hall: str
    name_zh: str
    name_en: str
    figures: ComplaintFigures
    complaints: list[ComplaintFact]


class CountyComplaints(BaseModel):
    model_config = ConfigDict(frozen=True)

    county: str
    period: str
    start: dt.date
    end: dt.date
    label_zh: str
    totals: ComplaintFigures
    halls: list[HallComplaints]


@router.get("/complaints", response_model=CountyComplaints, responses=REPORT_ERRORS)
async def county_complaints(
    staff: CountyStaffDep,
    county: CountyDep,
    state: State,
    period: Annotated[PeriodKind, Query(description="day, week, month or year")] = PeriodKind.MONTH,
    date: Annotated[ReportDate | None, Query(description="a day in the period (default: today)")] = None,
) -> CountyComplaints:
    """Every hall's complaints of the period, with how many were answered on time, late, or are overdue."""
    halls = county_halls(state)
    today = local_today(halls[0], state.store.clock())
    day = date or today
    if not EARLIEST <= day <= LATEST:
        raise BadRequest(f"date must be between {EARLIEST} and {LATEST} (日期超出范围)")
    chosen = Period.of(period, day)

    def read(conn: Connection) -> list[HallComplaints]:
        rows = []
        for hall in halls:
            facts = read_facts(conn, hall.id, ZoneInfo(hall.timezone), chosen, local_today(hall, state.store.clock()))
            rows.append(HallComplaints(hall=hall.id, name_zh=hall.name_zh, name_en=hall.name_en,
                                       figures=figures_of(facts), complaints=facts))  # fmt: skip
        return rows

    per_hall = await state.store.read(read)
    return CountyComplaints(
        county=county.id,
        period=chosen.kind.value,
        start=chosen.start,
        end=chosen.last,
        label_zh=chosen.label_zh,
        totals=figures_of(f for h in per_hall for f in h.complaints),
        halls=per_hall,
    )
