"""补办 / 补交材料: a citizen back with the missing materials types the case code of their supplement notice (or
a USB QR scanner types it: scanners act as keyboards) and gets a ticket linked to the case (no Kivy here).

`POST /cases/{code}/return-visit` with an Idempotency-Key: the key is kept while the same code is retried, so a
lost answer retried never gives a second number. A code the hall does not know (`not_found`) and a case that
waits for no materials (`case_not_waiting`: not a 补办件, or back already) are said on the screen itself, in
Chinese and English, with the code still there to correct; the ticket screen and its receipt are the kiosk's own.
The view-model's part is `ReturnVisitActions`, a mixin of `KioskViewModel` (its methods are the screen's taps).
Its keypad (`return_key`, `return_delete`, `return_clear`) also types the code of 办件查询 (kiosk/case_lookup.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import ValidationError

from kiosk.client import ApiError, BadAnswer, Issued, KioskClient, NotRegistered, ServerUnreachable
from kiosk.state import KioskState, Screen
from kiosk.texts import Lang
from queue_server.domain.cases import CODE_ALPHABET, CODE_LENGTH
from queue_server.protocol import IssuedTicket

if TYPE_CHECKING:
    from kiosk.client import KioskSetup

log = logging.getLogger(__name__)

ReturnCall = Callable[[str, str], Awaitable[Issued]]  # (code, Idempotency-Key) → the ticket

TEXTS: dict[str, tuple[str, str]] = {
    "home": ("补办 / 补交材料", "Bring materials"),
    "home.hint": ("凭补正通知上的办件编号", "With your case code"),
    "title": ("补办 / 补交材料", "Bring the missing materials"),
    "body": (
        "请输入补正通知上的9位办件编号，或将通知上的二维码对准扫码口",
        "Type the 9-character case code on your supplement notice, or scan its QR code",
    ),
    "count": ("已输入 {n}/9 位", "{n} of 9 characters"),
    "ready": ("请点击「取号」", "Tap Get a number"),
    "delete": ("退 格", "Delete"),
    "clear": ("清 空", "Clear"),
    "submit": ("取 号", "Get a number"),
    "not_found.title": ("未找到该办件编号", "No case with this code"),
    "not_found.body": (
        "请核对补正通知上的办件编号 {code}，或到咨询台询问。",
        "Please check the case code {code} on your notice, or ask at the help desk.",
    ),
    "case_not_waiting.title": ("该办件不需要补交材料", "This case is not waiting for materials"),
    "case_not_waiting.body": (
        "办件 {code} 目前不需要补交材料（已补交、已办结或不是补办件），请到窗口咨询或取普通号。",
        "Case {code} needs no materials now (brought already, finished, or not a 补办 case): "
        "please ask at a window, or take an ordinary number.",
    ),
    "unreachable.title": ("暂时无法连接服务器", "Cannot reach the server"),
    "unreachable.body": (
        "请稍后再点「取号」重试，或到窗口咨询。",
        "Please tap Get a number again shortly, or ask at a window.",
    ),
    "failed.title": ("取号没有成功", "No number this time"),
    "failed.body": ("请到窗口咨询（{detail}）。", "Please ask at a window ({detail})."),
}
KNOWN_REFUSALS = frozenset({"not_found", "case_not_waiting"})
CODE_SCREENS = (Screen.RETURN_VISIT, Screen.CASE_LOOKUP)  # the screens that type a case code on this keypad


def text(key: str, lang: Lang, **values: object) -> str:
    zh, en = TEXTS[key]
    chosen = zh if lang == "zh" else en
    return chosen.format(**values) if values else chosen


@dataclass(frozen=True)
class ReturnVisitView:
    """The code typed so far in nine boxes, the keypad, 退格 / 清空 / 取号, and why the last try gave no number."""

    title: str
    body: str
    slots: tuple[str, ...]  # nine: a typed symbol, or "" for a box still empty
    status: str
    keys: tuple[str, ...]
    delete: str
    clear: str
    submit: str
    ready: bool
    problem_title: str  # "" when nothing went wrong
    problem_body: str


def return_view(state: KioskState, lang: Lang) -> ReturnVisitView:
    code, problem = state.return_code, state.return_problem
    ready = len(code) == CODE_LENGTH
    if problem is None:
        title = body = ""
    else:
        key = problem if problem in KNOWN_REFUSALS or problem == "unreachable" else "failed"
        title, body = text(f"{key}.title", lang), text(f"{key}.body", lang, code=code, detail=problem)
    return ReturnVisitView(
        title=text("title", lang),
        body=text("body", lang),
        slots=slots_of(code),
        status=text("ready", lang) if ready else text("count", lang, n=len(code)),
        keys=tuple(CODE_ALPHABET),
        delete=text("delete", lang),
        clear=text("clear", lang),
        submit=text("submit", lang),
        ready=ready,
        problem_title=title,
        problem_body=body,
    )


def slots_of(code: str) -> tuple[str, ...]:
    """The nine boxes of a case code: the symbols typed so far, then empty boxes."""
    return tuple(code[n] if n < len(code) else "" for n in range(CODE_LENGTH))


class ReturnVisitActions:
    """The 补办 screen's taps, as methods of the kiosk's view-model (mixed into KioskViewModel)."""

    return_visit_call: ReturnCall | None = None  # set by the controller: the server's return-visit route
    if TYPE_CHECKING:
        state: KioskState
        setup: KioskSetup | None

        def _can_tap(self) -> bool: ...
        def _go(self, screen: Screen) -> None: ...
        def _changed(self) -> None: ...
        def _show_busy(self) -> None: ...
        def _show_ticket(self, ticket: IssuedTicket) -> None: ...
        def touch(self) -> None: ...

        _new_key: Callable[[str], str]

        busy_delay_s: float

    def open_return_visit(self) -> None:
        """补办 / 补交材料 on the start screen."""
        if self._can_tap() and self.state.screen is Screen.HOME:
            self._reset_return()
            self._go(Screen.RETURN_VISIT)

    def return_key(self, symbol: str) -> None:
        """A key of the keypad, or a character a scanner typed: one symbol of the code (others are ignored)."""
        state = self.state
        symbol = symbol.upper()
        if not self._can_tap() or state.screen not in CODE_SCREENS or len(symbol) != 1:
            return
        if symbol not in CODE_ALPHABET:
            return
        answered = state.return_problem is not None or state.looked_up is not None
        if answered and len(state.return_code) == CODE_LENGTH:
            self._reset_return()  # a new code after one answered (a second scan): start over
        if len(state.return_code) >= CODE_LENGTH:
            return
        state.return_code += symbol
        state.return_problem = state.looked_up = None
        self._changed()

    def return_delete(self) -> None:
        state = self.state
        if self._can_tap() and state.screen in CODE_SCREENS and state.return_code:
            state.return_code, state.return_problem, state.looked_up = state.return_code[:-1], None, None
            self._changed()

    def return_clear(self) -> None:
        if self._can_tap() and self.state.screen in CODE_SCREENS and self.state.return_code:
            self._reset_return()
            self._changed()

    async def submit_return_visit(self) -> None:
        """取号 (or a scanner's Enter): a ticket for the case; the same code retried sends the same key."""
        state = self.state
        if state.busy or state.screen is not Screen.RETURN_VISIT or len(state.return_code) != CODE_LENGTH:
            return
        if self.setup is None or self.return_visit_call is None:
            return
        code = state.return_code
        if state.return_key is None or state.return_key[0] != code:
            state.return_key = (code, self._new_key(self.setup.device.id))
        state.busy, state.busy_shown = True, False
        self.touch()
        please_wait = asyncio.get_running_loop().call_later(self.busy_delay_s, self._show_busy)
        try:
            issued = await self.return_visit_call(code, state.return_key[1])
        except NotRegistered as error:
            log.error("kiosk: the server refuses this kiosk: %s", error)
            state.return_problem = "refused"
        except ApiError as error:
            log.info("kiosk: return visit of %s refused: %s", code, error)
            state.return_problem = error.code
        except ServerUnreachable as error:
            log.warning("kiosk: no return visit, the server is unreachable: %s", error)
            state.return_problem = "unreachable"  # the key is kept: 取号 again is the same request
        except BadAnswer as error:
            log.error("kiosk: %s", error)
            state.return_problem = "bad_answer"
        except Exception as error:  # a bug must not freeze the kiosk on "please wait"
            log.exception("kiosk: the return visit failed")
            state.return_problem = type(error).__name__
        else:
            self._reset_return()
            self._show_ticket(issued.ticket)
        finally:
            please_wait.cancel()
            state.busy = state.busy_shown = False
            self.touch()
            self._changed()

    def _reset_return(self) -> None:
        state = self.state
        state.return_code, state.return_problem, state.return_key, state.looked_up = "", None, None, None


async def post_return_visit(client: KioskClient, hall: str, code: str, key: str) -> Issued:
    """POST the return visit with this tap's key (every retry of the client sends the same one)."""
    path = f"/api/v1/halls/{quote(hall, safe='')}/cases/{quote(code, safe='')}/return-visit"
    response, attempts = await client._send("POST", path, None, {"Idempotency-Key": key})
    try:
        ticket = IssuedTicket.model_validate(response.json()["ticket"])
    except (ValidationError, ValueError, KeyError, TypeError) as error:
        raise BadAnswer(f"POST return-visit: {error}") from None
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    return Issued(ticket, replayed, attempts)
