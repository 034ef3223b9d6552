"""Every word the kiosk shows, in Chinese first and English second, with the wording of values."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from printer.layout import wording
from printer.status import PrinterState

Lang = Literal["zh", "en"]

WEEKDAYS_ZH = "一二三四五六日"

TEXTS: dict[str, tuple[str, str]] = {
    # home
    "title": ("自助取号", "Take a number"),
    "home.prompt": ("请点击要办理的业务取号", "Tap the service you need"),
    "home.waiting": ("等候 {n} 人", "{n} waiting"),
    "home.no_window": ("暂无窗口办理", "No window open now"),
    "home.loading": ("—", "—"),
    "green": ("绿色通道", "Priority lane"),
    "green.hint": ("老人 残疾人 军人", "Elderly, disabled, servicemen"),
    "checkin": ("预约签到", "Appointment"),
    "checkin.hint": ("已预约的群众", "If you booked"),
    "guide": ("办事指南", "Service guide"),
    "guide.hint": ("要带什么材料", "What to bring"),
    "lookup": ("办件查询 · 投诉", "Case lookup · Complaints"),
    "lookup.hint": ("查办理进度 扫码投诉", "Check a case, complain"),
    "lang.other": ("English", "中文"),
    "back": ("‹ 返回", "‹ Back"),
    "home": ("首页", "Home"),
    # banners
    "banner.offline": (
        "网络中断，正在重新连接…（排队人数可能不是最新的）",
        "Network down, reconnecting… (the queues shown may be out of date)",
    ),
    "banner.printer": ("{printer}：号码仍会显示在屏幕上", "{printer}: your number will still be shown on screen"),
    # category
    "category.queue": ("等候 {n} 人 · 预计等候{wait}", "{n} waiting · wait {wait}"),
    "category.queue_closed": ("等候 {n} 人 · 暂无窗口办理", "{n} waiting · no window open now"),
    "category.take": ("不确定办哪一项？直接取号", "Not sure which? Take a number"),
    "category.choose": ("请选择办理事项：", "Choose the service:"),
    "category.choose_guide": ("请选择要查看的事项：", "Choose a service to read about:"),
    # item: the eight published facts (办事八公开)
    "fact.legal_basis": ("办事依据", "Legal basis"),
    "fact.conditions": ("办事条件", "Conditions"),
    "fact.procedure": ("办理程序", "Procedure"),
    "fact.materials": ("申报材料", "Materials to bring"),
    "fact.time_limit": ("承诺时限", "Time limit"),
    "fact.fees": ("收费标准", "Fees"),
    "fact.department": ("经办科室", "Handled by"),
    "fact.phone": ("监督电话", "Supervision phone"),
    "fee.free": ("不收费", "Free of charge"),
    "material.line": ("• {name}（{form}{copies}）", "• {name} ({form}{copies})"),
    "material.copies": ("，{n}份", ", {n} copies"),
    "item.take": ("取 号", "Take a number"),
    "item.notice": ("打印告知单", "Print checklist"),
    "notice.printing": ("正在打印告知单…", "Printing the checklist…"),
    "notice.done": ("告知单已打印，请在出纸口取走", "Checklist printed: take it from the slot"),
    "notice.waiting": (
        "{printer}，暂时无法打印告知单，请记下所需材料",
        "{printer}: cannot print now; please note the materials",
    ),
    "notice.failed": (
        "告知单未能打印，请记下所需材料",
        "The checklist could not be printed; please note the materials",
    ),
    "notice.sent": ("告知单已发送到打印机，请在出纸口取走", "Checklist sent to the printer: take it from the slot"),
    "notice.unconfirmed": (
        "告知单可能未打印完整，请记下所需材料",
        "The checklist may not have printed in full; please note the materials",
    ),
    "notice.no_printer": ("本机不能打印，请记下所需材料", "This kiosk cannot print; please note the materials"),
    # ticket
    "ticket.heading": ("您的号码", "Your number"),
    "ticket.green": ("绿色通道", "Priority lane"),
    "ticket.appointment": ("预约", "Appointment"),
    "ticket.windows": ("请到 {windows} 等候叫号", "Wait to be called to window {windows}"),
    "ticket.window_sep": ("、", " or "),
    "ticket.window_zh": ("{n}号窗口", "{n}"),
    "ticket.board": ("请留意叫号屏", "Watch the display board"),
    "ticket.wait": ("预计等候{wait}", "Estimated wait: {wait}"),
    "ticket.wait_unknown": ("窗口开放后按顺序叫号", "Numbers are called in order once a window opens"),
    "ticket.qr": ("扫码随时查看排队进度", "Scan to follow your place in the queue"),
    "ticket.done": ("完 成", "Done"),
    "print.printing": ("正在打印凭条…", "Printing your ticket…"),
    "print.done": ("凭条已打印，请在出纸口取走", "Take your ticket from the slot"),
    "print.waiting": (
        "{printer}，凭条暂时无法打印。号码已生效：请记住号码或扫描二维码",
        "{printer}: no paper ticket now. Your number is valid: note it or scan the QR code",
    ),
    "print.failed": (
        "凭条未能打印。号码已生效：请记住号码或扫描二维码",
        "The ticket could not be printed. Your number is valid: note it or scan the QR code",
    ),
    "print.sent": ("凭条已发送到打印机，请在出纸口取走", "Your ticket was sent to the printer: take it from the slot"),
    "print.unconfirmed": (
        "凭条可能未打印完整。号码已生效：请记住号码或扫描二维码",
        "The ticket may not have printed in full. Your number is valid: note it or scan the QR code",
    ),
    "print.no_printer": ("请记住号码或扫描二维码", "Please note your number or scan the QR code"),
    # busy
    "busy.issue": ("正在取号，请稍候…", "Taking a number, please wait…"),
    # green channel, appointments, guide
    "green.title": ("绿色通道", "Priority lane"),
    "green.body": (
        "老年人、残疾人、现役军人及军烈属等优先办理。请选择业务取号，到窗口时请出示相关证件。",
        "Priority for the elderly, people with disabilities, servicemen and military families. "
        "Choose the service; please show your card at the window.",
    ),
    "checkin.title": ("预约签到", "Appointment check-in"),
    "checkin.body": (
        "请输入预约或远程取号时得到的8位码（字母和数字）， 然后点击「签到」。",
        "Enter the code of your booking or remote ticket (8 letters and digits), then tap Check in.",
    ),
    "checkin.delete": ("退 格", "Delete"),
    "checkin.clear": ("清 空", "Clear"),
    "checkin.submit": ("签 到", "Check in"),
    "checkin.count": ("已输入 {n}/8 位", "{n} of 8 characters"),
    "checkin.ready": ("请点击「签到」", "Tap Check in"),
    "busy.checkin": ("正在签到，请稍候…", "Checking in, please wait…"),
    "guide.title": ("办事指南", "Service guide"),
    "guide.body": (
        "请选择业务类别，查看每个事项的办事条件、所需材料和办理时限（办事八公开），可打印一次性告知单。",
        "Choose a category to read each service's conditions, materials and time limit, and print the checklist.",
    ),
    # 办件查询 · 投诉 (kiosk/case_lookup.py): a case's public facts by its code; the QR of /q/{hall}
    "lookup.title": ("办件查询 · 投诉举报", "Case lookup · Complaints"),
    "lookup.body": (
        "请输入回执或补正通知上的9位办件编号，再点「查询」",
        "Type the 9-character case code on your receipt or notice, then tap Look up",
    ),
    "lookup.ready": ("请点击「查询」", "Tap Look up"),
    "lookup.submit": ("查 询", "Look up"),
    "lookup.qr": ("手机扫码 查询·投诉", "Scan: look up, complain"),
    "lookup.intro.title": ("投诉举报", "Complaints"),
    "lookup.intro.body": (
        "对办件或服务不满意？请用手机扫描二维码投诉举报，可以匿名；凭投诉编号查看答复。",
        "Unhappy with a case or the service? Scan the QR code with your phone to complain (anonymous allowed), "
        "and read the answer with your complaint code.",
    ),
    "lookup.case": ("办件 {code}：{state}", "Case {code}: {state}"),
    "lookup.item": ("办理事项：{name}", "Service: {name}"),
    "lookup.opened": ("受理日期：{day}", "Accepted on {day}"),
    "lookup.due": ("承诺办结日期：{day}", "Due by {day}"),
    "lookup.provisional": ("（暂定）", " (provisional)"),
    "lookup.waiting_materials": ("补齐材料后开始计时", "The time limit starts once the materials are brought"),
    "lookup.missing": ("需补交：{materials}", "To bring: {materials}"),
    "lookup.completed": ("办结日期：{day}", "Completed on {day}"),
    "lookup.result": ("领取方式：{result}", "Collect: {result}"),
    "lookup.closed": ("结束日期：{day}", "Closed on {day}"),
    "lookup.window": ("办理窗口：{name}", "Window: {name}"),
    "lookup.department": ("经办科室：{name}", "Department: {name}"),
    "lookup.not_found.title": ("未查到该办件编号", "No case with this code"),
    "lookup.not_found.body": (
        "请核对回执或通知上的办件编号 {code}，或到咨询台询问。",
        "Please check the case code {code} on your receipt or notice, or ask at the help desk.",
    ),
    "lookup.unreachable.title": ("暂时无法连接服务器", "Cannot reach the server"),
    "lookup.unreachable.body": (
        "请稍后再点「查询」重试，或用手机扫描二维码查询。",
        "Please tap Look up again shortly, or scan the QR code with your phone.",
    ),
    "lookup.throttled.title": ("查询人数较多", "Many lookups just now"),
    "lookup.throttled.body": (
        "请稍等片刻再点「查询」，或用手机扫描二维码查询。",
        "Please wait a moment and tap Look up again, or scan the QR code with your phone.",
    ),
    "lookup.failed.title": ("查询没有成功", "The lookup failed"),
    "lookup.failed.body": ("请到咨询台询问（{detail}）。", "Please ask at the help desk ({detail})."),
    "busy.lookup": ("正在查询，请稍候…", "Looking up, please wait…"),
    # errors
    "error.unreachable.title": ("暂时无法连接服务器", "The server cannot be reached"),
    "error.unreachable.body": (
        "没有取到号，请稍候点击「重试」；也可到综合受理窗口咨询。",
        "No number was taken. Please tap Retry in a moment, or ask at the general reception window.",
    ),
    "error.full.title": ("今日{category}号已取完", "No more {category} numbers today"),
    "error.full.body": (
        "该类业务每日限{cap}个号。请下一个工作日再来，或到综合受理窗口咨询。",
        "This service gives {cap} numbers a day. Please come back on the next working day, or ask at the "
        "general reception window.",
    ),
    "error.refused.title": ("本取号机暂不能使用", "This kiosk cannot be used now"),
    "error.refused.body": (
        "服务器不认可本机（设备未登记或令牌已停用），请联系大厅工作人员。",
        "The server does not accept this kiosk (not registered, or its token was revoked). Please ask the staff.",
    ),
    "error.failed.title": ("取号没有成功", "No number was taken"),
    "error.failed.body": (
        "请到综合受理窗口咨询。（{detail}）",
        "Please ask at the general reception window. ({detail})",
    ),
    "error.retry": ("重 试", "Retry"),
    # appointment check-in refused (the server's codes)
    "checkin.not_found.title": ("未找到该预约", "No appointment with this code"),
    "checkin.not_found.body": (
        "预约码{code}不存在。请核对预约时得到的8位预约码，点击「返回」重新输入；或到综合受理窗口咨询。",
        "There is no appointment {code} in this hall. Check the 8 characters of your booking message, tap Back "
        "and enter it again, or ask at the general reception window.",
    ),
    "checkin.too_early.title": ("还未到签到时间", "Too early to check in"),
    "checkin.too_early.body": (
        "请于{when}后再来签到。如不想等候，也可以取普通号。",
        "Please check in from {when}. If you prefer not to wait, take an ordinary number.",
    ),
    "checkin.too_early.body_nowhen": (
        "预约时段开始前不久才能签到，请稍后再来。也可以取普通号。",
        "Check-in opens shortly before your slot; please come back later, or take an ordinary number.",
    ),
    "checkin.appointment_not_today.title": ("您的预约不是今天", "Your appointment is not today"),
    "checkin.appointment_not_today.body": (
        "预约时间为{when}，请在预约当天来签到。今天办理请取普通号。",
        "Your appointment is on {when}: check in on that day. To be served today, take an ordinary number.",
    ),
    "checkin.appointment_not_today.body_nowhen": (
        "请在预约当天来签到。今天办理请取普通号。",
        "Check in on the day of your appointment. To be served today, take an ordinary number.",
    ),
    "checkin.appointment_cancelled.title": ("该预约已取消", "This appointment was cancelled"),
    "checkin.appointment_cancelled.body": (
        "已取消的预约不能签到。请取普通号，或重新预约。",
        "A cancelled appointment cannot be checked in. Please take an ordinary number, or book again.",
    ),
    "checkin.appointment_missed.title": ("该预约已过签到时间", "The check-in time of this appointment is over"),
    "checkin.appointment_missed.body": (
        "签到时间已过，预约（或远程取号）已失效。请取普通号排队办理。",
        "The appointment (or remote ticket) lapsed when its check-in time ended. Please take an ordinary number.",
    ),
    "checkin.failed.title": ("签到没有成功", "Check-in failed"),
    # starting
    "starting.title": ("正在连接服务器…", "Connecting to the server…"),
    "starting.retrying": (
        "暂时无法连接服务器，正在重试…请稍候，或到窗口取号。",
        "The server cannot be reached; retrying… Please wait, or ask at a window.",
    ),
}


def t(key: str, lang: Lang, **values: object) -> str:
    zh, en = TEXTS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def wait(seconds: int | None, lang: Lang) -> str:
    return wording.wait_zh(seconds) if lang == "zh" else wording.wait_en(seconds)


def span(low_s: int | None, high_s: int | None) -> tuple[int, int] | None:
    """The estimate's 90% interval, when the server gave one."""
    return (low_s, high_s) if low_s is not None and high_s is not None else None


