"""投诉举报: a complaint's states and the one table of its moves, its categories, the contact's mask, lateness.

A complaint is open when filed, handling once the hall manager takes it up, answered when the answer is
written (open → answered directly is allowed: a short matter needs no handling step). It is due
`answer_working_days` working days after the day it was filed; answered after that day it is late, and an
open or handling complaint is overdue (逾期) from the day after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from queue_server.domain.errors import DomainError


class ComplaintState(StrEnum):
    OPEN = "open"
    HANDLING = "handling"
    ANSWERED = "answered"

    @property
    def label_zh(self) -> str:
        return {"open": "已受理", "handling": "处理中", "answered": "已答复"}[self.value]

    @property
    def label_en(self) -> str:
        return {"open": "received", "handling": "being handled", "answered": "answered"}[self.value]


#: The one table of a complaint's moves.
TRANSITIONS: Mapping[ComplaintState, frozenset[ComplaintState]] = MappingProxyType(
    {
        ComplaintState.OPEN: frozenset({ComplaintState.HANDLING, ComplaintState.ANSWERED}),
        ComplaintState.HANDLING: frozenset({ComplaintState.ANSWERED}),
        ComplaintState.ANSWERED: frozenset(),
    }
)

#: category: (中文, English). 投诉 is about the service, 举报 about misconduct (fees, favours).
CATEGORIES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "attitude": ("服务态度", "attitude of the staff"),
        "efficiency": ("办事效率、拖延推诿", "slow handling, passing the buck"),
        "rules": ("未按规定办理、一次性告知不到位", "not handled by the rules, incomplete notice"),
        "fees": ("乱收费（举报）", "improper fees (report)"),
        "integrity": ("吃拿卡要、优亲厚友（举报）", "favours or bribes asked (report)"),
        "environment": ("大厅环境、设施", "hall facilities"),
        "other": ("其他", "other"),
    }
)


class ComplaintMoveRefused(DomainError):
    """A move that is not in TRANSITIONS."""

    code = "illegal_transition"

    def __init__(self, current: ComplaintState, target: ComplaintState) -> None:
        super().__init__(
            f"a complaint that is {current.label_en} cannot become {target.label_en}"
            f" (投诉{current.label_zh}，不能改为{target.label_zh})"
        )
        self.current, self.target = current, target


def check_move(current: ComplaintState, target: ComplaintState) -> None:
    """Raise ComplaintMoveRefused unless current → target is in the table."""
    if target not in TRANSITIONS[current]:
        raise ComplaintMoveRefused(current, target)


def mask_contact(contact: str) -> str:
    """A phone number as the screens show it: its first 3 and last 4 digits, the rest starred (139****1234).

    Short numbers keep only their last 2 digits. Anything that is not a digit is dropped first.
    """
    digits = "".join(c for c in contact if c.isdigit())
    if len(digits) >= 11:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def is_late(due_on: dt.date, answered_on: dt.date) -> bool:
    """Answered after its due day."""
    return answered_on > due_on


def is_overdue(state: ComplaintState, due_on: dt.date, today: dt.date) -> bool:
    """Not answered yet and its due day has passed."""
    return state is not ComplaintState.ANSWERED and today > due_on
