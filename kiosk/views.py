"""The strings of every kiosk screen, as a pure function of the state and the time (no Kivy).

The .kv layout only places these strings; nothing there decides what a citizen reads, so every
word on every screen is tested without a window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from config.schema import CaseKind, Category, Hall, ServiceItem
from kiosk import texts
from kiosk.case_lookup import CaseLookupView, lookup_view
from kiosk.idcard.texts import text as card_text
from kiosk.return_visit import ReturnVisitView, return_view
from kiosk.return_visit import text as return_text
from kiosk.state import ErrorInfo, KioskState, PrintProgress, PrintState, Problem, Purpose, Screen
from kiosk.texts import Lang, t
from printer.layout import wording
from printer.status import PrinterState
from queue_server.protocol import IssuedTicket, QueueSummary


@dataclass(frozen=True)
class Tile:
    """A category as a big button: on the home screen with its queue, elsewhere with its name only."""

    code: str
    prefix: str
    name: str
    waiting: str  # "等候 3 人"
    wait: str  # "约21分钟" / "暂无窗口办理"
    colour: str


@dataclass(frozen=True)
class Row:
    id: str
    name: str


@dataclass(frozen=True)
class Fact:
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class HomeView:
    prompt: str
    tiles: tuple[Tile, ...]
    green: str
    green_hint: str
    checkin: str
    checkin_hint: str
    guide: str
    guide_hint: str
    return_visit: str = ""  # 补办 / 补交材料 (kiosk/return_visit.py)
    return_visit_hint: str = ""
    case_lookup: str = ""  # 办件查询 · 投诉 (kiosk/case_lookup.py)
    case_lookup_hint: str = ""


@dataclass(frozen=True)
class CategoryView:
    title: str
    colour: str
    queue: str
    take: str
    choose: str
    items: tuple[Row, ...]


@dataclass(frozen=True)
class ItemView:
    title: str
    category: str
    facts: tuple[Fact, ...]
    take: str
    notice: str
    notice_status: str
    notice_tone: str  # "ok" | "warn" | ""
    case_lookup: str = ""  # 办件查询 · 投诉 (kiosk/case_lookup.py)


@dataclass(frozen=True)
class TicketView:
    heading: str
    number: str
    badge: str  # "绿色通道" for a priority ticket, else ""
    what: str  # "计生服务 · 生育登记"
    windows: str
    ahead: str
    wait: str
    qr_url: str
    qr_hint: str
    print_status: str
    print_tone: str
    done: str


@dataclass(frozen=True)
class MessageView:
    """Starting, errors, 绿色通道, 预约签到, 办事指南: a title, a text, maybe category tiles and a retry."""

    title: str
    body: str
    tone: str  # "info" | "warn"
    tiles: tuple[Tile, ...] = ()
    retry: str = ""  # the label of the retry button; "" for none


@dataclass(frozen=True)
class CheckinView:
    """预约签到: the code typed so far in eight boxes, the keypad, 退格 / 清空 / 签到."""

    title: str
    body: str
    slots: tuple[str, ...]  # eight: a typed symbol, or "" for a box still empty
    status: str  # "已输入 3/8 位" / "请点击「签到」"
    keys: tuple[str, ...]
    delete: str
    clear: str
    submit: str
    ready: bool  # eight symbols: 签到 can be tapped


@dataclass(frozen=True)
class KioskView:
    screen: str
    lang: Lang
    hall_name: str
    date_text: str
    time_text: str
    lang_button: str
    back: str
    home_button: str
    banner: str  # network or printer trouble, shown on every screen; "" when all is well
    busy: bool
    busy_text: str
    home: HomeView | None = None
    category: CategoryView | None = None
    item: ItemView | None = None
    ticket: TicketView | None = None
    message: MessageView | None = None
    checkin: CheckinView | None = None
    return_visit: ReturnVisitView | None = None
    case_lookup: CaseLookupView | None = None


def build(state: KioskState, now: dt.datetime) -> KioskView:
    """The view of the current screen; `now` is aware (shown in the hall's time zone)."""
    lang, hall = state.lang, state.hall
    local = now.astimezone(ZoneInfo(hall.timezone)) if hall else now
    view = KioskView(
        screen=state.screen.value,
        lang=lang,
        hall_name=_name(hall, lang) if hall else "",
        date_text=texts.date_text(local, lang),
        time_text=texts.time_text(local),
        lang_button=t("lang.other", lang),
        back=t("back", lang),
        home_button=t("home", lang),
        banner=banner(state),
        busy=state.busy and state.busy_shown,
        busy_text=(t(_busy_key(state), lang) if state.busy and state.busy_shown else ""),
    )
    screen = state.screen
    if screen is Screen.STARTING or hall is None:
        if state.starting_problem is Problem.REFUSED:
            return _with(view, message=error_view(ErrorInfo(Problem.REFUSED), lang))
        body = t("starting.retrying", lang) if state.starting_problem else ""
        return _with(view, message=MessageView(t("starting.title", lang), body, "warn" if body else "info"))
    if screen is Screen.HOME:
        home = home_view(hall, state.queues, lang)
        if state.card is not None:
            home = replace(home, prompt=card_text("home", lang, name=state.card.masked_name))
        elif state.reader is not None:
            home = replace(home, prompt=card_text("home.reader", lang))
        return _with(view, home=home)
    if screen is Screen.CATEGORY and (category := state.category_config()) is not None:
        return _with(view, category=category_view(hall, category, state.queues.get(category.code), state.purpose, lang))
    if screen is Screen.ITEM and (item := state.item_config()) is not None:
        return _with(view, item=item_view(hall, item, state.notice, lang))
    if screen is Screen.TICKET and state.ticket is not None:
        return _with(view, ticket=ticket_view(state.ticket, state.track_url, state.receipt, lang))
    if screen is Screen.GREEN:
        card = state.card
        body = (
            card_text("green.body", lang, name=card.masked_name, age=hall.id_card.senior_age)
            if card is not None and card.senior
            else t("green.body", lang)
        )
        return _with(view, message=MessageView(t("green.title", lang), body, "info", tiles=name_tiles(hall, lang)))
    if screen is Screen.GUIDE:
        return _with(view, message=MessageView(t("guide.title", lang), t("guide.body", lang), "info",
                                               tiles=name_tiles(hall, lang)))  # fmt: skip
    if screen is Screen.CHECKIN:
        return _with(view, checkin=checkin_view(state.checkin_code, lang))
    if screen is Screen.RETURN_VISIT:
        return _with(view, return_visit=return_view(state, lang))
    if screen is Screen.CASE_LOOKUP:
        return _with(view, case_lookup=lookup_view(state, lang))
    if screen is Screen.ERROR and state.error is not None and state.error.problem is Problem.ID_TICKET_OPEN:
        name = state.card.masked_name if state.card is not None else ""
        body = card_text("open.body", lang, name=name, number=state.error.detail)
        return _with(view, message=MessageView(card_text("open.title", lang), body, "warn"))
    if screen is Screen.ERROR and state.error is not None:
        return _with(view, message=error_view(state.error, lang))
    return _with(view, screen=Screen.HOME.value, home=home_view(hall, state.queues, lang))


def _busy_key(state: KioskState) -> str:
    checking_in = state.screen is Screen.CHECKIN or (state.error is not None and state.error.checkin is not None)
    if state.screen is Screen.CASE_LOOKUP:
        return "busy.lookup"
    return "busy.checkin" if checking_in else "busy.issue"


CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the booking codes' symbols (as queue_server's appointments)
CODE_LENGTH = 8


