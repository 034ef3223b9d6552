"""Tests for ticket numbers, the daily cap and the service day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.domain.errors import CategoryFull, DomainError
from queue_server.domain.numbering import format_number, next_seq, service_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("prefix", "seq", "expected"),
    [
        ("A", 1, "A001"),
        ("A", 9, "A009"),
        ("A", 10, "A010"),
        ("A", 99, "A099"),
        ("A", 100, "A100"),
        ("A", 999, "A999"),
        ("A", 1000, "A1000"),
        ("A", 1001, "A1001"),
        ("A", 12345, "A12345"),
        ("GH", 7, "GH007"),
        ("", 5, "005"),
    ],
)
def test_format_number(prefix: str, seq: int, expected: str) -> None:
    assert format_number(prefix, seq) == expected


@pytest.mark.parametrize("seq", [0, -1])
def test_format_number_starts_at_one(seq: int) -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        format_number("A", seq)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_format_number_is_injective_per_prefix(a: int, b: int) -> None:
    # No two sequences of one day ever print the same number (999 -> 1000 does not wrap to 000).
    assert (format_number("A", a) == format_number("A", b)) == (a == b)


def test_next_seq_counts_up() -> None:
    assert next_seq(0, 300, "A") == 1
    assert next_seq(998, 2000, "A") == 999
    assert next_seq(999, 2000, "A") == 1000


def test_next_seq_up_to_the_cap_then_full() -> None:
    assert next_seq(299, 300, "A") == 300
    with pytest.raises(CategoryFull) as info:
        next_seq(300, 300, "A")
    err = info.value
    assert err.code == "category_full"
    assert err.category == "A"
    assert err.cap == 300
    assert isinstance(err, DomainError)
    assert "300" in str(err)
    assert "next working day" in str(err)
    assert "今日该类业务号已取完" in str(err)


def test_next_seq_full_stays_full() -> None:
    # Asking again after the cap is reached is the same clear error, not a number past the cap.
    for last in (300, 301, 1000):
        with pytest.raises(CategoryFull):
            next_seq(last, 300, "A")


def test_cap_zero_means_no_tickets_today() -> None:
    with pytest.raises(CategoryFull):
        next_seq(0, 0, "A")


@pytest.mark.parametrize(("last", "cap"), [(-1, 10), (0, -1)])
def test_next_seq_rejects_negative_inputs(last: int, cap: int) -> None:
    with pytest.raises(ValueError):
        next_seq(last, cap, "A")


def test_service_day_in_the_hall_zone() -> None:
    now = datetime(2025, 3, 14, 9, 30, tzinfo=SHANGHAI)
    assert service_day(now, SHANGHAI) == date(2025, 3, 14)


def test_utc_time_that_is_already_tomorrow_in_shanghai() -> None:
    # 16:30 UTC on 14 March is 00:30 on 15 March in Asia/Shanghai (UTC+8).
    now = datetime(2025, 3, 14, 16, 30, tzinfo=UTC)
    assert service_day(now, SHANGHAI) == date(2025, 3, 15)
    assert service_day(now, UTC) == date(2025, 3, 14)


def test_service_day_boundary_is_local_midnight() -> None:
    midnight = datetime(2025, 3, 15, 0, 0, tzinfo=SHANGHAI)
    assert service_day(midnight - timedelta(microseconds=1), SHANGHAI) == date(2025, 3, 14)
    assert service_day(midnight, SHANGHAI) == date(2025, 3, 15)


def test_service_day_with_fixed_offset() -> None:
    now = datetime(2025, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=8)))
    assert service_day(now, UTC) == date(2024, 12, 31)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        service_day(datetime(2025, 3, 14, 9, 30), SHANGHAI)
