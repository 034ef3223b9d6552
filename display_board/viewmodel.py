"""The display strings of the hall board and the window-top board, computed from a BoardModel (no Kivy).

Everything here is a pure function of the model, the hall's catalogue facts, the time (passed in)
and the feed's online flag, so it is tested without a window. The .kv files only place these
strings; nothing in them decides what a citizen reads.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from display_board.catalog import HallInfo
from queue_server.board_model import BoardModel
from queue_server.protocol import WindowView

WEEKDAYS = "一二三四五六日"
RECENT_ROWS = 6  # calls listed under the latest one
DASH = "—"

STATUS_CONNECTING = "正在连接服务器…"
STATUS_ONLINE = "● 实时"
STATUS_OFFLINE = "● 网络中断，正在重新连接…（显示的可能不是最新信息）"


@dataclass(frozen=True)
class CallRow:
    number: str  # "A001"
    window: str  # "1号窗口"


@dataclass(frozen=True)
class WindowRow:
    number: str  # "1"
    name: str  # "计生服务窗口"
    current: str  # "A001", or a dash
    status: str  # "请到窗口" / "办理中" / "空闲" / "暂停：午休" / "未开放"
    tone: str  # "called" | "serving" | "idle" | "paused" | "closed": the .kv picks colours by it


@dataclass(frozen=True)
class QueueRow:
    prefix: str  # "A"
    name: str  # "计生服务"
    waiting: str  # "3"
    wait: str  # "约21分钟" / "无需等候" / "暂无窗口办理"
    colour: str  # "#D81B60"


@dataclass(frozen=True)
class HallBoardView:
    title: str
    subtitle: str
    date_text: str
    time_text: str
    online: bool
    status_text: str
    latest_number: str  # "" when nobody has been called yet
    latest_window: str  # "1号窗口"
    latest_window_name: str
    latest_prompt: str  # "请A001号到1号窗口办理" (what is said aloud), or a welcome line
    latest_recall: str  # "第2次呼叫" for a recall, else ""
    recent: tuple[CallRow, ...]
    windows: tuple[WindowRow, ...]
    queues: tuple[QueueRow, ...]
    notice: str


@dataclass(frozen=True)
class WindowBoardView:
    title: str  # "1号窗口"
    name: str  # "计生服务窗口"
    categories: str  # "计生服务 · 综合服务"
    clerk: str  # "刘霞"
    post: str  # "A岗（主岗）"
    current_number: str  # "A001", or a dash
    current_status: str  # "请A001号到本窗口办理" / "正在办理" / "暂停服务：午休" / ...
    tone: str
    waiting: str  # "3"
    waiting_text: str  # "本窗口等候 3 人"
    date_text: str
    time_text: str
    online: bool
    status_text: str
    hall_name: str


def date_text(now: dt.datetime) -> str:
    return f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"


def time_text(now: dt.datetime) -> str:
    return now.strftime("%H:%M:%S")


def status_text(model: BoardModel, online: bool) -> str:
    if online and model.ready:
        return STATUS_ONLINE
    return STATUS_OFFLINE if model.ready else STATUS_CONNECTING


def wait_text(wait_s: int | None, waiting: int) -> str:
    if wait_s is None:
        return "暂无窗口办理"
    if wait_s <= 0:
        return "无需等候" if waiting == 0 else "即将办理"
    minutes = math.ceil(wait_s / 60)
    if minutes < 60:
        return f"约{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    return f"约{hours}小时{rest}分" if rest else f"约{hours}小时"


def window_status(window: WindowView) -> tuple[str, str, str]:
    """(current number, status, tone) of a window."""
    if window.state == "closed":
        return DASH, "未开放", "closed"
    if window.state == "paused":
        reason = (window.paused_reason or "").strip()
        return DASH, f"暂停：{reason}" if reason else "暂停服务", "paused"
    if window.current_number is None:
        return DASH, "空闲", "idle"
    if window.current_state == "serving":
        return window.current_number, "办理中", "serving"
    return window.current_number, "请到窗口", "called"


def notice_text(model: BoardModel) -> str:
    """The hall's notice, with the supervision phone added when the notice does not already give it."""
    notice = " ".join(model.notice_zh.split())
    phone = model.supervision_phone.strip()
    if phone and phone not in notice:
        notice = f"{notice}　监督电话：{phone}" if notice else f"监督电话：{phone}"
    return notice


