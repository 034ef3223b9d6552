"""A complaint's one table of moves, every pair; the contact's mask; lateness at the day boundary."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from queue_server.domain.complaints import (
    TRANSITIONS,
    ComplaintMoveRefused,
    ComplaintState,
    check_move,
    is_late,
    is_overdue,
    mask_contact,
)

ALLOWED = {
    (ComplaintState.OPEN, ComplaintState.HANDLING),
    (ComplaintState.OPEN, ComplaintState.ANSWERED),
    (ComplaintState.HANDLING, ComplaintState.ANSWERED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ComplaintState, repeat=2)))
def test_every_move_is_allowed_or_refused_naming_both_states(current: ComplaintState, target: ComplaintState) -> None:
    assert (target in TRANSITIONS[current]) == ((current, target) in ALLOWED)
    if (current, target) in ALLOWED:
        check_move(current, target)
    else:
        with pytest.raises(ComplaintMoveRefused) as refused:
            check_move(current, target)
        assert current.label_zh in str(refused.value) and target.label_zh in str(refused.value)


@pytest.mark.parametrize(
    ("contact", "masked"),
    [("13900001234", "139****1234"), ("139 0000 1234", "139****1234"), ("+86 139-0000-1234", "861******1234"),
     ("0731-85623119", "073*****3119"), ("12345", "***45"), ("12", "**"), ("", "")],
)  # fmt: skip
def test_a_contact_keeps_only_its_ends(contact: str, masked: str) -> None:
    assert mask_contact(contact) == masked


def test_late_and_overdue_turn_at_the_end_of_the_due_day() -> None:
    due = dt.date(2026, 3, 23)
    assert not is_late(due, due) and is_late(due, due + dt.timedelta(days=1))
    assert not is_overdue(ComplaintState.OPEN, due, due)
    assert is_overdue(ComplaintState.HANDLING, due, due + dt.timedelta(days=1))
    assert not is_overdue(ComplaintState.ANSWERED, due, due + dt.timedelta(days=30))