def checkin_view(code: str, lang: Lang) -> CheckinView:
    ready = len(code) == CODE_LENGTH
    return CheckinView(
        title=t("checkin.title", lang),
        body=t("checkin.body", lang),
        slots=tuple(code[n] if n < len(code) else "" for n in range(CODE_LENGTH)),
        status=t("checkin.ready", lang) if ready else t("checkin.count", lang, n=len(code)),
        keys=tuple(CODE_ALPHABET),
        delete=t("checkin.delete", lang),
        clear=t("checkin.clear", lang),
        submit=t("checkin.submit", lang),
        ready=ready,
    )


def _with(view: KioskView, **changes: object) -> KioskView:
    return replace(view, **changes)  # type: ignore[arg-type]


def _name(thing: Hall | Category | ServiceItem, lang: Lang) -> str:
    return thing.name_zh if lang == "zh" else thing.name_en


def banner(state: KioskState) -> str:
    """Trouble every screen mentions: the printer cannot print, or the live queue lengths are stale."""
    lang = state.lang
    if state.printer is not None and not state.printer.can_print:
        return t("banner.printer", lang, printer=texts.printer_label(state.printer, lang))
    if state.hall is not None and not state.online:
        return t("banner.offline", lang)
    if state.reader is False:
        return card_text("banner.reader", lang)
    return ""


