"""The board websocket: a snapshot or the missed events, then every event as it happens."""

from __future__ import annotations

import contextlib
import gc
import json
import time
from functools import partial

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlalchemy import Connection, select

from queue_server.api.state import ServerState
from queue_server.broker import Subscriber
from queue_server.protocol import Pong, Snapshot, client_message_adapter
from queue_server.services.views import board_state
from queue_server.store.tables import events
from queue_server.topics import follows

router = APIRouter()

RESUME_LIMIT = 2000  # a client further behind than this gets a fresh snapshot instead of the events

# Close codes (RFC 6455 and the 4000-4999 range for applications).
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
BAD_REQUEST = 4400
NOT_FOUND = 4404


class ClientError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _backlog(state: ServerState, hall: str, since: int | None, category: str | None) -> tuple[int, list[str]]:
    """The messages a new subscriber needs first, and the seq they bring it to.

    A follower of one category (`category`) is sent only the missed messages of that category (topics.py);
    the seq it is brought to is still the hall's last, so nothing it follows is sent twice.

    Read from this process's read side: what it holds is exactly what its broker has published, so the
    subscriber, subscribed before, misses nothing between the two. A client that resumes from a seq this
    process has not heard of yet (it saw it through another process) waits for the catch-up.
    """
    view = await state.fresh_view(hall, since or 0)
    current = view.last_seq
    if since is not None and since <= current and current - since <= RESUME_LIMIT:

        def read(conn: Connection) -> list[tuple[int, str]]:
            rows = conn.execute(
                select(events.c.seq, events.c.public)
                .where(events.c.hall == hall, events.c.seq > since)
                .order_by(events.c.seq)
            )
            return [(r.seq, r.public) for r in rows]

        missed = await state.store.read(read)
        last = missed[-1][0] if missed else since
        if category is not None:
            topic_of = state.topic_of(hall)
            missed = [(seq, text) for seq, text in missed if follows(category, topic_of(text))]
        return last, [text for _, text in missed]

    snap = Snapshot(seq=view.last_seq, board=board_state(view))
    return snap.seq, [snap.model_dump_json()]


def _parse_category(state: ServerState, hall: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw not in {c.code for c in state.config.hall(hall).categories}:
        reason = f"no category {raw[:32]!r} in this hall (leave category out to follow the whole hall)"
        raise ClientError(BAD_REQUEST, reason)
    return raw


def _parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    # isdigit() alone also passes "²" and "１２", which int() refuses or reads as another number.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ClientError(BAD_REQUEST, "since must be a whole number of 0 or more")
    return int(raw)


async def _receive(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Answer pings until the client leaves; anything else closes the connection with a code and a reason."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            raise ClientError(UNSUPPORTED_DATA, "binary messages are not supported: send JSON text")
        if len(text) > 1024:
            raise ClientError(POLICY_VIOLATION, "message too large")
        try:
            json.loads(text)
        except ValueError:
            raise ClientError(INVALID_PAYLOAD, "malformed JSON") from None
        try:
            client_message_adapter.validate_json(text)
        except ValidationError:
            raise ClientError(
                POLICY_VIOLATION, 'unknown message: the only message a client may send is {"type": "ping"}'
            ) from None
        await websocket.send_text(Pong(seq=subscriber.last_seq).model_dump_json())


_last_freeze = [0.0]


def _freeze_long_lived() -> None:
    """Move what exists now (the idle connections) out of the garbage collector's sight, at most every 2 s.

    Otherwise each full collection walks every object of every connection and pauses the broadcast
    of a call by a large fraction of a second at a thousand subscribers (see HARDWARE.md).
    """
    now = time.monotonic()
    if now - _last_freeze[0] > 2.0:
        _last_freeze[0] = now
        gc.freeze()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)


@router.websocket("/ws/halls/{hall}/board")
async def board_socket(websocket: WebSocket, hall: str) -> None:
    state: ServerState = websocket.app.state.bianmin
    await websocket.accept()
    try:
        if hall not in {h.id for h in state.config.halls}:
            raise ClientError(NOT_FOUND, f"no hall {hall[:48]!r}")
        since = _parse_since(websocket.query_params.get("since"))
        category = _parse_category(state, hall, websocket.query_params.get("category"))
    except ClientError as error:
        await _close(websocket, error.code, error.reason)
        return

    # Subscribe before reading the backlog: what is published meanwhile waits, and seq removes doubles.
    subscriber = state.broker.subscribe(hall, websocket.send_text, partial(_close, websocket), category)
    try:
        last, first = await _backlog(state, hall, since, category)
        for text in first:
            await websocket.send_text(text)
        del first  # an idle connection keeps no copy of its snapshot
        subscriber.start(last)
        _freeze_long_lived()
        await _receive(websocket, subscriber)
    except ClientError as error:
        await _close(websocket, error.code, error.reason)
    except WebSocketDisconnect:
        pass
    finally:
        state.broker.unsubscribe(subscriber)
