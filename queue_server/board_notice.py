"""What a hall board's notice zone (公告栏) shows: the hall's announcements and 办事八公开 of featured items.

Computed from the configuration only (all of it public, as the catalogue is), as slides the page shows in
turn. An item's eight published facts are split over a few slides, the materials first: what a citizen
most needs to read while waiting is what to have in hand at the window.
"""

from __future__ import annotations

from typing import Any

from config.schema import BoardDevice, CaseKind, Hall, ServiceItem

Slide = dict[str, Any]


def notice_zone(hall: Hall, device: BoardDevice | None = None) -> dict[str, Any] | None:
    """The notice zone of a hall board (`device`: the board's own settings), or None when it shows none."""
    settings = hall.board
    shown = settings.notice_zone if device is None or device.notice_zone is None else device.notice_zone
    featured = settings.featured_items if device is None or device.featured_items is None else device.featured_items
    if not shown:
        return None
    slides: list[Slide] = [{"kind": "announcement", "zh": a.zh, "en": a.en} for a in settings.announcements]
    items = {item.id: item for item in hall.items}
    for item_id in featured:
        if item_id in items:  # `config check` refuses an unknown one; a board never fails for it
            slides.extend(item_slides(items[item_id], hall.supervision_phone))
    if not slides:
        return None
    return {"seconds": settings.notice_seconds, "slides": slides}


def item_slides(item: ServiceItem, hall_phone: str) -> list[Slide]:
    """The eight facts of one item over four slides: materials; procedure; conditions; basis, limit, fee, office."""
    materials = [f"{m.name}（{m.form.label_zh}{f' {m.copies} 份' if m.copies > 1 else ''}）" for m in item.materials]
    if item.case_kind is CaseKind.PROMISED:
        limit_zh, limit_en = f"{item.promised_days} 个工作日", f"{item.promised_days} working days"
    else:
        limit_zh, limit_en = "即办件，当场办结", "done on the spot"
    if item.fee.free:
        fee_zh, fee_en = "免费", "free"
    else:
        fee_zh, fee_en = f"￥{item.fee.amount_yuan}（{item.fee.basis}）", f"CNY {item.fee.amount_yuan}"
    groups = [
        [fact("申报材料", "Materials to bring", materials)],
        [fact("办理程序", "Procedure", item.procedure)],
        [fact("办事条件", "Conditions", item.conditions)],
        [
            fact("承诺时限", "Time limit", [limit_zh], limit_en),
            fact("收费标准", "Fees", [fee_zh], fee_en),
            fact("经办科室", "Handled by", [item.department]),
            fact("监督电话", "Supervision phone", [item.supervision_phone or hall_phone]),
            fact("办事依据", "Legal basis", item.legal_basis),
        ],
    ]
    return [
        {"kind": "item", "item": item.id, "name_zh": item.name_zh, "name_en": item.name_en, "facts": facts}
        for facts in groups
    ]


def fact(label_zh: str, label_en: str, lines: list[str], en: str = "") -> dict[str, Any]:
    return {"label_zh": label_zh, "label_en": label_en, "lines": list(lines), "en": en}
