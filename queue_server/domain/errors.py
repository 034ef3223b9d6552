"""Domain errors: each has a stable machine `code` and a human message (English, then Chinese) as str(e)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # only for annotations: tickets and windows import this module
    from queue_server.domain.tickets import TicketState
    from queue_server.domain.windows import WindowState

__all__ = [
    "CategoryFull",
    "DomainError",
    "IllegalTransition",
    "InvalidFinish",
    "RecallLimit",
    "WindowStateError",
]


class DomainError(Exception):
    """A request the queue's rules refuse; `code` is what the API returns, str(e) what a person reads."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class IllegalTransition(DomainError):
    """A ticket move that is not in `tickets.TRANSITIONS`."""

    code: ClassVar[str] = "illegal_transition"

    def __init__(self, current: TicketState, target: TicketState) -> None:
        self.current = current
        self.target = target
        if current == target:
            # Doing the same thing twice (finishing twice, expiring twice) gets its own wording.
            message = (
                f"the ticket is already {current.label_en}: it cannot become {target.label_en} again"
                f" (该票已是「{current.label_zh}」，不能重复{target.become_zh})"
            )
        else:
            message = (
                f"a ticket that is {current.label_en} cannot become {target.label_en}"
                f" ({current.label_zh}的票不能{target.become_zh})"
            )
        super().__init__(message)


class CategoryFull(DomainError):
    """The category's daily ticket cap is reached."""

    code: ClassVar[str] = "category_full"

    def __init__(self, category: str, cap: int) -> None:
        self.category = category
        self.cap = cap
        super().__init__(
            f"the daily cap of {cap} tickets for category {category} is reached: please come back the next"
            f" working day (今日该类业务号已取完（每日限{cap}个），请下一个工作日再来)"
        )


class WindowStateError(DomainError):
    """A window action that the window's current state does not accept (or a window that is not yours)."""

    code: ClassVar[str] = "window_state"

    def __init__(self, message: str, *, action: str | None = None, state: WindowState | None = None) -> None:
        self.action = action
        self.state = state
        super().__init__(message)


class InvalidFinish(DomainError):
    """Finish details that do not fit the chosen case class (六件管理)."""

    code: ClassVar[str] = "invalid_finish"


class RecallLimit(DomainError):
    """A called ticket has been recalled as often as the hall allows."""

    code: ClassVar[str] = "recall_limit"

    def __init__(self, message: str, *, limit: int | None = None) -> None:
        self.limit = limit
        super().__init__(message)
