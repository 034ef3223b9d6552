"""The board websocket: a snapshot or the missed events, then every event as it happens."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlalchemy import Connection, select

from queue_server.api.state import ServerState
from queue_server.broker import OVERFLOWED, RECEIVER_DONE
from queue_server.protocol import Pong, Snapshot, client_message_adapter
from queue_server.services.views import board_state
from queue_server.store.tables import events
from queue_server.store.writer import Tx

router = APIRouter()

RESUME_LIMIT = 2000  # a client further behind than this gets a fresh snapshot instead of the events

# Close codes (RFC 6455 and the 4000-4999 range for applications).
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
BAD_REQUEST = 4400
NOT_FOUND = 4404


class ClientError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _backlog(state: ServerState, hall: str, since: int | None) -> tuple[int, list[str]]:
    """The messages a new subscriber needs first, and the seq they bring it to."""
    current = await state.store.run(hall, lambda tx: tx.rt.last_seq)
    if since is not None and since <= current and current - since <= RESUME_LIMIT:

        def read(conn: Connection) -> list[tuple[int, str]]:
            rows = conn.execute(
                select(events.c.seq, events.c.public)
                .where(events.c.hall == hall, events.c.seq > since)
                .order_by(events.c.seq)
            )
            return [(r.seq, r.public) for r in rows]

        missed = await state.store.read(read)
        return (missed[-1][0] if missed else since), [text for _, text in missed]

    def snapshot(tx: Tx) -> Snapshot:
        return Snapshot(seq=tx.rt.last_seq, board=board_state(tx.rt))

    snap = await state.store.run(hall, snapshot)
    return snap.seq, [snap.model_dump_json()]


def _parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ClientError(BAD_REQUEST, "since must be a whole number of 0 or more")
    return int(raw)


async def _receive(websocket: WebSocket, last_seq: list[int]) -> None:
    """Answer pings; anything else closes the connection with a code and a reason."""
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
        await websocket.send_text(Pong(seq=last_seq[0]).model_dump_json())


@router.websocket("/ws/halls/{hall}/board")
async def board_socket(websocket: WebSocket, hall: str) -> None:
    state: ServerState = websocket.app.state.bianmin
    await websocket.accept()
    try:
        if hall not in {h.id for h in state.config.halls}:
            raise ClientError(NOT_FOUND, f"no hall {hall[:48]!r}")
        since = _parse_since(websocket.query_params.get("since"))
    except ClientError as error:
        await websocket.close(code=error.code, reason=error.reason)
        return

    subscriber = state.broker.subscribe(hall)
    receiver: asyncio.Task[None] | None = None
    try:
        last, first = await _backlog(state, hall, since)
        for text in first:
            await websocket.send_text(text)
        last_seq = [last]
        receiver = asyncio.create_task(_receive(websocket, last_seq))
        # When the client side ends, wake the sender loop below through the same queue.
        receiver.add_done_callback(lambda _task: subscriber.wake(RECEIVER_DONE))
        while True:
            seq, text = await subscriber.queue.get()
            if seq == RECEIVER_DONE:
                receiver.result()  # raises the client's error, if any
                return
            if seq == OVERFLOWED:
                raise ClientError(TRY_AGAIN_LATER, f"too far behind: reconnect with ?since={last_seq[0]}")
            if seq <= last_seq[0]:
                continue
            await websocket.send_text(text)
            last_seq[0] = seq
    except ClientError as error:
        with contextlib.suppress(Exception):
            await websocket.close(code=error.code, reason=error.reason)
    except WebSocketDisconnect:
        pass
    finally:
        state.broker.unsubscribe(subscriber)
        if receiver is not None and not receiver.done():
            receiver.cancel()
