"""Parameter types shared by the routes, strict and bounded, so the OpenAPI document says what is accepted.

Dates are ISO dates only (`2026-03-16`): pydantic alone would also take `0` (1970-01-01, a Unix time). Integers
are bounded by what the columns hold, so a bigger one is a 422 and never reaches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

# The largest numbers the columns hold: an event's seq (BIGINT) and a row id (INTEGER: 32 bits on PostgreSQL,
# which refuses a bigger parameter outright).
MAX_SEQ = 2**63 - 1
MAX_ROW_ID = 2**31 - 1

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# An audit search's bound: a date (the whole day in the hall's time zone) or a date and time (with or without
# seconds, fractions and an offset; without an offset, in the hall's time zone).
_DAY = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
MOMENT_PATTERN = rf"^{_DAY}([T ]{_TIME})?$"
# Reports cover these days (the figures' tables are kept for them).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
_REPORT_DAY = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
        raise ValueError("must be a date such as 2026-03-16 (日期格式应为 2026-03-16)")
    return value


def _report_range(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"date must be between {EARLIEST} and {LATEST} (日期超出范围)")
    return value


#: A date, written as an ISO date and nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
#: A day a report may cover: 2000-01-01 to 2099-12-31.
ReportDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    AfterValidator(_report_range),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _REPORT_DAY}),
]


def _true_false(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


#: A query flag: `true` or `false` only (pydantic alone would also take 0, 1, yes, off...).
QueryBool = Annotated[bool, BeforeValidator(_true_false)]
