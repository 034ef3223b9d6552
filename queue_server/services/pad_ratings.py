"""The window's evaluator pad (评价器) rates the visit just finished at its window, without the ticket's token.

The pad's page (`/rate/{hall}/window/{n}`) hears the hall's public board feed, whose `ticket` message of a
finished visit carries only the number and the window (nothing secret). What keeps anybody else from
rating other people's visits:

- the rating comes with the device token of the hall's evaluator pad at that window (api/deps.window_pad:
  a `pad` device of the configuration, registered with `bianmin device add`); no other token rates;
- the pad names hall, window and ticket number; the rating is accepted only for the ticket of today
  most recently finished at that window (by `finished_at`), and only within `PAD_MINUTES` minutes of
  its finish; any other number (an older visit, another window's, one not finished) is refused;
- one rating per visit, whether from the pad or the citizen's phone (`ratings.record_rating` refuses
  the second), so the phone cannot re-rate what the pad rated, nor the pad what the phone rated;
- the levels, the reasons and their rules are the phone's (`ratings.RatingRequest`), and the event is
  the same `ticket.rated`, with the actor `pad`.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select

from queue_server.errors import Conflict, NotFound
from queue_server.services import ratings
from queue_server.store.tables import tickets, users
from queue_server.store.writer import Tx

PAD_MINUTES = 5
PAD_ACTOR = "pad"


def rate_at_window(tx: Tx, window: int, number: str, request: ratings.RatingRequest) -> ratings.RatingReceipt:
    """Record the rating of ticket `number` from the pad of `window`: the visit last finished there, lately."""
    last = tx.conn.execute(
        select(*ratings.TICKET_COLUMNS)
        .where(
            tickets.c.hall == tx.rt.hall.id,
            tickets.c.day == tx.rt.day,
            tickets.c.window == window,
            tickets.c.state == "finished",
        )
        .order_by(tickets.c.finished_at.desc(), tickets.c.id.desc())
        .limit(1)
    ).first()
    if last is None or last.number != number.upper():
        raise NotFound(
            f"{number} is not the visit last finished at window {window}: the pad rates only that one"
            f" (评价器只能评价本窗口刚办结的业务)"
        )
    if tx.now_us - last.finished_at > PAD_MINUTES * 60_000_000:
        raise Conflict(
            f"the pad rates a visit within {PAD_MINUTES} minutes of its end; rate it from the phone"
            f" (已超过{PAD_MINUTES}分钟，请用手机扫码评价)"
        )
    return ratings.record_rating(tx, last, request, PAD_ACTOR)


class OnDuty(BaseModel):
    """The clerk on duty at a window as its pad shows it (亮牌服务): name, post and staff number (工号)."""

    window: int
    state: str
    clerk_name: str | None
    post: str | None
    staff_no: str | None


def on_duty(tx: Tx, window: int) -> OnDuty:
    """Who is on duty at `window` now (nobody when it is closed)."""
    live = tx.rt.windows[window]
    staff_no = None
    if live.clerk is not None:
        row = tx.conn.execute(select(users.c.staff_no).where(users.c.username == live.clerk)).first()
        staff_no = None if row is None else row.staff_no
    name = tx.rt.clerk_names.get(live.clerk, live.clerk) if live.clerk else None
    return OnDuty(window=window, state=live.state.value, clerk_name=name, post=live.post, staff_no=staff_no)
