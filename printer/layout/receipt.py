"""The ticket receipt: hall, the number very large, where to go, how long, and the rules.

Two layouts: "compact" (the default, about 8-10 cm at 80 mm: Chinese first, English in a few short
lines) and "full" (every line in Chinese and then in English, 15-17 cm). Both carry the same facts.
"""

from __future__ import annotations

from printer.layout import wording
from printer.layout.blocks import Badge, Block, Document, Qr, Rule, Space, Text
from printer.model import ReceiptData, ReceiptLayout

BADGES = {"green": "绿色通道 Green channel", "appointment": "预约 Appointment"}


COMPACT_BADGES = {"green": "绿色通道 Priority", "appointment": "预约 Appointment"}
COMPACT_QR_SCALE = 0.7
"""The tracking code at 4 dots a module: 2 cm across, read by any phone camera."""


def _wait_zh(data: ReceiptData) -> str:
    return wording.estimate_zh(data.estimated_wait_s, data.wait_span_s, data.wait_rough)


def _wait_en(data: ReceiptData) -> str:
    return wording.estimate_en(data.estimated_wait_s, data.wait_span_s, data.wait_rough)


def receipt(data: ReceiptData, layout: ReceiptLayout = "compact") -> Document:
    """The blocks of a ticket receipt in the given layout."""
    if layout == "full":
        return full_receipt(data)
    if layout != "compact":
        raise ValueError(f"layout must be 'compact' or 'full', got {layout!r}")
    return compact_receipt(data)


def compact_receipt(data: ReceiptData) -> Document:
    """Hall, number, service, window, queue and wait, the tracking QR, the rule and the phone: Chinese first."""
    service_zh = data.category_zh + (f" · {data.item_zh}" if data.item_zh else "")
    numbers = "/".join(str(window.number) for window in data.windows)
    where_en = f"Window {numbers}" if data.windows else "Watch the board"
    blocks: list[Block] = [
        Text(data.hall_name_zh, "title", "center", bold=True),
        Rule(heavy=True),
        Text(data.number, "huge", "center"),
    ]
    if data.priority in COMPACT_BADGES:
        blocks.append(Badge(COMPACT_BADGES[data.priority]))
    blocks += [
        Text(service_zh, "heading", "center", bold=True),
        Text("、".join(wording.windows_zh(data.windows)), prefix="窗口："),
        Text(f"{wording.ahead_zh(data.ahead)}，预计{_wait_zh(data)}"),
        Text(f"{where_en} · {wording.ahead_en(data.ahead)} · wait {_wait_en(data)}", "small"),
        Qr(data.track_url, COMPACT_QR_SCALE),
        Text(f"扫码查看进度 Scan to follow · {wording.minute(data.issued_at)}", "small", "center"),
        Rule(),
        Text(data.no_show_rule_zh, "small"),
        Text(data.supervision_phone, "small", prefix="监督电话 Supervision："),
    ]
    return Document(f"{data.number} {data.category_zh}", tuple(blocks))


def full_receipt(data: ReceiptData) -> Document:
    """The blocks of a ticket receipt, every line in Chinese and then in English (smaller)."""
    service_zh = data.category_zh + (f" · {data.item_zh}" if data.item_zh else "")
    service_en = data.category_en + (f" - {data.item_en}" if data.item_en else "")
    blocks: list[Block] = [
        Text(data.hall_name_zh, "title", "center", bold=True),
        Text(data.hall_name_en, "small", "center"),
        Rule(heavy=True),
        Text("您的排队号 Your number", "small", "center"),
        Text(data.number, "huge", "center"),
    ]
    if data.priority in BADGES:
        blocks.append(Badge(BADGES[data.priority]))
    blocks += [
        Text(service_zh, "heading", "center", bold=True),
        Text(service_en, "small", "center"),
        Rule(),
        Text("\n".join(wording.windows_zh(data.windows)), prefix="办理窗口："),
        Text(wording.windows_en(data.windows), "small", prefix="Window: "),
        Text(wording.ahead_zh(data.ahead)),
        Text(_wait_zh(data), prefix="预计等候："),
        Text(f"{wording.ahead_en(data.ahead)}; estimated wait {_wait_en(data)}", "small"),
        Text(wording.minute(data.issued_at), prefix="取号时间："),
        Space(8),
        Qr(data.track_url),
        Text("扫码查看排队进度", align="center"),
        Text("Scan to follow your place in the queue", "small", "center"),
        Rule(),
        Text(data.no_show_rule_zh),
        Text(data.no_show_rule_en, "small"),
        Text(data.supervision_phone, prefix="监督电话："),
        Text(f"Supervision phone: {data.supervision_phone}", "small"),
    ]
    return Document(f"{data.number} {data.category_zh}", tuple(blocks))
