"""补办 / 补交材料 in the kiosk's view-model without a window: the code typed (or scanned), the refusals said on the
screen in Chinese and English, a lost answer retried with the same Idempotency-Key, the ticket shown and printed."""

from __future__ import annotations

from kiosk.client import ApiError, Issued, ServerUnreachable
from kiosk.state import Screen
from tests.kiosk.conftest import issued
from tests.kiosk.test_viewmodel import Kiosk

CODE = "AC34-67FGH"  # as printed on the supplement notice: a dash, in two groups


class FakeReturn:
    """The server's return-visit route: answers given in order (an exception is raised)."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, code: str, key: str) -> Issued:
        self.calls.append((code, key))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, Issued)
        return answer


def kiosk_with(*answers: object) -> tuple[Kiosk, FakeReturn]:
    kiosk, fake = Kiosk(), FakeReturn(*answers)
    kiosk.vm.return_visit_call = fake
    kiosk.vm.open_return_visit()
    return kiosk, fake


def test_the_start_screen_leads_to_the_screen_and_the_code_fills_nine_boxes() -> None:
    kiosk = Kiosk()
    home = kiosk.view.home
    assert home is not None and (home.return_visit, home.return_visit_hint) == (
        "补办 / 补交材料",
        "凭补正通知上的办件编号",
    )
    kiosk.vm.open_return_visit()
    view = kiosk.view.return_visit
    assert kiosk.screen is Screen.RETURN_VISIT and view is not None
    assert view.title == "补办 / 补交材料" and view.slots == ("",) * 9 and not view.ready and view.problem_title == ""
    for symbol in CODE + "ZZ":  # the dash is no symbol; nothing beyond nine
        kiosk.vm.return_key(symbol)
    view = kiosk.view.return_visit
    assert view is not None and "".join(view.slots) == "AC3467FGH" and view.ready and view.status == "请点击「取号」"
    kiosk.vm.return_delete()
    assert kiosk.vm.state.return_code == "AC3467FG" and kiosk.view.return_visit.status == "已输入 8/9 位"  # type: ignore[union-attr]
    kiosk.vm.toggle_language()
    assert kiosk.view.return_visit.status == "8 of 9 characters"  # type: ignore[union-attr]


def test_an_unknown_code_and_a_case_not_waiting_are_said_on_the_screen_then_the_ticket() -> None:
    kiosk, fake = kiosk_with(
        ApiError(404, "not_found", "no case with this code (没有该办件编号)"),
        ApiError(409, "case_not_waiting", "case AC3467FGH is not waiting for materials (受理)"),
        Issued(issued("A031", item_id="jisheng-childcare-subsidy"), False, 1),
    )
    for symbol in CODE:
        kiosk.vm.return_key(symbol)
    kiosk.run(kiosk.vm.submit_return_visit)
    view = kiosk.view.return_visit
    assert kiosk.screen is Screen.RETURN_VISIT and view is not None
    assert (view.problem_title, view.problem_body) == (
        "未找到该办件编号", "请核对补正通知上的办件编号 AC3467FGH，或到咨询台询问。")  # fmt: skip
    kiosk.vm.toggle_language()
    assert kiosk.view.return_visit.problem_title == "No case with this code"  # type: ignore[union-attr]
    kiosk.vm.toggle_language()
    kiosk.run(kiosk.vm.submit_return_visit)
    view = kiosk.view.return_visit
    assert view is not None and view.problem_title == "该办件不需要补交材料" and "AC3467FGH" in view.problem_body
    assert fake.calls[0][1] == fake.calls[1][1], "the same code: the same key"
    assert kiosk.printer.receipts == []
    kiosk.run(kiosk.vm.submit_return_visit)
    assert kiosk.screen is Screen.TICKET and kiosk.view.ticket is not None and kiosk.view.ticket.number == "A031"
    assert len(kiosk.printer.receipts) == 1
    kiosk.vm.done()
    kiosk.vm.open_return_visit()
    assert kiosk.vm.state.return_code == "" and kiosk.view.return_visit.problem_title == ""  # type: ignore[union-attr]


def test_a_lost_answer_is_retried_with_the_same_key_and_a_new_scan_starts_over() -> None:
    kiosk, fake = kiosk_with(
        ServerUnreachable("timed out"),
        ApiError(404, "not_found", "no case"),
        Issued(issued("A032"), True, 1),
    )
    for symbol in CODE:
        kiosk.vm.return_key(symbol)
    kiosk.run(kiosk.vm.submit_return_visit)
    assert kiosk.view.return_visit.problem_title == "暂时无法连接服务器"  # type: ignore[union-attr]
    kiosk.run(kiosk.vm.submit_return_visit)  # 取号 again: the same request
    assert fake.calls[0] == fake.calls[1]
    for symbol in "99999AAAA":  # the scanner reads another notice: the refused code is replaced, not appended to
        kiosk.vm.return_key(symbol)
    assert kiosk.vm.state.return_code == "99999AAAA" and kiosk.view.return_visit.problem_title == ""  # type: ignore[union-attr]
    kiosk.run(kiosk.vm.submit_return_visit)
    assert fake.calls[2][0] == "99999AAAA" and fake.calls[2][1] != fake.calls[0][1], "another code: another key"
    assert kiosk.screen is Screen.TICKET
