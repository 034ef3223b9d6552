"""Building the printed data from the hall configuration, and the words for values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from config.loader import default_config_path, load_config
from config.schema import CaseKind, Fee, QueueRules
from printer.layout import wording
from printer.model import (
    WindowRef,
    guide_url,
    no_show_rule,
    notice_data,
    receipt_data,
    supplement_data,
    windows_serving,
)
from tests.printer.conftest import sample_item, sample_receipt


@pytest.fixture(scope="module")
def hall():
    return load_config(default_config_path()).halls[0]


def test_receipt_from_the_hall(hall) -> None:
    item = next(i for i in hall.items if i.category == "jisheng")
    data = receipt_data(
        hall,
        number="A012",
        category="jisheng",
        item_id=item.id,
        ahead=2,
        estimated_wait_s=600,
        issued_at=dt.datetime(2025, 3, 4, 1, 15, tzinfo=dt.UTC),
        priority="appointment",
        track_url="https://q/t/x",
    )
    assert data.issued_at.hour == 9 and data.issued_at.utcoffset() == dt.timedelta(hours=8)
    assert [w.number for w in data.windows] == [1, 10]
    assert data.item_zh == item.name_zh
    assert "过号" in data.no_show_rule_zh


def test_windows_serving_a_category_in_number_order(hall) -> None:
    assert [w.number for w in windows_serving(hall, "minzheng")] == [3, 7, 10]
    assert windows_serving(hall, "nothing") == ()


def test_receipt_rejects_naive_times_and_bad_values() -> None:
    with pytest.raises(ValueError, match="aware"):
        sample_receipt(issued_at=dt.datetime(2025, 3, 4, 9, 15))
    with pytest.raises(ValueError, match="ahead"):
        sample_receipt(ahead=-1)
    with pytest.raises(ValueError, match="priority"):
        sample_receipt(priority="vip")


def test_notice_from_an_item(hall) -> None:
    promised = sample_item(
        case_kind=CaseKind.PROMISED, promised_days=5, fee=Fee(free=False, amount_yuan=Decimal("12.5"), basis="湘价")
    )
    data = notice_data(promised, hall, dt.date(2025, 3, 4))
    assert data.promised_days == 5 and not data.fee_free and data.fee_amount_yuan == Decimal("12.5")
    assert data.materials[0].form_zh == "原件及复印件"
    assert data.supervision_phone == hall.supervision_phone
    assert data.guide_url is None  # the demo hall has no public_url


def test_guide_url_fallbacks(hall) -> None:
    item = sample_item()
    assert guide_url(sample_item(guide_url="https://gov.example/guide/1"), hall) == "https://gov.example/guide/1"
    assert guide_url(item, hall, "https://q.example/guide/") == "https://q.example/guide/jisheng-birth-registration"
    public = hall.model_copy(update={"public_url": "https://q.example/"})
    assert guide_url(item, public) == "https://q.example/halls/qingshan/items/jisheng-birth-registration"


def test_supplement_from_an_item(hall) -> None:
    item = sample_item()
    data = supplement_data(item, hall, missing=item.materials[1:], window_number=1, date=dt.date(2025, 3, 4))
    assert [m.name for m in data.missing] == ["结婚证"]
    assert data.window == WindowRef(1, "计生服务窗口", "Family Planning")
    with pytest.raises(ValueError, match="at least one"):
        supplement_data(item, hall, missing=[], window_number=1, date=dt.date(2025, 3, 4))


def test_no_show_rule_follows_the_queue_rules() -> None:
    zh, en = no_show_rule(QueueRules(recall_limit=2, no_show_requeue_behind=5))
    assert "重呼2次" in zh and "5位" in zh and "2 recalls" in en and "5 waiting" in en
    zh, _ = no_show_rule(QueueRules(recall_limit=0))
    assert "叫号未到" in zh


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (None, "暂无法估计", "not available"),
        (30, "不足1分钟", "less than a minute"),
        (1260, "约21分钟", "about 21 min"),
        (3600, "约1小时", "about 1 h"),
        (4800, "约1小时20分钟", "about 1 h 20 min"),
    ],
)
def test_wait_wording(seconds: int | None, zh: str, en: str) -> None:
    assert (wording.wait_zh(seconds), wording.wait_en(seconds)) == (zh, en)


def test_other_wording() -> None:
    assert wording.time_limit_zh(0) == "当场办结" and wording.time_limit_zh(5) == "5个工作日内办结"
    assert wording.yuan(Decimal("12.5")) == "￥12.50"
    assert wording.date_zh(dt.date(2025, 3, 4)) == "2025年3月4日"
    assert wording.ahead_en(1) == "1 person ahead of you" and wording.ahead_zh(0) == "前面没有人等候"


@pytest.mark.parametrize(
    ("seconds", "span", "rough", "zh", "en"),
    [
        (840, (610, 1190), False, "约10–20分钟", "about 10–20 min"),
        (840, (610, 1190), True, "约10–20分钟（粗略估计）", "about 10–20 min (rough estimate)"),
        (20, (0, 50), False, "不足1分钟", "less than a minute"),
        (900, None, True, "约15分钟（粗略估计）", "about 15 min (rough estimate)"),
        (None, None, True, "暂无法估计", "not available"),
    ],
)
def test_the_estimate_is_a_range_said_rough_when_it_is(
    seconds: int | None, span: tuple[int, int] | None, rough: bool, zh: str, en: str
) -> None:
    assert (wording.estimate_zh(seconds, span, rough), wording.estimate_en(seconds, span, rough)) == (zh, en)


def test_the_receipt_prints_the_range(hall) -> None:
    from printer.layout.blocks import Text
    from printer.layout.receipt import compact_receipt, full_receipt

    data = receipt_data(
        hall,
        number="A012",
        category="jisheng",
        item_id=None,
        ahead=2,
        estimated_wait_s=840,
        wait_span_s=(610, 1190),
        wait_rough=True,
        issued_at=dt.datetime(2025, 3, 4, 1, 15, tzinfo=dt.UTC),
        priority="ordinary",
        track_url="https://q/t/x",
    )
    full = [b for b in full_receipt(data).blocks if isinstance(b, Text)]
    assert any(b.prefix == "预计等候：" and b.text == "约10–20分钟（粗略估计）" for b in full)
    assert any("estimated wait about 10–20 min (rough estimate)" in b.text for b in full)
    compact = [b.text for b in compact_receipt(data).blocks if isinstance(b, Text)]
    assert "前面还有2人等候，预计约10–20分钟（粗略估计）" in compact
    with pytest.raises(ValueError, match="wait_span_s"):
        sample_receipt(wait_span_s=(600, 300))