def home_view(hall: Hall, queues: dict[str, QueueSummary], lang: Lang) -> HomeView:
    return HomeView(
        prompt=t("home.prompt", lang),
        tiles=tuple(queue_tile(category, queues.get(category.code), lang) for category in hall.categories),
        green=t("green", lang),
        green_hint=t("green.hint", lang),
        checkin=t("checkin", lang),
        checkin_hint=t("checkin.hint", lang),
        guide=t("guide", lang),
        guide_hint=t("guide.hint", lang),
        return_visit=return_text("home", lang),
        return_visit_hint=return_text("home.hint", lang),
        case_lookup=t("lookup", lang),
        case_lookup_hint=t("lookup.hint", lang),
    )


def _ticket_estimate(ticket: IssuedTicket, lang: Lang) -> str:
    low, high = ticket.estimated_wait_low_s, ticket.estimated_wait_high_s
    return texts.estimate(ticket.estimated_wait_s, low, high, ticket.estimate_rough, lang)


def queue_tile(category: Category, queue: QueueSummary | None, lang: Lang) -> Tile:
    if queue is None:  # the live feed has not told us yet
        waiting = wait = t("home.loading", lang)
    else:
        waiting = t("home.waiting", lang, n=queue.waiting)
        wait = (
            texts.estimate(queue.wait_s, queue.wait_low_s, queue.wait_high_s, queue.rough, lang)
            if queue.wait_s is not None
            else t("home.no_window", lang)
        )
    return Tile(category.code, category.prefix, _name(category, lang), waiting, wait, category.colour)


def name_tiles(hall: Hall, lang: Lang) -> tuple[Tile, ...]:
    return tuple(Tile(c.code, c.prefix, _name(c, lang), "", "", c.colour) for c in hall.categories)


def category_view(
    hall: Hall, category: Category, queue: QueueSummary | None, purpose: Purpose, lang: Lang
) -> CategoryView:
    if queue is None:
        line = ""
    elif queue.wait_s is None:
        line = t("category.queue_closed", lang, n=queue.waiting)
    else:
        wait = texts.estimate(queue.wait_s, queue.wait_low_s, queue.wait_high_s, queue.rough, lang)
        line = t("category.queue", lang, n=queue.waiting, wait=wait)
    items = tuple(Row(item.id, _name(item, lang)) for item in hall.items if item.category == category.code)
    choose = t("category.choose_guide" if purpose is Purpose.GUIDE else "category.choose", lang)
    return CategoryView(_name(category, lang), category.colour, line, t("category.take", lang), choose, items)


def facts(hall: Hall, item: ServiceItem, lang: Lang) -> tuple[Fact, ...]:
    """The eight published facts (办事八公开) of an item, in the order of the notice."""
    materials = []
    for material in item.materials:
        form = material.form.label_zh if lang == "zh" else material.form.label_en
        copies = t("material.copies", lang, n=material.copies) if material.copies > 1 else ""
        line = t("material.line", lang, name=material.name, form=form, copies=copies)
        materials.append(f"{line}\n　{material.notes}" if material.notes else line)
    promised = item.promised_days if item.case_kind is CaseKind.PROMISED else 0
    if item.fee.free or item.fee.amount_yuan is None:
        fees = [t("fee.free", lang)]
    else:
        fees = [wording.yuan(item.fee.amount_yuan), *([item.fee.basis] if item.fee.basis else [])]
    # No ASCII space after the number: Kivy breaks lines at spaces, and would put the number on a line alone.
    numbered = tuple(f"{n}．{step}" for n, step in enumerate(item.procedure, 1))
    return (
        Fact(t("fact.conditions", lang), tuple(item.conditions)),
        Fact(t("fact.materials", lang), tuple(materials)),
        Fact(t("fact.procedure", lang), numbered),
        Fact(t("fact.time_limit", lang), (texts.time_limit(promised, lang),)),
        Fact(t("fact.fees", lang), tuple(fees)),
        Fact(t("fact.department", lang), (item.department,)),
        Fact(t("fact.phone", lang), (item.supervision_phone or hall.supervision_phone,)),
        Fact(t("fact.legal_basis", lang), tuple(item.legal_basis)),
    )


