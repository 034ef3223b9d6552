"""The kiosk's behaviour without a window: screens as a small state machine, taps, idle timeout, language.

home → category → item → ticket, and home → 绿色通道 / 预约签到 / 办事指南 → ...; a tap that gives
no ticket leads to an error screen that says why. Every change re-renders through the `render`
callback with a `KioskView` (pure strings, see views.py).

Rules that keep a citizen from getting two numbers, or a number the server does not know:
- A ticket is shown only from the server's answer (`IssuedTicket`), never made up locally.
- 预约签到 sends the typed booking code through `check_in`; the server answers a code checked in
  before with the same ticket, so 重试 (and the client's own retries) never give a second number.
- While a tap is being answered (`busy`), every other tap is ignored (a double tap is one ticket).
- One tap is one Idempotency-Key; the client sends the same key on each of its retries, the error
  screen's 重试 sends it again, and so does the same request tapped again within `pending_reuse_s`
  (the answer may have been lost after the server issued the ticket: the next citizen asking for
  the same thing gets that ticket instead of leaving a ghost ticket in the queue).

Times come from the injected `clock` (monotonic seconds, for the idle timeout) and `now` (aware
datetime, for the date and time shown), so tests drive both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from config.schema import Category, ServiceItem
from kiosk.case_lookup import CaseLookupActions
from kiosk.client import ApiError, BadAnswer, CategoryFull, Issued, KioskSetup, NotRegistered, ServerUnreachable
from kiosk.client import new_key as default_new_key
from kiosk.idcard.actions import IdCardActions
from kiosk.return_visit import ReturnVisitActions
from kiosk.state import (
    ErrorInfo,
    KioskState,
    PendingIssue,
    PrintProgress,
    PrintState,
    Problem,
    Purpose,
    Screen,
)
from kiosk.views import CODE_ALPHABET, CODE_LENGTH, KioskView, build
from printer.status import PrinterState
from queue_server.protocol import IssuedTicket, IssueRequest, QueueSummary

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 60.0
PENDING_REUSE_S = 120.0
BUSY_DELAY_S = 0.6  # "please wait" only for an answer slower than this: a quick one shows the number at once
# (at 0.25 s the veil's own frame came first whenever the button's release frame took longer than that)
AUTO_RETRY_WITHIN_S = 30.0  # the server is back: 重试 by itself for a citizen who touched the kiosk this recently

Issue = Callable[[IssueRequest, str], Awaitable[Issued]]
CheckIn = Callable[[str], Awaitable[Issued]]


class Printing(Protocol):
    """What the view-model asks of the printer; both return a handle that later progress reports name."""

    def print_receipt(self, ticket: IssuedTicket, track_url: str) -> int: ...

    def print_notice(self, item: ServiceItem) -> int: ...


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class KioskViewModel(ReturnVisitActions, CaseLookupActions, IdCardActions):
    def __init__(
        self,
        issue: Issue,
        *,
        printer: Printing | None = None,
        render: Callable[[KioskView], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        pending_reuse_s: float = PENDING_REUSE_S,
        busy_delay_s: float = BUSY_DELAY_S,
        auto_retry_within_s: float = AUTO_RETRY_WITHIN_S,
        new_key: Callable[[str], str] = default_new_key,
        check_in: CheckIn | None = None,
    ) -> None:
        self._issue, self.printer, self._render = issue, printer, render
        self._check_in = check_in
        self._clock, self._now = clock, now
        self.idle_timeout_s, self.pending_reuse_s = idle_timeout_s, pending_reuse_s
        self.busy_delay_s = busy_delay_s
        self.auto_retry_within_s = auto_retry_within_s
        self._retrying: asyncio.Task[None] | None = None
        self._new_key = new_key
        self.state = KioskState(last_touch=clock())
        self.setup: KioskSetup | None = None
        self._receipt_job: int | None = None
        self._notice_job: int | None = None
        self._shown_minute: tuple[str, str] | None = None

    # -- what the screen shows ---------------------------------------------------------------

    def view(self) -> KioskView:
        return build(self.state, self._now())

    def _changed(self, *, now: bool = False) -> None:
        """Draw the current view. While a tap is being answered only "please wait" is drawn (`now`): a queue
        length or a minute of the clock redrawn meanwhile is a whole frame the number would wait behind
        (a frame costs 200+ ms without a GPU). The end of the tap draws everything that changed."""
        if self._render is None or (self.state.busy and not now):
            return
        view = self.view()
        self._shown_minute = (view.date_text, view.time_text)
        self._render(view)

    # -- news from the server and the printer ------------------------------------------------

    def start(self, setup: KioskSetup) -> None:
        """The hall's settings and catalogue are loaded: the kiosk can serve."""
        self.setup = setup
        state = self.state
        state.hall, state.starting_problem = setup.hall, None
        if setup.printer is None:
            state.printer = None
        elif state.printer is None:
            state.printer = PrinterState.UNKNOWN
        if state.screen is Screen.STARTING:
            state.screen = Screen.HOME
        self._changed()

    def starting_failed(self, refused: bool = False) -> None:
        """The server did not answer at start, or refused this kiosk (it is retried): say so."""
        problem = Problem.REFUSED if refused else Problem.UNREACHABLE
        if self.state.starting_problem is not problem:
            self.state.starting_problem = problem
            self._changed()

    def set_queues(self, queues: Iterable[QueueSummary]) -> None:
        self.state.queues = {q.category: q for q in queues}
        self._changed()

    def set_online(self, online: bool) -> None:
        """The server answers (or not): said at once by the live feed when its connection opens or drops."""
        if online != self.state.online:
            self.state.online = online
            self._changed()
            if online:
                self._server_back()

    def _server_back(self) -> None:
        """The error screen "暂时无法连接服务器" does not wait for a tap once the server is back.

        A citizen who touched the kiosk within `auto_retry_within_s` is still there: the tap is tried
        again (the same Idempotency-Key, so a ticket the server did commit comes back, never a second
        one). Otherwise nobody waits for it: back home, where no ticket is made for nobody.
        """
        state, error = self.state, self.state.error
        if state.busy or state.screen is not Screen.ERROR or error is None or error.problem is not Problem.UNREACHABLE:
            return
        if self._clock() - state.last_touch > self.auto_retry_within_s:
            log.info("kiosk: the server is back; nobody at the error screen: back home")
            self.go_home(reset_language=True)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in the loop (a test without one): the 重试 button still works
            return
        log.info("kiosk: the server is back: trying the tap again")
        self._retrying = loop.create_task(self.retry())

    def set_printer_state(self, printer: PrinterState) -> None:
        if self.setup is not None and self.setup.printer is None:
            return
        if printer != self.state.printer:
            self.state.printer = printer
            self._changed()

    def print_progress(self, job: int, progress: PrintProgress) -> None:
        """A print job moved on (called on the UI thread; `job` is the handle print_* returned)."""
        state = self.state
        if job == self._receipt_job and progress != state.receipt:
            state.receipt = progress
        elif job == self._notice_job and progress != state.notice:
            state.notice = progress
        else:
            return
        self._changed()

    # -- taps ----------------------------------------------------------------------------------

    def touch(self) -> None:
        """Any touch anywhere: the citizen is still there."""
        self.state.last_touch = self._clock()

    def open_category(self, code: str) -> None:
        state = self.state
        if not self._can_tap() or state.hall is None:
            return
        if state.screen not in (Screen.HOME, Screen.GUIDE):
            return
        try:
            state.hall.category(code)
        except KeyError:
            return
        state.purpose = Purpose.GUIDE if state.screen is Screen.GUIDE else Purpose.TICKET
        state.category, state.item = code, None
        self._go(Screen.CATEGORY)

    def open_item(self, item_id: str) -> None:
        state = self.state
        if not self._can_tap() or state.screen is not Screen.CATEGORY or state.hall is None:
            return
        try:
            item = state.hall.item(item_id)
        except KeyError:
            return
        if item.category != state.category:
            return
        state.item = item_id
        state.notice = PrintProgress()
        self._notice_job = None
        self._go(Screen.ITEM)

    def open_green(self) -> None:
        self._open_from_home(Screen.GREEN)

    def open_guide(self) -> None:
        self._open_from_home(Screen.GUIDE)

    def open_checkin(self) -> None:
        if self._can_tap() and self.state.screen is Screen.HOME:
            self.state.checkin_code = ""
            self._go(Screen.CHECKIN)

    # -- 预约签到 ----------------------------------------------------------------------------------

    def checkin_key(self, symbol: str) -> None:
        """A key of the 预约签到 keypad: one symbol of the booking code (at most eight)."""
        state = self.state
        symbol = symbol.upper()
        if not self._can_tap() or state.screen is not Screen.CHECKIN:
            return
        if len(symbol) != 1 or symbol not in CODE_ALPHABET or len(state.checkin_code) >= CODE_LENGTH:
            return
        state.checkin_code += symbol
        self._changed()

    def checkin_delete(self) -> None:
        """退格: the last symbol typed."""
        state = self.state
        if self._can_tap() and state.screen is Screen.CHECKIN and state.checkin_code:
            state.checkin_code = state.checkin_code[:-1]
            self._changed()

    def checkin_clear(self) -> None:
        state = self.state
        if self._can_tap() and state.screen is Screen.CHECKIN and state.checkin_code:
            state.checkin_code = ""
            self._changed()

    async def submit_checkin(self) -> None:
        """签到: check the typed code in; the server answers the same ticket for a code checked in before."""
        state = self.state
        if state.screen is Screen.CHECKIN and len(state.checkin_code) == CODE_LENGTH:
            await self._run_check_in(state.checkin_code)

    def _open_from_home(self, screen: Screen) -> None:
        if self._can_tap() and self.state.screen is Screen.HOME:
            self._go(screen)

    def back(self) -> None:
        state = self.state
        if not self._can_tap() or state.screen in (Screen.HOME, Screen.STARTING):
            return
        if state.screen is Screen.TICKET or not state.history:
            self.go_home()
            return
        state.screen = state.history.pop()
        state.error = None
        self._changed()

    def go_home(self, *, reset_language: bool = False) -> None:
        state = self.state
        if state.busy or state.screen is Screen.STARTING:
            return
        self.touch()
        state.screen, state.history = Screen.HOME, []
        state.category = state.item = None
        state.ticket, state.error, state.track_url = None, None, ""
        state.checkin_code = ""
        state.card = None  # the ID card swiped: not left for the next citizen
        self._reset_return()  # the case code typed, and the case looked up: not left for the next citizen
        state.receipt = state.notice = PrintProgress()
        self._receipt_job = self._notice_job = None
        state.purpose = Purpose.TICKET
        if reset_language:
            state.lang = "zh"
        self._changed()

    def done(self) -> None:
        """完成 on the ticket screen: back home, in Chinese for the next citizen."""
        if self.state.screen is Screen.TICKET:
            self.go_home(reset_language=True)

    def toggle_language(self) -> None:
        if self.state.busy:
            return
        self.touch()
        self.state.lang = "en" if self.state.lang == "zh" else "zh"
        self._changed()

    async def take_ticket(self) -> None:
        """取号 on an item's screen (for that item) or a category's screen (for the category)."""
        state = self.state
        if state.screen is Screen.ITEM and state.item is not None:
            await self._take(IssueRequest(item_id=state.item, id_hash=self.card_hash()))
        elif state.screen is Screen.CATEGORY and state.category is not None:
            await self._take(IssueRequest(category=state.category, id_hash=self.card_hash()))

    async def take_green(self, code: str) -> None:
        """A category on the 绿色通道 screen: a priority ticket for it."""
        if self.state.screen is Screen.GREEN and self.state.hall is not None:
            try:
                self.state.hall.category(code)
            except KeyError:
                return
            item = self.state.item_config()  # a senior's card swiped on an item's screen: that item, green
            if item is not None and item.category == code and self.state.card is not None:
                await self._take(IssueRequest(item_id=item.id, priority="green", id_hash=self.card_hash()))
                return
            await self._take(IssueRequest(category=code, priority="green", id_hash=self.card_hash()))

    async def retry(self) -> None:
        """重试 on the error screen: the same request with the same Idempotency-Key."""
        error = self.state.error
        if self.state.screen is not Screen.ERROR or error is None:
            return
        if error.request is not None:
            await self._take(error.request, retrying=True)
        elif error.checkin is not None and error.problem is Problem.UNREACHABLE:
            await self._run_check_in(error.checkin)

    def print_notice(self) -> None:
        """打印告知单: the one-time notice of the item shown; the screen never waits for the printer."""
        state = self.state
        item = state.item_config()
        if not self._can_tap() or state.screen is not Screen.ITEM or item is None:
            return
        if state.notice.state is PrintState.PRINTING:
            return  # one at a time: a second tap while it prints is not a second notice
        if self.printer is None:
            state.notice = PrintProgress(PrintState.NO_PRINTER)
        else:
            self._notice_job = self.printer.print_notice(item)
            state.notice = self._first_progress()
        self._changed()

    def tick(self) -> None:
        """Called about once a second: the idle timeout, and the clock on screen."""
        state = self.state
        idle = self._clock() - state.last_touch >= self.idle_timeout_s
        if idle and not state.busy and state.screen not in (Screen.STARTING, Screen.HOME):
            log.info("kiosk: idle on %s for %.0f s: back home", state.screen.value, self.idle_timeout_s)
            self.go_home(reset_language=True)
            return
        if idle and state.screen is Screen.HOME and (state.lang != "zh" or state.card is not None):
            self.go_home(reset_language=True)
            return
        view = self.view()
        if (view.date_text, view.time_text) != self._shown_minute:
            self._changed()

    # -- taking a ticket -----------------------------------------------------------------------

    def _can_tap(self) -> bool:
        if self.state.busy:
            return False
        self.touch()
        return True

    def _go(self, screen: Screen) -> None:
        state = self.state
        if state.screen is not screen:
            state.history.append(state.screen)
        state.screen = screen
        self._changed()

    def _key_for(self, request: IssueRequest, retrying: bool) -> str:
        pending, now = self.state.pending, self._clock()
        fresh = pending is not None and (retrying or now - pending.since < self.pending_reuse_s)
        if pending is not None and fresh and pending.request == request:
            return pending.key
        assert self.setup is not None
        return self._new_key(self.setup.device.id)

    async def _take(self, request: IssueRequest, retrying: bool = False) -> None:
        state = self.state
        if state.busy or self.setup is None:
            return
        key = self._key_for(request, retrying)
        state.busy, state.busy_shown = True, False
        state.pending = PendingIssue(request, key, self._clock())
        self.touch()
        please_wait = asyncio.get_running_loop().call_later(self.busy_delay_s, self._show_busy)
        try:
            issued = await self._issue(request, key)
        except CategoryFull:
            state.pending = None
            self._fail(ErrorInfo(Problem.CATEGORY_FULL, request, self._category_of(request)))
        except ServerUnreachable as error:
            log.warning("kiosk: no ticket, the server is unreachable: %s", error)
            self._fail(ErrorInfo(Problem.UNREACHABLE, request))
        except NotRegistered as error:
            log.error("kiosk: the server refuses this kiosk: %s", error)
            state.pending = None
            self._fail(ErrorInfo(Problem.REFUSED, request))
        except ApiError as error:
            state.pending = None
            if error.code == "id_ticket_open":  # the message names the number, never the card
                log.info("kiosk: this ID card's ticket of the category is still open: no second one")
                self._fail(ErrorInfo(Problem.ID_TICKET_OPEN, request, detail=_number_in(error.message)))
            else:
                log.error("kiosk: the server refused the ticket: %s", error)
                self._fail(ErrorInfo(Problem.FAILED, request, detail=error.code))
        except BadAnswer as error:  # the ticket may exist: keep the key for the next same request
            log.error("kiosk: %s", error)
            self._fail(ErrorInfo(Problem.FAILED, request, detail="bad_answer"))
        except Exception as error:  # a bug must not freeze the kiosk on "please wait"
            log.exception("kiosk: taking a ticket failed")
            self._fail(ErrorInfo(Problem.FAILED, request, detail=type(error).__name__))
        else:
            state.pending = None
            self._show_ticket(issued.ticket)
        finally:
            please_wait.cancel()
            state.busy = state.busy_shown = False
            self.touch()
            self._changed()

    async def _run_check_in(self, code: str) -> None:
        state = self.state
        if state.busy or self.setup is None or self._check_in is None:
            return
        state.busy, state.busy_shown = True, False
        self.touch()
        please_wait = asyncio.get_running_loop().call_later(self.busy_delay_s, self._show_busy)
        try:
            issued = await self._check_in(code)
        except ServerUnreachable as error:
            log.warning("kiosk: no check-in, the server is unreachable: %s", error)
            self._fail(ErrorInfo(Problem.UNREACHABLE, checkin=code))
        except NotRegistered as error:
            log.error("kiosk: the server refuses this kiosk: %s", error)
            self._fail(ErrorInfo(Problem.REFUSED, checkin=code))
        except ApiError as error:
            log.info("kiosk: check-in of %s refused: %s", code, error)
            if error.code in CHECKIN_REFUSALS:
                self._fail(ErrorInfo(Problem.CHECKIN_REFUSED, detail=error.code, checkin=code,
                                     when=_when(error)))  # fmt: skip
            else:
                self._fail(ErrorInfo(Problem.FAILED, detail=error.code, checkin=code))
        except BadAnswer as error:
            log.error("kiosk: %s", error)
            self._fail(ErrorInfo(Problem.FAILED, detail="bad_answer", checkin=code))
        except Exception as error:  # a bug must not freeze the kiosk on "please wait"
            log.exception("kiosk: checking in failed")
            self._fail(ErrorInfo(Problem.FAILED, detail=type(error).__name__, checkin=code))
        else:
            self._show_ticket(issued.ticket)
        finally:
            please_wait.cancel()
            state.busy = state.busy_shown = False
            self.touch()
            self._changed()

    def _show_busy(self) -> None:
        if self.state.busy:
            self.state.busy_shown = True
            self._changed(now=True)

    def _fail(self, error: ErrorInfo) -> None:
        state = self.state
        state.error = error
        if state.screen is not Screen.ERROR:
            state.history.append(state.screen)
        state.screen = Screen.ERROR

    def _show_ticket(self, ticket: IssuedTicket) -> None:
        state = self.state
        assert self.setup is not None
        state.ticket, state.track_url = ticket, self.setup.track_url(ticket)
        state.screen, state.history, state.error = Screen.TICKET, [], None
        state.checkin_code = ""
        state.card = None  # its ticket is taken: the card is forgotten
        if self.printer is None:
            state.receipt = PrintProgress(PrintState.NO_PRINTER)
            return
        self._receipt_job = self.printer.print_receipt(ticket, state.track_url)
        state.receipt = self._first_progress()

    def _first_progress(self) -> PrintProgress:
        printer = self.state.printer
        if printer is not None and not printer.can_print:
            return PrintProgress(PrintState.WAITING, printer)
        return PrintProgress(PrintState.PRINTING)

    def _category_of(self, request: IssueRequest) -> Category | None:
        hall = self.state.hall
        if hall is None:
            return None
        code = request.category
        if code is None and request.item_id is not None:
            code = hall.item(request.item_id).category
        return hall.category(code) if code else None


CHECKIN_REFUSALS = frozenset(
    {"too_early", "appointment_not_today", "appointment_cancelled", "appointment_missed", "not_found"}
)


def _number_in(message: str) -> str:
    """The number an id_ticket_open refusal names ("… already has ticket A001 …")."""
    match = re.search(r"ticket ([A-Z]\d{3,4})", message)
    return match.group(1) if match else ""


def _when(error: ApiError) -> str:
    """The time (too_early) or the day and slot (not today) a refusal names; "" when it names none."""
    if error.code == "too_early":
        match = re.search(r"from (\d{1,2}:\d{2})", error.message)
    elif error.code == "appointment_not_today":
        match = re.search(r"for (\d{4}-\d{2}-\d{2} \d{1,2}:\d{2})", error.message)
    else:
        return ""
    return match.group(1) if match else ""
