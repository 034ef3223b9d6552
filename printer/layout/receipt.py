"""The ticket receipt: hall, the number very large, where to go, how long, and the rules."""

from __future__ import annotations

from printer.layout import wording
from printer.layout.blocks import Badge, Block, Document, Qr, Rule, Space, Text
from printer.model import ReceiptData

BADGES = {"green": "绿色通道 Green channel", "appointment": "预约 Appointment"}


def receipt(data: ReceiptData) -> Document:
    """The blocks of a ticket receipt, Chinese first and English second (smaller)."""
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
        Text(wording.wait_zh(data.estimated_wait_s), prefix="预计等候："),
        Text(f"{wording.ahead_en(data.ahead)}; estimated wait {wording.wait_en(data.estimated_wait_s)}", "small"),
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
