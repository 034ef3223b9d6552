"""Tests for the ticket's life: every transition pair, labels, recalls and finish details."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import pytest

from queue_server.domain.errors import DomainError, IllegalTransition, InvalidFinish, RecallLimit
from queue_server.domain.tickets import (
    CALLABLE,
    EXPIRE_AT_DAY_CLOSE,
    MAX_MATERIALS,
    MAX_TEXT,
    TRANSITIONS,
    CaseClass,
    FinishDetails,
    Priority,
    TicketState,
    check_recall,
    check_transition,
    validate_finish,
)

S = TicketState

ALLOWED = {
    (S.WAITING, S.CALLED),
    (S.WAITING, S.TRANSFERRED),
    (S.WAITING, S.EXPIRED),
    (S.CALLED, S.CALLED),
    (S.CALLED, S.SERVING),
    (S.CALLED, S.NO_SHOW),
    (S.CALLED, S.TRANSFERRED),
    (S.CALLED, S.WAITING),
    (S.CALLED, S.EXPIRED),
    (S.SERVING, S.FINISHED),
    (S.SERVING, S.TRANSFERRED),
    (S.TRANSFERRED, S.CALLED),
    (S.TRANSFERRED, S.TRANSFERRED),
    (S.TRANSFERRED, S.EXPIRED),
    (S.NO_SHOW, S.WAITING),
    (S.NO_SHOW, S.EXPIRED),
}
ALL_PAIRS = list(itertools.product(TicketState, repeat=2))


# --- the transition table -------------------------------------------------------------------------------------


def test_table_is_exactly_the_specified_one() -> None:
    assert set(TRANSITIONS) == set(TicketState)
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


def test_table_cannot_be_changed_at_runtime() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[S.FINISHED] = frozenset({S.WAITING})  # type: ignore[index]


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p in ALLOWED], ids=str)
def test_allowed_transition_passes(current: TicketState, target: TicketState) -> None:
    check_transition(current, target)  # does not raise


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in ALLOWED], ids=str)
def test_forbidden_transition_raises_naming_both_states(current: TicketState, target: TicketState) -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, target)
    err = info.value
    assert err.current is current
    assert err.target is target
    assert err.code == "illegal_transition"
    message = str(err)
    assert current.label_en in message and target.label_en in message
    assert current.label_zh in message and target.become_zh in message


def test_forbidden_count() -> None:
    assert len(ALL_PAIRS) == 49
    assert len(ALLOWED) == 16


def test_illegal_transition_message_reads_well() -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(S.FINISHED, S.CALLED)
    assert str(info.value) == "a ticket that is finished cannot become called (已办结的票不能被叫号)"


@pytest.mark.parametrize("state", [s for s in TicketState if (s, s) not in ALLOWED], ids=str)
def test_doing_the_same_thing_twice_is_a_clear_error(state: TicketState) -> None:
    with pytest.raises(IllegalTransition, match=rf"already {state.label_en}.*again.*不能重复"):
        check_transition(state, state)


def test_finishing_twice() -> None:
    check_transition(S.CALLED, S.SERVING)
    check_transition(S.SERVING, S.FINISHED)
    with pytest.raises(IllegalTransition) as info:
        check_transition(S.FINISHED, S.FINISHED)
    expected = "the ticket is already finished: it cannot become finished again (该票已是「已办结」，不能重复办结)"
    assert str(info.value) == expected


def test_expiring_twice() -> None:
    check_transition(S.WAITING, S.EXPIRED)
    with pytest.raises(IllegalTransition):
        check_transition(S.EXPIRED, S.EXPIRED)


def test_terminal_states_have_no_way_out() -> None:
    assert TRANSITIONS[S.FINISHED] == frozenset()
    assert TRANSITIONS[S.EXPIRED] == frozenset()


def test_every_non_terminal_state_can_end() -> None:
    # From any state a ticket can reach FINISHED or EXPIRED: none is stuck forever.
    terminal = {S.FINISHED, S.EXPIRED}
    for start in TicketState:
        seen, todo = {start}, [start]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert seen & terminal, start


def test_callable_states_can_be_called() -> None:
    assert frozenset({S.WAITING, S.TRANSFERRED}) == CALLABLE
    for state in CALLABLE:
        check_transition(state, S.CALLED)
    for state in set(TicketState) - CALLABLE - {S.CALLED}:  # CALLED -> CALLED is a recall, not a call
        with pytest.raises(IllegalTransition):
            check_transition(state, S.CALLED)


def test_day_close_expires_every_open_state_but_serving() -> None:
    assert frozenset({S.WAITING, S.TRANSFERRED, S.NO_SHOW, S.CALLED}) == EXPIRE_AT_DAY_CLOSE
    for state in EXPIRE_AT_DAY_CLOSE:
        check_transition(state, S.EXPIRED)
    with pytest.raises(IllegalTransition):
        check_transition(S.SERVING, S.EXPIRED)


def test_illegal_transition_is_a_domain_error() -> None:
    assert issubclass(IllegalTransition, DomainError)


# --- labels ---------------------------------------------------------------------------------------------------


def test_ticket_state_values_and_labels() -> None:
    assert [s.value for s in TicketState] == [
        "waiting", "called", "serving", "finished", "no_show", "transferred", "expired",
    ]  # fmt: skip
    assert [s.label_zh for s in TicketState] == ["等候中", "已叫号", "办理中", "已办结", "过号", "已转移", "已过期"]
    assert all(s.label_en and s.become_zh for s in TicketState)
    assert S("no_show") is S.NO_SHOW
    assert str(S.WAITING) == "waiting"


def test_priority_values_and_labels() -> None:
    assert [p.value for p in Priority] == ["ordinary", "green", "appointment"]
    assert Priority.GREEN.label_zh == "绿色通道"
    assert Priority.APPOINTMENT.label_zh == "预约"
    assert all(p.label_en for p in Priority)


def test_case_class_values_and_labels() -> None:
    assert {c.value: c.label_zh for c in CaseClass} == {
        "immediate": "即办件",
        "promised": "承诺件",
        "supplement": "补办件",
        "joint": "联办件",
        "returned": "退回件",
        "agent": "代理件",
    }
    assert len({c.label_en for c in CaseClass}) == len(CaseClass)


# --- recalls --------------------------------------------------------------------------------------------------


def test_recall_counts_up_to_the_limit() -> None:
    assert check_recall(0, 2) == 1
    assert check_recall(1, 2) == 2
    with pytest.raises(RecallLimit, match="limit is 2") as info:
        check_recall(2, 2)
    assert info.value.code == "recall_limit"
    assert info.value.limit == 2


def test_recall_limit_zero_forbids_recalls() -> None:
    with pytest.raises(RecallLimit):
        check_recall(0, 0)


@pytest.mark.parametrize(("done", "limit"), [(-1, 2), (0, -1)])
def test_recall_negative_counts_are_a_bug(done: int, limit: int) -> None:
    with pytest.raises(ValueError):
        check_recall(done, limit)


# --- finish details -------------------------------------------------------------------------------------------

DUE = date(2025, 3, 14)

VALID: dict[CaseClass, dict[str, Any]] = {
    CaseClass.IMMEDIATE: {},
    CaseClass.PROMISED: {"due_date": DUE},
    CaseClass.SUPPLEMENT: {"missing_materials": ("户口簿复印件",)},
    CaseClass.JOINT: {"next_department": "县民政局"},
    CaseClass.RETURNED: {"reason": "不符合申请条件"},
    CaseClass.AGENT: {"agent_name": "李代办"},
}
REQUIRED = {
    CaseClass.PROMISED: "due_date",
    CaseClass.SUPPLEMENT: "missing_materials",
    CaseClass.JOINT: "next_department",
    CaseClass.RETURNED: "reason",
    CaseClass.AGENT: "agent_name",
}
ALL_FIELDS: dict[str, Any] = {name: value for fields in VALID.values() for name, value in fields.items()}


@pytest.mark.parametrize("case_class", list(CaseClass), ids=str)
def test_each_case_class_accepts_its_detail(case_class: CaseClass) -> None:
    details = validate_finish(case_class, **VALID[case_class])
    assert details.case_class is case_class
    expected = FinishDetails(
        case_class=case_class,
        due_date=None,
        missing_materials=(),
        next_department=None,
        reason=None,
        agent_name=None,
    )
    expected = FinishDetails(**{**expected.__dict__, **VALID[case_class]})
    assert details == expected


@pytest.mark.parametrize("case_class", list(REQUIRED), ids=str)
def test_missing_required_detail_is_refused(case_class: CaseClass) -> None:
    with pytest.raises(InvalidFinish, match=r"needs.*须填写") as info:
        validate_finish(case_class)
    assert info.value.code == "invalid_finish"
    assert case_class.label_zh in str(info.value)


@pytest.mark.parametrize(
    ("case_class", "field"),
    [(c, f) for c in CaseClass for f in ALL_FIELDS if f != REQUIRED.get(c)],
    ids=str,
)
def test_superfluous_detail_is_refused(case_class: CaseClass, field: str) -> None:
    kwargs = {**VALID[case_class], field: ALL_FIELDS[field]}
    with pytest.raises(InvalidFinish, match=rf"does not take {field}.*不应填写"):
        validate_finish(case_class, **kwargs)


def test_several_superfluous_details_are_all_named() -> None:
    with pytest.raises(InvalidFinish, match=r"does not take reason, agent_name \(即办件不应填写退回原因、代办人姓名\)"):
        validate_finish(CaseClass.IMMEDIATE, reason="x", agent_name="y")


@pytest.mark.parametrize("blank", ["", "   ", "\u3000"])
@pytest.mark.parametrize("field", ["next_department", "reason", "agent_name"])
def test_blank_text_counts_as_missing(field: str, blank: str) -> None:
    owner = next(c for c, f in REQUIRED.items() if f == field)
    with pytest.raises(InvalidFinish, match="needs"):
        validate_finish(owner, **{field: blank})  # type: ignore[arg-type]
    # ...and a blank superfluous field is simply absent, not an error
    assert validate_finish(CaseClass.IMMEDIATE, **{field: blank}).case_class is CaseClass.IMMEDIATE  # type: ignore[arg-type]


def test_text_is_stripped() -> None:
    assert validate_finish("returned", reason="  材料不全 \n").reason == "材料不全"
    assert validate_finish("agent", agent_name="\t王五 ").agent_name == "王五"
    assert validate_finish("joint", next_department=" 县自然资源局 ").next_department == "县自然资源局"


def test_text_length_is_bounded() -> None:
    assert validate_finish("returned", reason="因" * MAX_TEXT).reason == "因" * MAX_TEXT
    with pytest.raises(InvalidFinish, match=f"longer than {MAX_TEXT}"):
        validate_finish("returned", reason="因" * (MAX_TEXT + 1))


def test_control_characters_are_refused() -> None:
    with pytest.raises(InvalidFinish, match="control characters"):
        validate_finish("agent", agent_name="王\n五")


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidFinish, match="must be text"):
        validate_finish("returned", reason=42)  # type: ignore[arg-type]


def test_materials_are_cleaned() -> None:
    details = validate_finish("supplement", missing_materials=[" 身份证 ", "", "户口簿", "身份证", "  "])
    assert details.missing_materials == ("身份证", "户口簿")


def test_materials_all_blank_count_as_missing() -> None:
    with pytest.raises(InvalidFinish, match="needs the missing materials"):
        validate_finish("supplement", missing_materials=["", " "])


def test_materials_count_is_bounded() -> None:
    ok = [f"材料{i}" for i in range(MAX_MATERIALS)]
    assert len(validate_finish("supplement", missing_materials=ok).missing_materials) == MAX_MATERIALS
    with pytest.raises(InvalidFinish, match=f"at most {MAX_MATERIALS}"):
        validate_finish("supplement", missing_materials=[*ok, "one more"])


def test_each_material_is_length_bounded() -> None:
    with pytest.raises(InvalidFinish, match="longer than"):
        validate_finish("supplement", missing_materials=["x" * (MAX_TEXT + 1)])


def test_materials_as_one_string_is_refused() -> None:
    with pytest.raises(InvalidFinish, match="not one string"):
        validate_finish("supplement", missing_materials="身份证")


def test_materials_any_iterable() -> None:
    assert validate_finish("supplement", missing_materials=iter(["a"])).missing_materials == ("a",)


def test_due_date_must_be_a_date_not_a_datetime() -> None:
    with pytest.raises(InvalidFinish, match="calendar date"):
        validate_finish("promised", due_date=datetime(2025, 3, 14, 9, 0))
    with pytest.raises(InvalidFinish, match="calendar date"):
        validate_finish("promised", due_date="2025-03-14")  # type: ignore[arg-type]


def test_case_class_by_value_and_unknown() -> None:
    assert validate_finish("immediate").case_class is CaseClass.IMMEDIATE
    with pytest.raises(InvalidFinish, match="unknown case class 'urgent'"):
        validate_finish("urgent")


def test_finish_details_are_immutable() -> None:
    details = validate_finish("immediate")
    with pytest.raises(AttributeError):
        details.reason = "x"  # type: ignore[misc]
