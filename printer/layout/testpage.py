"""The printer test page: Chinese, full-width punctuation, ￥, rare name characters and a QR code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from printer.layout import wording
from printer.layout.blocks import Badge, CheckItem, Document, Qr, Rule, Space, Text

RARE_NAMES = "䶮 㛃 𠮷 堃 赟 昇 珺 垚"
"""䶮 U+4DAE and 㛃 U+36C3 (Extension A), 𠮷 U+20BB7 (Extension B), then GBK name characters."""


def test_page(printer_name: str, description: str, url: str, when: dt.datetime) -> Document:
    """A page that shows at a glance whether Chinese, punctuation, ￥, rare characters and QR print."""
    blocks = (
        Text("打印测试页", "title", "center", bold=True),
        Text("Printer test page", "small", "center"),
        Rule(heavy=True),
        Text("便民服务中心欢迎您！请凭号到窗口办理。", prefix="中文："),
        Text("，。、；：？！「」『』（）《》【】——……", prefix="标点："),
        Text("Queue：A001「」，。"),
        Text(f"{wording.yuan(Decimal('12.5'))}  ¥8.00", prefix="金额："),
        Text(RARE_NAMES, prefix="生僻字："),
        Text("ASCII 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz", "small"),
        CheckItem("居民身份证（原件及复印件1份）", "Tick box: ☐ → □"),
        Badge("绿色通道 Green channel"),
        Space(8),
        Qr(url),
        Text(url, "small", "center"),
        Rule(),
        Text(f"{printer_name} {description}", "small"),
        Text(wording.minute(when), "small"),
    )
    return Document("打印测试页 Printer test page", blocks)