def item_view(hall: Hall, item: ServiceItem, notice: PrintProgress, lang: Lang) -> ItemView:
    status, tone = print_line(notice, "notice", lang)
    return ItemView(
        title=_name(item, lang),
        category=_name(hall.category(item.category), lang),
        facts=facts(hall, item, lang),
        take=t("item.take", lang),
        notice=t("item.notice", lang),
        notice_status=status,
        notice_tone=tone,
        case_lookup=t("lookup", lang),
    )


def print_line(progress: PrintProgress, kind: str, lang: Lang) -> tuple[str, str]:
    """What the screen says about a print job ("notice" or "print" wording) and its tone."""
    state = progress.state
    if state is PrintState.NONE:
        return "", ""
    if state is PrintState.WAITING:
        printer = texts.printer_label(progress.printer or PrinterState.UNREACHABLE, lang)
        return t(f"{kind}.waiting", lang, printer=printer), "warn"
    tone = "ok" if state in (PrintState.PRINTING, PrintState.DONE, PrintState.SENT) else "warn"
    return t(f"{kind}.{state.value}", lang), tone


def windows_line(windows: list[int], lang: Lang) -> str:
    if not windows:
        return t("ticket.board", lang)
    names = t("ticket.window_sep", lang).join(t("ticket.window_zh", lang, n=n) for n in windows)
    return t("ticket.windows", lang, windows=names)


def ticket_view(ticket: IssuedTicket, track_url: str, receipt: PrintProgress, lang: Lang) -> TicketView:
    category = ticket.category_name_zh if lang == "zh" else ticket.category_name_en
    item = ticket.item_name_zh if lang == "zh" else ticket.item_name_en
    status, tone = print_line(receipt, "print", lang)
    return TicketView(
        heading=t("ticket.heading", lang),
        number=ticket.number,
        badge=(
            t("ticket.green", lang)
            if ticket.priority == "green"
            else t("ticket.appointment", lang)
            if ticket.priority == "appointment"
            else ""
        ),
        what=f"{category} · {item}" if item else category,
        windows=windows_line(ticket.windows, lang),
        ahead=texts.ahead(ticket.ahead, lang),
        wait=(
            t("ticket.wait", lang, wait=_ticket_estimate(ticket, lang))
            if ticket.estimated_wait_s is not None
            else t("ticket.wait_unknown", lang)
        ),
        qr_url=track_url,
        qr_hint=t("ticket.qr", lang),
        print_status=status,
        print_tone=tone,
        done=t("ticket.done", lang),
    )


def error_view(error: ErrorInfo, lang: Lang) -> MessageView:
    problem = error.problem
    if problem is Problem.UNREACHABLE:
        return MessageView(t("error.unreachable.title", lang), t("error.unreachable.body", lang), "warn",
                           retry=t("error.retry", lang))  # fmt: skip
    if problem is Problem.CATEGORY_FULL and error.category is not None:
        category = _name(error.category, lang)
        return MessageView(t("error.full.title", lang, category=category),
                           t("error.full.body", lang, cap=error.category.daily_cap), "warn")  # fmt: skip
    if problem is Problem.REFUSED:
        return MessageView(t("error.refused.title", lang), t("error.refused.body", lang), "warn")
    if problem is Problem.CHECKIN_REFUSED:
        return checkin_refused_view(error, lang)
    if error.checkin is not None:
        return MessageView(t("checkin.failed.title", lang), t("error.failed.body", lang, detail=error.detail), "warn")
    return MessageView(t("error.failed.title", lang), t("error.failed.body", lang, detail=error.detail), "warn")


def checkin_refused_view(error: ErrorInfo, lang: Lang) -> MessageView:
    """Why the server refused a check-in (its code), and what the citizen can do instead."""
    key = f"checkin.{error.detail}"
    title = t(f"{key}.title", lang)
    if error.detail == "not_found":
        return MessageView(title, t(f"{key}.body", lang, code=error.checkin or ""), "warn")
    if error.detail in ("too_early", "appointment_not_today"):
        if not error.when:
            return MessageView(title, t(f"{key}.body_nowhen", lang), "warn")
        return MessageView(title, t(f"{key}.body", lang, when=_when_text(error.when, lang)), "warn")
    return MessageView(title, t(f"{key}.body", lang), "warn")


def _when_text(when: str, lang: Lang) -> str:
    """ "2026-03-17 09:00" as 3月17日 09:00 (or Tue 17 Mar 09:00); a bare time as it is."""
    try:
        moment = dt.datetime.strptime(when, "%Y-%m-%d %H:%M")
    except ValueError:
        return when
    if lang == "zh":
        return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment:%a %d %b} {moment:%H:%M}"
