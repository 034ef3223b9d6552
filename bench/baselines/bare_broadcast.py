"""Baseline of bench/call_latency.py and bench/ws_memory.py: a bare Starlette websocket fan-out.

- `WS /ws/halls/{hall}/board`: accept, send one "hello" text message of `--hello-size` bytes (standing in
  for the real server's snapshot), then wait for the client to leave. Each connection is one
  Starlette endpoint task and nothing else: no per-subscriber queue or sender task.
  `?category=X`: the subscriber follows one category (as a phone does on the real server) and is sent only
  the messages whose topic holds X.
- `POST /broadcast` with `{"n": N, "size": S, "type": "call", "topic": ["jisheng", …]}`: builds one message of
  S bytes, `{"type":"call","seq":N,"ticket":{"number":"X00042"},"pad":"..."}`, serialized once, and sends
  it in a plain loop (`await ws.send_text(text)` one after the other) to every subscriber of the whole hall
  and to every follower of a category in `topic` (no topic, or null: to everyone), then answers.
  `type` other than "call" (e.g. "ticket") sends the same shape with that type, to mirror the
  real server's traffic between calls.
- `GET /healthz`.

It runs under uvicorn with the same settings as `bianmin serve` (uvloop, httptools, the default
websockets-sansio protocol, per-message deflate off, one worker).

    python bench/baselines/bare_broadcast.py --port 8002 --hello-size 3000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import uvicorn_config


def padded(kind: str, seq: int, size: int) -> str:
    """A JSON message of exactly `size` bytes (or its minimal size, if larger)."""
    head = f'{{"type":"{kind}","seq":{seq},"ticket":{{"number":"X{seq:05d}"}},"pad":"'
    tail = '"}'
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def create_app(hello_size: int) -> Starlette:
    subscribers: dict[WebSocket, str | None] = {}  # each one's category; None: the whole hall
    hello = padded("hello", 0, hello_size)

    async def board(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(hello)
        subscribers[websocket] = websocket.query_params.get("category")
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        finally:
            subscribers.pop(websocket, None)

    async def broadcast(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        text = padded(body.get("type", "call"), int(body["n"]), int(body["size"]))  # serialized once
        topic = body.get("topic")
        concerned = None if topic is None else frozenset(topic)
        sent = 0
        for websocket, category in tuple(subscribers.items()):
            if category is not None and concerned is not None and category not in concerned:
                continue
            try:
                await websocket.send_text(text)
                sent += 1
            except Exception:
                subscribers.pop(websocket, None)
        return JSONResponse({"sent": sent})

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "subscribers": len(subscribers)})

    return Starlette(
        routes=[
            WebSocketRoute("/ws/halls/{hall}/board", board),
            Route("/broadcast", broadcast, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hello-size", type=int, default=2000)
    args = parser.parse_args()
    uvicorn.Server(uvicorn_config(create_app(args.hello_size), args.port)).run()  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
