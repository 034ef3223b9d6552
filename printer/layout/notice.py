"""The one-time notice (一次性告知单): everything to bring and to know, so nobody comes twice."""

from __future__ import annotations

from printer.layout import wording
from printer.layout.blocks import Block, CheckItem, Document, Qr, Rule, Space, Text
from printer.model import MaterialLine, NoticeData

SECTION_NUMBERS = "一二三四五六七八九十"


def material(line: MaterialLine) -> CheckItem:
    """A tick-box line: the material, original or copy, how many."""
    return CheckItem(f"{line.name}（{line.form_zh}{line.copies}份）", line.notes)


def notice(data: NoticeData) -> Document:
    """The blocks of a one-time notice of one service item."""
    blocks: list[Block] = [
        Text("一次性告知单", "title", "center", bold=True),
        Text("One-time Notice of Requirements", "small", "center"),
        Text(data.hall_name_zh, align="center"),
        Text(data.hall_name_en, "small", "center"),
        Rule(heavy=True),
        Text(data.item_name_zh, "heading", bold=True, prefix="办理事项："),
        Text(data.item_name_en, "small"),
    ]
    sections: list[tuple[str, str, list[Block]]] = [
        ("办理条件", "Conditions", [Text(c, prefix=f"{i}. ") for i, c in enumerate(data.conditions, 1)]),
        ("申报材料（请逐项核对）", "Materials to bring (tick each)", [material(m) for m in data.materials]),
        ("办理程序", "Procedure", [Text(step, prefix=f"{i}. ") for i, step in enumerate(data.procedure, 1)]),
        (
            "承诺时限",
            "Time limit",
            [Text(wording.time_limit_zh(data.promised_days)), Text(wording.time_limit_en(data.promised_days), "small")],
        ),
        ("收费标准", "Fees", _fees(data)),
        ("办理部门", "Handled by", [Text(data.department)]),
        ("办理依据", "Legal basis", [Text(basis, "small") for basis in data.legal_basis]),
    ]
    for number, (zh, en, body) in enumerate(sections):
        blocks += [Space(6), Text(f"{SECTION_NUMBERS[number]}、{zh}", "heading", bold=True), Text(en, "small"), *body]
    blocks += [
        Rule(),
        Text("材料齐全、符合法定形式的，一次办结。", bold=True),
        Text("Complete materials: done in a single visit.", "small"),
        Text(data.supervision_phone, prefix="监督电话："),
        Text(f"Supervision phone: {data.supervision_phone}", "small"),
        Text(wording.date_zh(data.date), prefix="告知日期："),
    ]
    if data.guide_url:
        blocks += [
            Space(8),
            Qr(data.guide_url),
            Text("扫码查看网上办事指南", align="center"),
            Text("Scan for the online guide", "small", "center"),
        ]
    return Document(f"一次性告知单 {data.item_name_zh}", tuple(blocks))


def _fees(data: NoticeData) -> list[Block]:
    if data.fee_free or data.fee_amount_yuan is None:
        return [Text("免费"), Text("Free of charge", "small")]
    return [
        Text(wording.yuan(data.fee_amount_yuan)),
        Text(data.fee_basis, "small", prefix="收费依据："),
    ]
