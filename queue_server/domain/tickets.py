"""A ticket's life: its states, the one table of allowed transitions, priorities, case classes and finish details."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from queue_server.domain.errors import IllegalTransition, InvalidFinish, RecallLimit

__all__ = [
    "CALLABLE",
    "EXPIRE_AT_DAY_CLOSE",
    "MAX_MATERIALS",
    "MAX_TEXT",
    "TRANSITIONS",
    "CaseClass",
    "FinishDetails",
    "Priority",
    "TicketState",
    "check_recall",
    "check_transition",
    "validate_finish",
]


class TicketState(StrEnum):
    """Where a ticket is in its life; the value is what the store and the API carry."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    EXPIRED = "expired"

    @property
    def label_zh(self) -> str:
        return _TICKET_STATE_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _TICKET_STATE_TEXT[self][1]

    @property
    def become_zh(self) -> str:
        """The Chinese verb phrase for moving into this state, used in error messages ("不能被叫号")."""
        return _TICKET_STATE_TEXT[self][2]


# state: (label_zh, label_en, become_zh)
_TICKET_STATE_TEXT: Mapping[TicketState, tuple[str, str, str]] = MappingProxyType(
    {
        TicketState.WAITING: ("等候中", "waiting", "回到等候"),
        TicketState.CALLED: ("已叫号", "called", "被叫号"),
        TicketState.SERVING: ("办理中", "serving", "开始办理"),
        TicketState.FINISHED: ("已办结", "finished", "办结"),
        TicketState.NO_SHOW: ("过号", "no-show", "记为过号"),
        TicketState.TRANSFERRED: ("已转移", "transferred", "转移"),
        TicketState.EXPIRED: ("已过期", "expired", "作废过期"),
    }
)

_S = TicketState

#: The one table of allowed ticket moves. Anything not listed here raises IllegalTransition.
TRANSITIONS: Mapping[TicketState, frozenset[TicketState]] = MappingProxyType(
    {
        _S.WAITING: frozenset({_S.CALLED, _S.TRANSFERRED, _S.EXPIRED}),
        # CALLED -> CALLED is a recall; CALLED -> WAITING returns the ticket when its window closes.
        _S.CALLED: frozenset({_S.CALLED, _S.SERVING, _S.NO_SHOW, _S.TRANSFERRED, _S.WAITING, _S.EXPIRED}),
        # A ticket being served is never expired at day close: the clerk must finish (or transfer) it.
        _S.SERVING: frozenset({_S.FINISHED, _S.TRANSFERRED}),
        # A transferred ticket waits at its new target (a window or a category) until it is called.
        _S.TRANSFERRED: frozenset({_S.CALLED, _S.TRANSFERRED, _S.EXPIRED}),
        # A no-show can be re-queued at the kiosk the same day.
        _S.NO_SHOW: frozenset({_S.WAITING, _S.EXPIRED}),
        _S.FINISHED: frozenset(),
        _S.EXPIRED: frozenset(),
    }
)

#: States a window may call a ticket from.
CALLABLE: frozenset[TicketState] = frozenset({_S.WAITING, _S.TRANSFERRED})

#: States the day-close job expires. SERVING is left alone: the clerk must finish it.
EXPIRE_AT_DAY_CLOSE: frozenset[TicketState] = frozenset({_S.WAITING, _S.TRANSFERRED, _S.NO_SHOW, _S.CALLED})


