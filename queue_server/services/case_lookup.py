"""The public case lookup (办件进度查询, /q/{hall}): a case's progress by its code, with no personal data.

Anyone holding the code (printed on the receipt or the supplement notice) reads the state (受理 / 办理中 /
办结 / 退回 / 不予受理, or 逾期 when an open case's due date has passed), the due date, the item, and the window
and department handling it. Never the citizen's phone or name, the clerk, the agent, the ticket number or
the reasons typed by staff: those stay on the staff's view (services/cases.py `CaseRecord`).

A code of another hall is simply not found in this one: the answer does not say whether it exists elsewhere.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from config.schema import Hall
from queue_server.domain.cases import CaseState
from queue_server.domain.workdays import WorkCalendar
from queue_server.protocol import PublicCase
from queue_server.services.cases import case_row, record_of

NOT_FOUND = (
    "没有查到该办件编号，请核对回执上的编号后重试 (no case with this code in this hall: check the code on your receipt)"
)


def public_case(conn: Connection, hall: Hall, code: str, today: dt.date, calendar: WorkCalendar) -> PublicCase | None:
    """The case of `code` (normalised) in `hall`, as the public sees it; None when the hall has none."""
    row = case_row(conn, hall.id, code)
    if row is None:
        return None
    record = record_of(row, hall, today, calendar)
    window = next((w for w in hall.windows if w.number == record.window), None)
    item = next((i for i in hall.items if i.id == record.item_id), None)
    return PublicCase(
        code=record.code,
        hall=hall.id,
        item_name_zh=record.item_name_zh,
        item_name_en=record.item_name_en,
        class_zh=record.class_zh,
        state=record.state,
        state_zh=record.state_zh,
        state_en="overdue" if record.overdue else record.state.label_en,
        overdue=record.overdue,
        opened_day=record.opened_day,
        due_on=record.due_on,
        due_provisional=record.due_provisional,
        closed_day=record.closed_day,
        window=record.window,
        window_name_zh=window.name_zh if window else None,
        window_name_en=window.name_en if window else None,
        department=record.department or (item.department if item else None),
        result_zh=record.result_zh,
        missing_materials=record.missing_materials if record.state is CaseState.ACCEPTED else [],
    )
