"""The FastAPI application: routers, error handlers, and the store's life cycle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from queue_server.api import errors, routes_admin, routes_auth, routes_public, routes_tickets, routes_windows, ws
from queue_server.api.state import ServerState
from queue_server.store.writer import Published, Store

DESCRIPTION = """
便民 Bianmin queue server. Kiosks issue tickets with a device token and an `Idempotency-Key`;
clerks act on the window they opened; boards and phones follow the hall over
`/ws/halls/{hall}/board?since=SEQ`. Errors are JSON: `{"error": {"code": ..., "message": ...}}`.
"""


def create_app(store: Store) -> FastAPI:
    """An app over a store whose migrations have run and whose services are wired (see server.py)."""
    state = ServerState(config=store.config, store=store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def publish(hall: str, messages: list[Published]) -> None:
            # Called on the writer thread after commit; the broker lives on the event loop.
            loop.call_soon_threadsafe(state.broker.publish, hall, messages)

        store.set_publisher(publish)
        try:
            yield
        finally:
            store.set_publisher(None)

    app = FastAPI(title="Bianmin 便民", version="1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.bianmin = state
    errors.install(app)
    for module in (routes_auth, routes_public, routes_tickets, routes_windows, routes_admin, ws):
        app.include_router(module.router)

    @app.get("/healthz", tags=["public"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
