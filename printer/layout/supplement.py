"""The supplement notice (补正告知): the materials still missing, and where to bring them."""

from __future__ import annotations

from printer.layout import wording
from printer.layout.blocks import Block, Document, Qr, Rule, Text
from printer.layout.notice import material
from printer.model import SupplementData


def supplement(data: SupplementData) -> Document:
    """The blocks of a supplement notice."""
    window = data.window
    blocks: list[Block] = [
        Text("补正材料告知书", "title", "center", bold=True),
        Text("Notice of Materials to Supplement", "small", "center"),
        Text(data.hall_name_zh, align="center"),
        Text(data.hall_name_en, "small", "center"),
        Rule(heavy=True),
        Text(data.item_name_zh, "heading", bold=True, prefix="办理事项："),
        Text(data.item_name_en, "small"),
        Text("经审查，您的申请尚缺以下材料，请补齐后再来办理："),
        Text("Your application still needs the following; please bring them:", "small"),
        *(material(line) for line in data.missing),
        Rule(),
        Text(f"{window.number}号{window.name_zh}", prefix="办理窗口："),
        Text(f"Window {window.number} {window.name_en}", "small"),
        Text(data.supervision_phone, prefix="监督电话："),
        Text(wording.date_zh(data.date), prefix="告知日期："),
    ]
    if data.case_code:  # the return visit: type the code at the kiosk, or scan it
        blocks += [
            Rule(),
            Text(data.case_code, "heading", "center", bold=True, prefix="办件编号："),
            Text("补齐材料后，在取号机扫描此码或输入办件编号取号", "small", "center"),
            Text("Back with the materials: scan this code or type it at the kiosk", "small", "center"),
            Qr(data.case_code, scale=0.6),
        ]
    return Document(f"补正告知 {data.item_name_zh}", tuple(blocks))