def _recent_rows(model: BoardModel) -> tuple[CallRow, ...]:
    """Distinct (number, window) pairs newest first, without the latest call (shown large above them)."""
    seen: set[tuple[str, int]] = set()
    if model.latest_call is not None:
        seen.add((model.latest_call.number, model.latest_call.window))
    rows: list[CallRow] = []
    for call in model.recent_calls:
        key = (call.number, call.window)
        if key in seen:
            continue
        seen.add(key)
        rows.append(CallRow(call.number, f"{call.window}号窗口"))
        if len(rows) == RECENT_ROWS:
            break
    return tuple(rows)


def _queue_rows(model: BoardModel, info: HallInfo) -> tuple[QueueRow, ...]:
    rows = []
    for code, queue in model.queues.items():
        category = info.categories.get(code)
        rows.append(
            QueueRow(
                prefix=queue.prefix,
                name=category.name_zh if category else f"{queue.prefix}类业务",
                waiting=str(queue.waiting),
                wait=wait_text(queue.wait_s, queue.waiting),
                colour=category.colour if category else "#546E7A",
            )
        )
    return tuple(rows)


def hall_view(model: BoardModel, info: HallInfo, now: dt.datetime, online: bool) -> HallBoardView:
    """The hall board (大厅综合屏) at time `now` (the hall's local time)."""
    latest = model.latest_call
    windows = []
    for number, window in sorted(model.windows.items()):
        current, status, tone = window_status(window)
        windows.append(WindowRow(str(number), window.name_zh, current, status, tone))
    return HallBoardView(
        title=model.name_zh or "便民服务中心",
        subtitle=model.name_en,
        date_text=date_text(now),
        time_text=time_text(now),
        online=online and model.ready,
        status_text=status_text(model, online),
        latest_number=latest.number if latest else "",
        latest_window=f"{latest.window}号窗口" if latest else "",
        latest_window_name=latest.window_name_zh if latest else "",
        latest_prompt=f"请{latest.number}号到{latest.window}号窗口办理" if latest else "欢迎光临，请取号后留意叫号",
        latest_recall=f"第{latest.recall + 1}次呼叫" if latest and latest.recall else "",
        recent=_recent_rows(model),
        windows=tuple(windows),
        queues=_queue_rows(model, info),
        notice=notice_text(model),
    )


def window_board_view(
    model: BoardModel, info: HallInfo, number: int, now: dt.datetime, online: bool
) -> WindowBoardView:
    """The board above window `number` (窗口屏) at time `now`."""
    window = model.windows.get(number)
    codes = info.window_categories.get(number, ())
    names = [info.categories[c].name_zh for c in codes if c in info.categories]
    if codes and all(c in model.queues for c in codes):
        count = sum(model.queues[c].waiting for c in codes)
        waiting, waiting_text = str(count), f"本窗口等候 {count} 人"
    else:
        waiting, waiting_text = DASH, "本窗口等候人数暂不可知"
    if window is None:
        current, status, tone = DASH, "本窗口未设置" if model.ready else STATUS_CONNECTING, "closed"
        title, name, clerk, post = f"{number}号窗口", "", "", ""
    else:
        current, status, tone = window_status(window)
        if tone == "called":
            status = f"请{current}号到本窗口办理"
        elif tone == "serving":
            status = "正在办理"
        elif tone == "idle":
            status = "等待叫号"
        elif tone == "closed":
            status = "本窗口暂未开放"
        elif tone == "paused":
            reason = (window.paused_reason or "").strip()
            status = f"暂停服务：{reason}" if reason else "暂停服务"
        title, name = f"{number}号窗口", window.name_zh
        open_ = window.state != "closed"
        clerk = window.clerk_name or "" if open_ else ""
        post = {"A": "A岗（主岗）", "B": "B岗（备岗）"}.get(window.post or "", "") if open_ else ""
    return WindowBoardView(
        title=title,
        name=name,
        categories=" · ".join(names),
        clerk=clerk or DASH,
        post=post,
        current_number=current,
        current_status=status,
        tone=tone,
        waiting=waiting,
        waiting_text=waiting_text,
        date_text=date_text(now),
        time_text=time_text(now),
        online=online and model.ready,
        status_text=status_text(model, online),
        hall_name=model.name_zh,
    )