def estimate(seconds: int | None, low_s: int | None, high_s: int | None, rough: bool, lang: Lang) -> str:
    """The estimated wait as the server gave it: a range ("约10–20分钟"), said to be rough when it is."""
    given = span(low_s, high_s)
    return wording.estimate_zh(seconds, given, rough) if lang == "zh" else wording.estimate_en(seconds, given, rough)


def ahead(n: int, lang: Lang) -> str:
    return wording.ahead_zh(n) if lang == "zh" else wording.ahead_en(n)


def time_limit(promised_days: int, lang: Lang) -> str:
    return wording.time_limit_zh(promised_days) if lang == "zh" else wording.time_limit_en(promised_days)


def date_text(moment: dt.date, lang: Lang) -> str:
    if lang == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日 星期{WEEKDAYS_ZH[moment.weekday()]}"
    return moment.strftime("%a %d %b %Y")


def time_text(moment: dt.datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


PRINTER_EN = {
    "unreachable": "The printer cannot be reached",
    "cover_open": "The printer cover is open",
    "paper_out": "The printer is out of paper",
    "offline": "The printer is offline",
    "paper_near_end": "The paper is running out",
    "online": "The printer is ready",
    "unknown": "The printer's state is unknown",
}


def printer_label(state: PrinterState, lang: Lang) -> str:
    return state.label_zh if lang == "zh" else PRINTER_EN[state.value]