def check_transition(current: TicketState, target: TicketState) -> None:
    """Raise IllegalTransition unless `current -> target` is in TRANSITIONS."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)


def check_recall(recalls_so_far: int, limit: int) -> int:
    """Return the recall count after one more recall, or raise RecallLimit when `limit` recalls were already made."""
    if recalls_so_far < 0 or limit < 0:
        raise ValueError(f"recall counts cannot be negative (recalls_so_far={recalls_so_far}, limit={limit})")
    if recalls_so_far >= limit:
        raise RecallLimit(
            f"this ticket has already been recalled {recalls_so_far} times (the limit is {limit}):"
            f" mark it as a no-show instead (已重复叫号{recalls_so_far}次，达到上限，请按过号处理)",
            limit=limit,
        )
    return recalls_so_far + 1


def no_show_due(last_called_at: int | None, recalls: int, recall_limit: int, after_s: int) -> int | None:
    """When a called ticket becomes a no-show by itself (µs), or None: not before the clerk's last allowed recall.

    `last_called_at` is the time of the last call or recall; `after_s` 0 turns the rule off.
    """
    if after_s <= 0 or last_called_at is None or recalls < recall_limit:
        return None
    return last_called_at + after_s * 1_000_000


class Priority(StrEnum):
    """How a ticket queues: ordinary, green channel (绿色通道) or appointment (预约)."""

    ORDINARY = "ordinary"
    GREEN = "green"
    APPOINTMENT = "appointment"

    @property
    def label_zh(self) -> str:
        return _PRIORITY_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _PRIORITY_TEXT[self][1]


_PRIORITY_TEXT: Mapping[Priority, tuple[str, str]] = MappingProxyType(
    {
        Priority.ORDINARY: ("普通", "ordinary"),
        Priority.GREEN: ("绿色通道", "green channel"),
        Priority.APPOINTMENT: ("预约", "appointment"),
    }
)


class CaseClass(StrEnum):
    """The case class (六件管理) a clerk gives each finished visit."""

    IMMEDIATE = "immediate"
    PROMISED = "promised"
    SUPPLEMENT = "supplement"
    JOINT = "joint"
    RETURNED = "returned"
    AGENT = "agent"

    @property
    def label_zh(self) -> str:
        return _CASE_CLASS_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _CASE_CLASS_TEXT[self][1]


_CASE_CLASS_TEXT: Mapping[CaseClass, tuple[str, str]] = MappingProxyType(
    {
        CaseClass.IMMEDIATE: ("即办件", "done on the spot"),
        CaseClass.PROMISED: ("承诺件", "promised by a due date"),
        CaseClass.SUPPLEMENT: ("补办件", "materials missing"),
        CaseClass.JOINT: ("联办件", "joint with other departments"),
        CaseClass.RETURNED: ("退回件", "returned"),
        CaseClass.AGENT: ("代理件", "handled by an agent"),
    }
)

#: Longest accepted free text (a reason, a name, one material), in characters after stripping.
MAX_TEXT = 200
#: Most missing materials one finish may list.
MAX_MATERIALS = 20

# field name -> (label_en, label_zh), for messages
_FIELD_TEXT: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "due_date": ("a due date", "承诺办结日期"),
        "missing_materials": ("the missing materials", "缺少的材料"),
        "next_department": ("the next department", "联办部门"),
        "reason": ("a reason", "退回原因"),
        "agent_name": ("the agent's name", "代办人姓名"),
    }
)

#: The one field each case class requires; every other field must be left empty.
_REQUIRED_FIELD: Mapping[CaseClass, str | None] = MappingProxyType(
    {
        CaseClass.IMMEDIATE: None,
        CaseClass.PROMISED: "due_date",
        CaseClass.SUPPLEMENT: "missing_materials",
        CaseClass.JOINT: "next_department",
        CaseClass.RETURNED: "reason",
        CaseClass.AGENT: "agent_name",
    }
)


@dataclass(frozen=True)
class FinishDetails:
    """The validated details of a finished visit; only the field its case class needs is set."""

    case_class: CaseClass
    due_date: date | None
    missing_materials: tuple[str, ...]
    next_department: str | None
    reason: str | None
    agent_name: str | None


def _clean_text(field: str, value: str | None) -> str | None:
    """Strip `value`; empty means missing; refuse control characters and text longer than MAX_TEXT."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidFinish(f"{field} must be text, not {type(value).__name__} ({field} 应为文字)")
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise InvalidFinish(f"{field} is longer than {MAX_TEXT} characters ({field} 不能超过{MAX_TEXT}个字)")
    # A newline or tab in a name would break the printed receipt and the board's one-line layouts.
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidFinish(f"{field} contains control characters such as line breaks ({field} 不能包含换行等控制字符)")
    return text


def _clean_materials(value: Iterable[str]) -> tuple[str, ...]:
    """Strip each material, drop blank rows and exact repeats (first kept), bound the count."""
    if isinstance(value, str | bytes):
        # A lone string would otherwise be read as one material per character.
        raise InvalidFinish("missing_materials must be a list of materials, not one string (缺少的材料应逐项列出)")
    cleaned: list[str] = []
    for item in value:
        text = _clean_text("missing_materials", item)
        if text is not None and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_MATERIALS:
        raise InvalidFinish(
            f"at most {MAX_MATERIALS} missing materials can be listed, got {len(cleaned)}"
            f" (缺少的材料最多列{MAX_MATERIALS}项)"
        )
    return tuple(cleaned)


def validate_finish(
    case_class: CaseClass | str,
    *,
    due_date: date | None = None,
    missing_materials: Iterable[str] = (),
    next_department: str | None = None,
    reason: str | None = None,
    agent_name: str | None = None,
) -> FinishDetails:
    """Check and normalise what a clerk gives when finishing a visit, raising InvalidFinish with a clear message.

    Each case class needs exactly one detail (PROMISED a due date, SUPPLEMENT at least one missing material,
    JOINT the next department, RETURNED a reason, AGENT the agent's name; IMMEDIATE none) and refuses the
    others. Text is stripped and an empty string counts as missing. Whether the due date is a working day in
    the future is the service's check: it needs the clock and the hall's calendar.
    """
    try:
        cls = CaseClass(case_class)
    except ValueError:
        known = ", ".join(c.value for c in CaseClass)
        raise InvalidFinish(f"unknown case class {case_class!r}: expected one of {known} (办件类型无效)") from None
    if due_date is not None and (isinstance(due_date, datetime) or not isinstance(due_date, date)):
        raise InvalidFinish(f"due_date must be a calendar date, not {type(due_date).__name__} (承诺办结日期应为日期)")
    materials = _clean_materials(missing_materials)
    department = _clean_text("next_department", next_department)
    why = _clean_text("reason", reason)
    agent = _clean_text("agent_name", agent_name)
    given: dict[str, object] = {
        "due_date": due_date,
        "missing_materials": materials or None,
        "next_department": department,
        "reason": why,
        "agent_name": agent,
    }
    required = _REQUIRED_FIELD[cls]
    if required is not None and given[required] is None:
        en, zh = _FIELD_TEXT[required]
        raise InvalidFinish(f"case class {cls.value} ({cls.label_en}) needs {en} ({cls.label_zh}须填写{zh})")
    extra = [name for name, value in given.items() if value is not None and name != required]
    if extra:
        names_en = ", ".join(extra)
        names_zh = "、".join(_FIELD_TEXT[name][1] for name in extra)
        raise InvalidFinish(
            f"case class {cls.value} ({cls.label_en}) does not take {names_en} ({cls.label_zh}不应填写{names_zh})"
        )
    return FinishDetails(
        case_class=cls,
        due_date=due_date,
        missing_materials=materials,
        next_department=department,
        reason=why,
        agent_name=agent,
    )
