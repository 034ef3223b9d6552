"""Fixtures of the printer tests: a fake network printer on a loopback port, sample data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from config.schema import CaseKind, Fee, Material, MaterialForm, QueueRules, ServiceItem
from printer.model import MaterialLine, NoticeData, ReceiptData, SupplementData, WindowRef, no_show_rule
from tests.printer.fake_printer import FakePrinter

SHANGHAI = ZoneInfo("Asia/Shanghai")
TRACK_URL = "https://bianmin.example.cn/t/3F9K2QXW7P"


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter().start()
    yield printer
    printer.stop()


def sample_receipt(**changes: object) -> ReceiptData:
    rule_zh, rule_en = no_show_rule(QueueRules())
    values: dict[str, object] = {
        "hall_name_zh": "青山镇便民服务中心",
        "hall_name_en": "Qingshan Town Convenience Service Center",
        "supervision_phone": "0731-8562 3119",
        "number": "A012",
        "category_zh": "计生服务",
        "category_en": "Family Planning",
        "item_zh": "生育登记",
        "item_en": "Birth registration",
        "windows": (
            WindowRef(1, "计生服务窗口", "Family Planning"),
            WindowRef(10, "综合受理窗口", "General Reception"),
        ),
        "ahead": 3,
        "estimated_wait_s": 1260,
        "issued_at": dt.datetime(2025, 3, 4, 9, 15, tzinfo=SHANGHAI),
        "priority": "green",
        "track_url": TRACK_URL,
        "no_show_rule_zh": rule_zh,
        "no_show_rule_en": rule_en,
    }
    values.update(changes)
    return ReceiptData(**values)  # type: ignore[arg-type]


def sample_item(**changes: object) -> ServiceItem:
    values: dict[str, object] = {
        "id": "jisheng-birth-registration",
        "category": "jisheng",
        "name_zh": "生育登记",
        "name_en": "Birth registration",
        "legal_basis": ["《中华人民共和国人口与计划生育法》第二十条"],
        "conditions": ["夫妻双方或一方为本镇户籍", "符合法律法规规定生育子女的"],
        "procedure": ["申请人提交材料", "窗口审核", "当场发放《生育服务登记卡》"],
        "materials": [
            Material(name="夫妻双方居民身份证", form=MaterialForm.ORIGINAL_AND_COPY, copies=1),
            Material(name="结婚证", form=MaterialForm.COPY, copies=2, notes="复印件须清晰，核验原件后当场退还"),
        ],
        "case_kind": CaseKind.IMMEDIATE,
        "fee": Fee(free=True),
        "department": "镇计划生育服务站",
    }
    values.update(changes)
    return ServiceItem(**values)  # type: ignore[arg-type]


def sample_notice(**changes: object) -> NoticeData:
    values: dict[str, object] = {
        "hall_name_zh": "青山镇便民服务中心",
        "hall_name_en": "Qingshan Town Convenience Service Center",
        "supervision_phone": "0731-8562 3119",
        "item_id": "guotu-homestead",
        "item_name_zh": "农村村民宅基地建房审批",
        "item_name_en": "Approval of a rural homestead house",
        "conditions": ("本集体经济组织成员，一户只能拥有一处宅基地",),
        "materials": (
            MaterialLine("农村宅基地和建房（规划许可）申请表", "原件", 1, "窗口免费提供"),
            MaterialLine("申请人居民身份证、户口簿", "原件及复印件", 1),
        ),
        "procedure": ("村民小组讨论", "村级审查并公示", "镇人民政府审批"),
        "promised_days": 20,
        "fee_free": False,
        "fee_amount_yuan": Decimal("10"),
        "fee_basis": "湘价费〔2019〕12号",
        "department": "镇自然资源所",
        "legal_basis": ("《中华人民共和国土地管理法》第六十二条",),
        "date": dt.date(2025, 3, 4),
        "guide_url": "https://bianmin.example.cn/halls/qingshan/items/guotu-homestead",
    }
    values.update(changes)
    return NoticeData(**values)  # type: ignore[arg-type]


def sample_supplement() -> SupplementData:
    return SupplementData(
        hall_name_zh="青山镇便民服务中心",
        hall_name_en="Qingshan Town Convenience Service Center",
        supervision_phone="0731-8562 3119",
        item_name_zh="生育登记",
        item_name_en="Birth registration",
        missing=(MaterialLine("结婚证", "复印件", 2, "复印件须清晰"),),
        window=WindowRef(1, "计生服务窗口", "Family Planning"),
        date=dt.date(2025, 3, 4),
    )
