"""默认好评: a visit nobody rated within `ratings.default_rating.after_days` days gets the system's rating (opt-in).

Run at the day's close (services/loading.close_day, which also runs at the first action of a new day), for the
finished visits of the service days from LOOKBACK_DAYS before the cut-off up to it (a hall closed over a long
holiday catches up; a hall that turns the rule on does not rate years of history). Idempotent: a visit with a
rating (the citizen's or the system's) is never given another (ratings.ticket_id is unique, and the query skips
them). A default rating has `source` "default", one `rating.defaulted` event per run, and is counted in no
figure of the citizens' ratings: the reports read `ticket.rated` events only, the managers' list counts it
apart (`defaulted`), the export marks it (docs/ratings-export.md).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from queue_server.domain.numbering import service_day
from queue_server.protocol import RatingMessage
from queue_server.services.ratings import LEVELS, case_code_of
from queue_server.store.tables import ratings, tickets
from queue_server.store.writer import Tx

LOOKBACK_DAYS = 31
DEFAULT_ACTOR = "system"


def apply_default_ratings(tx: Tx) -> int:
    """Give the default rating to the finished, unrated visits old enough; return how many were rated."""
    rule = tx.rt.hall.ratings.default_rating
    if not rule.enabled:
        return 0
    hall = tx.rt.hall.id
    today = service_day(tx.now, ZoneInfo(tx.rt.hall.timezone))
    last = today - dt.timedelta(days=rule.after_days)
    first = last - dt.timedelta(days=LOOKBACK_DAYS)
    rated = select(ratings.c.ticket_id).where(ratings.c.hall == hall, ratings.c.day >= first, ratings.c.day <= last)
    rows = tx.conn.execute(
        select(tickets.c.id, tickets.c.day, tickets.c.number, tickets.c.category, tickets.c.item_id,
               tickets.c.window, tickets.c.served_by)
        .where(tickets.c.hall == hall, tickets.c.state == "finished", tickets.c.day >= first,
               tickets.c.day <= last, tickets.c.id.not_in(rated))
        .order_by(tickets.c.id)
    ).all()  # fmt: skip
    if not rows:
        return 0
    score = LEVELS[rule.level][0]
    tx.conn.execute(
        insert(ratings),
        [
            {"hall": hall, "ticket_id": r.id, "day": r.day, "number": r.number, "category": r.category,
             "item_id": r.item_id, "window": r.window, "served_by": r.served_by, "level": rule.level, "score": score,
             "reasons": "[]", "comment": "", "contact_phone": None, "rated_at": tx.now_us, "follow_up": None,
             "due_on": None, "follow_up_notes": "[]", "updated_at": tx.now_us, "source": "default",
             "case_code": case_code_of(tx.conn, hall, r.id)}
            for r in rows
        ],
    )  # fmt: skip
    tx.emit(
        "rating.defaulted",
        {"count": len(rows), "level": rule.level, "after_days": rule.after_days,
         "from": rows[0].day.isoformat(), "to": max(r.day for r in rows).isoformat(),
         "numbers": [f"{r.day.isoformat()} {r.number}" for r in rows[:200]]},
        lambda seq: RatingMessage(seq=seq, at=tx.now, event="defaulted", level=None),
        actor=DEFAULT_ACTOR,
    )  # fmt: skip
    return len(rows)
