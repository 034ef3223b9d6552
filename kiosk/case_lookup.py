"""办件查询 · 投诉 on the kiosk's guide screens (home, an item's facts): a case's public facts by its code, and the
QR code of the hall's public supervision page `/q/{hall}` to complain from the phone (no Kivy here).

The code is typed on the 补办 screen's keypad (or by a USB QR scanner: kiosk/return_visit.py's `return_key`), then
`GET /case-lookup/{code}` answers what the public may see: state (逾期 marked), due date, window, department; never
who the citizen is. An unknown code and a server out of reach are said on the screen itself, the code still there
to correct. The view-model's part is `CaseLookupActions`, a mixin of `KioskViewModel`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import ValidationError

from kiosk import texts
from kiosk.client import ApiError, BadAnswer, KioskClient, ServerUnreachable, Throttled
from kiosk.return_visit import slots_of
from kiosk.return_visit import text as return_text
from kiosk.state import KioskState, Screen
from kiosk.texts import Lang, t
from queue_server.domain.cases import CODE_ALPHABET, CODE_LENGTH, CaseState
from queue_server.protocol import PublicCase

if TYPE_CHECKING:
    from kiosk.client import KioskSetup

log = logging.getLogger(__name__)

LookUp = Callable[[str], Awaitable[PublicCase]]  # a case code → its public facts
OPENS_FROM = (Screen.HOME, Screen.ITEM)  # the guide screens that show the entry
CLOSED = (CaseState.COMPLETED, CaseState.RETURNED, CaseState.REJECTED)


@dataclass(frozen=True)
class CaseLookupView:
    """The code in nine boxes, the keypad, 退格 / 清空 / 查询; the case (or why none, or how to complain); the QR."""

    title: str
    body: str
    slots: tuple[str, ...]
    status: str
    keys: tuple[str, ...]
    delete: str
    clear: str
    submit: str
    ready: bool
    panel_title: str
    panel_body: str
    panel_tone: str  # "info" (how to complain), "ok" (a case), "warn" (overdue, or no answer)
    qr_url: str
    qr_hint: str


def lookup_view(state: KioskState, lang: Lang) -> CaseLookupView:
    code, problem, case = state.return_code, state.return_problem, state.looked_up
    ready = len(code) == CODE_LENGTH
    if case is not None:
        title, body, tone = case_panel(case, lang)
    elif problem is not None:
        key = problem if problem in ("not_found", "unreachable", "throttled") else "failed"
        title = t(f"lookup.{key}.title", lang)
        body, tone = t(f"lookup.{key}.body", lang, code=code, detail=problem), "warn"
    else:
        title, body, tone = t("lookup.intro.title", lang), t("lookup.intro.body", lang), "info"
    return CaseLookupView(
        title=t("lookup.title", lang),
        body=t("lookup.body", lang),
        slots=slots_of(code),
        status=t("lookup.ready", lang) if ready else return_text("count", lang, n=len(code)),
        keys=tuple(CODE_ALPHABET),
        delete=return_text("delete", lang),
        clear=return_text("clear", lang),
        submit=t("lookup.submit", lang),
        ready=ready,
        panel_title=title,
        panel_body=body,
        panel_tone=tone,
        qr_url=state.supervision_url,
        qr_hint=t("lookup.qr", lang),
    )


def case_panel(case: PublicCase, lang: Lang) -> tuple[str, str, str]:
    """What the public lookup says of the case, line by line (Chinese names stay Chinese in English)."""
    zh = lang == "zh"
    lines = []
    item = case.item_name_zh if zh else case.item_name_en or case.item_name_zh
    if item:
        lines.append(t("lookup.item", lang, name=item))
    lines.append(t("lookup.opened", lang, day=texts.date_text(case.opened_day, lang)))
    if case.state is CaseState.COMPLETED and case.closed_day is not None:
        lines.append(t("lookup.completed", lang, day=texts.date_text(case.closed_day, lang)))
        if case.result_zh:
            lines.append(t("lookup.result", lang, result=case.result_zh))
    elif case.state in CLOSED and case.closed_day is not None:
        lines.append(t("lookup.closed", lang, day=texts.date_text(case.closed_day, lang)))
    elif case.due_on is not None:
        provisional = t("lookup.provisional", lang) if case.due_provisional else ""
        lines.append(t("lookup.due", lang, day=texts.date_text(case.due_on, lang)) + provisional)
    else:
        lines.append(t("lookup.waiting_materials", lang))
    if case.missing_materials:
        lines.append(t("lookup.missing", lang, materials=("、" if zh else ", ").join(case.missing_materials)))
    window = case.window_name_zh if zh else case.window_name_en or case.window_name_zh
    if window:
        lines.append(t("lookup.window", lang, name=window))
    if case.department:
        lines.append(t("lookup.department", lang, name=case.department))
    title = t("lookup.case", lang, code=case.code, state=case.state_zh if zh else case.state_en)
    return title, "\n".join(lines), "warn" if case.overdue else "ok"


class CaseLookupActions:
    """The 办件查询 screen's taps, as methods of the kiosk's view-model (mixed into KioskViewModel)."""

    case_lookup_call: LookUp | None = None  # set by the controller: the server's public case lookup
    if TYPE_CHECKING:
        state: KioskState
        setup: KioskSetup | None
        busy_delay_s: float

        def _can_tap(self) -> bool: ...
        def _go(self, screen: Screen) -> None: ...
        def _changed(self) -> None: ...
        def _show_busy(self) -> None: ...
        def _reset_return(self) -> None: ...
        def touch(self) -> None: ...

    def open_case_lookup(self) -> None:
        """办件查询 · 投诉 on the start screen or an item's screen (返回 goes back there)."""
        if self._can_tap() and self.state.screen in OPENS_FROM and self.setup is not None:
            self._reset_return()
            self.state.supervision_url = self.setup.supervision_url()
            self._go(Screen.CASE_LOOKUP)

    async def submit_case_lookup(self) -> None:
        """查询 (or a scanner's Enter): the case's public facts, or why there are none."""
        state = self.state
        if state.busy or state.screen is not Screen.CASE_LOOKUP or len(state.return_code) != CODE_LENGTH:
            return
        if self.case_lookup_call is None:
            return
        code = state.return_code
        state.busy, state.busy_shown = True, False
        state.return_problem = state.looked_up = None
        self.touch()
        please_wait = asyncio.get_running_loop().call_later(self.busy_delay_s, self._show_busy)
        try:
            state.looked_up = await self.case_lookup_call(code)
        except ApiError as error:
            log.info("kiosk: case lookup of %s: %s", code, error)
            state.return_problem = error.code
        except Throttled as error:  # many lookups from this address just now: say so, not "server gone"
            log.info("kiosk: case lookup refused for now: %s", error)
            state.return_problem = "throttled"
        except ServerUnreachable as error:
            log.warning("kiosk: no case lookup, the server is unreachable: %s", error)
            state.return_problem = "unreachable"
        except BadAnswer as error:
            log.error("kiosk: %s", error)
            state.return_problem = "bad_answer"
        except Exception as error:  # a bug must not freeze the kiosk on "please wait"
            log.exception("kiosk: the case lookup failed")
            state.return_problem = type(error).__name__
        finally:
            please_wait.cancel()
            state.busy = state.busy_shown = False
            self.touch()
            self._changed()


async def get_case(client: KioskClient, hall: str, code: str, attempts: int | None = None) -> PublicCase:
    """GET the public lookup of a case code (no personal data in the answer)."""
    path = f"/api/v1/halls/{quote(hall, safe='')}/case-lookup/{quote(code, safe='')}"
    response, _attempts = await client._send("GET", path, None, {}, attempts)
    try:
        return PublicCase.model_validate_json(response.content)
    except ValidationError as error:
        raise BadAnswer(f"GET case-lookup: {error}") from None
