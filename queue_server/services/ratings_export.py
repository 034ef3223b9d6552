"""The 好差评 export for a provincial platform's adapter: JSON Lines, one rating a line (docs/ratings-export.md).

No citizen's phone and no callback words are in it; the clerk is named by account, name and staff number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from config.schema import Hall
from queue_server.services.ratings import INDICATORS, LEVELS
from queue_server.store.tables import ratings, users
from queue_server.store.writer import from_us

FORMAT_VERSION = 1
MAX_ROWS = 200_000


def _iso(us: int, tz: ZoneInfo) -> str:
    return from_us(us).astimezone(tz).isoformat(timespec="seconds")


def export_lines(conn: Connection, hall: Hall, day_from: dt.date, day_to: dt.date) -> Iterator[str]:
    """Each rating of the service days day_from..day_to, oldest first, as one JSON line."""
    tz = ZoneInfo(hall.timezone)
    clerks = {
        r.username: (r.display_name, r.staff_no)
        for r in conn.execute(select(users.c.username, users.c.display_name, users.c.staff_no))
    }
    items = {item.id: item.name_zh for item in hall.items}
    rows = conn.execute(
        select(ratings)
        .where(ratings.c.hall == hall.id, ratings.c.day >= day_from, ratings.c.day <= day_to)
        .order_by(ratings.c.day, ratings.c.rated_at, ratings.c.id)
        .limit(MAX_ROWS)
    )
    for row in rows:
        yield json.dumps(_line(row, hall.id, tz, clerks, items), ensure_ascii=False) + "\n"


def _line(row: Any, hall: str, tz: ZoneInfo, clerks: dict[str, tuple[str, str | None]], items: dict[str, str]) -> Any:
    name, staff_no = clerks.get(row.served_by, (None, None)) if row.served_by else (None, None)
    review = json.loads(row.review) if row.review else None
    callbacks = json.loads(row.callbacks)
    return {
        "v": FORMAT_VERSION,
        "hall": hall,
        "rating_id": row.id,
        "case_code": row.case_code,
        "ticket_number": row.number,
        "service_day": row.day.isoformat(),
        "rated_at": _iso(row.rated_at, tz),
        "source": row.source,
        "level": row.level,
        "level_zh": LEVELS[row.level][1],
        "score": row.score,
        "indicators": [{"code": c, "zh": INDICATORS[c][0]} for c in json.loads(row.reasons) if c in INDICATORS],
        "comment": row.comment,
        "category": row.category,
        "item_id": row.item_id,
        "item_zh": items.get(row.item_id) if row.item_id else None,
        "window": row.window,
        "clerk": row.served_by,
        "clerk_name": name,
        "clerk_staff_no": staff_no,
        "follow_up": row.follow_up,
        "rectify_due": row.due_on.isoformat() if row.due_on else None,
        "callbacks": [{"at": _iso(c["at"], tz), "by": c["by"], "rerating": c["rerating"]} for c in callbacks],
        "rerating": row.rerating,
        "review": None if review is None else {
            "state": row.review_state, "requested_at": _iso(review["at"], tz),
            "decided_at": _iso(review["decided_at"], tz) if review.get("decided_at") else None,
        },
        "counted": row.source == "citizen" and not row.excluded,
    }  # fmt: skip
