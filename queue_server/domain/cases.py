"""A case's life (办件): its states, the one table of allowed moves, 逾期, the public case code, the masked phone.

A ticket is one visit; a case is what the citizen came for, followed from 受理 to 办结 within its
promised working days. 逾期 (overdue) is not a stored state: an open case is overdue from the first
day after its due date (the hall's local day boundary), and stops being overdue only by being closed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar

from queue_server.domain.errors import DomainError

__all__ = [
    "CASE_TRANSITIONS",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_PATTERN",
    "OPEN_STATES",
    "CaseState",
    "IllegalCaseMove",
    "Pickup",
    "check_case_move",
    "is_overdue",
    "mask_phone",
    "new_case_code",
    "normalise_code",
]


class CaseState(StrEnum):
    """Where a case is; the value is what the store and the API carry."""

    ACCEPTED = "accepted"  # 受理
    IN_PROGRESS = "in_progress"  # 办理中
    COMPLETED = "completed"  # 办结
    RETURNED = "returned"  # 退回
    REJECTED = "rejected"  # 不予受理

    @property
    def label_zh(self) -> str:
        return _STATE_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _STATE_TEXT[self][1]


_STATE_TEXT: Mapping[CaseState, tuple[str, str]] = MappingProxyType(
    {
        CaseState.ACCEPTED: ("受理", "accepted"),
        CaseState.IN_PROGRESS: ("办理中", "in progress"),
        CaseState.COMPLETED: ("办结", "completed"),
        CaseState.RETURNED: ("退回", "returned"),
        CaseState.REJECTED: ("不予受理", "not accepted"),
    }
)

_C = CaseState
#: The one table of allowed case moves; IN_PROGRESS → IN_PROGRESS is a hand-over or a 补办 return visit.
CASE_TRANSITIONS: Mapping[CaseState, frozenset[CaseState]] = MappingProxyType(
    {
        _C.ACCEPTED: frozenset({_C.IN_PROGRESS, _C.COMPLETED, _C.RETURNED, _C.REJECTED}),
        _C.IN_PROGRESS: frozenset({_C.IN_PROGRESS, _C.COMPLETED, _C.RETURNED, _C.REJECTED}),
        _C.COMPLETED: frozenset(),
        _C.RETURNED: frozenset(),
        _C.REJECTED: frozenset(),
    }
)
OPEN_STATES: frozenset[CaseState] = frozenset({_C.ACCEPTED, _C.IN_PROGRESS})


class Pickup(StrEnum):
    """领取方式: how the citizen gets the result of a completed case."""

    WINDOW = "window"  # 窗口领取
    MAIL = "mail"  # 邮寄
    AGENT = "agent"  # 代办员转交

    @property
    def label_zh(self) -> str:
        return {"window": "窗口领取", "mail": "邮寄送达", "agent": "代办员转交"}[self.value]


class IllegalCaseMove(DomainError):
    """A case move that is not in CASE_TRANSITIONS."""

    code: ClassVar[str] = "illegal_case_move"

    def __init__(self, current: CaseState, target: CaseState) -> None:
        self.current, self.target = current, target
        super().__init__(
            f"a case that is {current.label_en} cannot become {target.label_en}"
            f" (「{current.label_zh}」的案件不能改为「{target.label_zh}」)"
        )


def check_case_move(current: CaseState, target: CaseState) -> None:
    """Raise IllegalCaseMove unless `current -> target` is in CASE_TRANSITIONS."""
    if target not in CASE_TRANSITIONS[current]:
        raise IllegalCaseMove(current, target)


def is_overdue(state: CaseState, due_on: date | None, today: date) -> bool:
    """逾期: an open case whose due date has passed (from the day after it, in the hall's local time)."""
    return state in OPEN_STATES and due_on is not None and today > due_on


#: No look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V): a code read aloud or typed from paper is typed right.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
CODE_LENGTH = 9  # 23^9 ≈ 1.8·10^12: a guess per second for a century finds one case of a 100k-case hall ~0.2%
CODE_PATTERN = f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$"
_CODE_RE = re.compile(CODE_PATTERN)


def new_case_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A random case code (CODE_LENGTH characters of CODE_ALPHABET); the caller retries on a clash."""
    return "".join(choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """A typed code as stored (upper case, spaces and dashes dropped), or None when it cannot be one."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if _CODE_RE.match(code) else None


def mask_phone(phone: str | None) -> str | None:
    """The phone as every screen shows it: the first 3 and last 4 digits (138****5678); short ones: last 2."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return f"****{digits[-2:]}" if digits else None
