"""The FastAPI application: routers, error handlers, and the store's life cycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from config.loader import ConfigError
from config.schema import Notify
from queue_server.api import (
    errors,
    routes_admin,
    routes_auth,
    routes_config,
    routes_public,
    routes_tickets,
    routes_windows,
    ws,
)
from queue_server.api.metrics import MetricsMiddleware, RequestMetrics
from queue_server.api.metrics import router as metrics_router
from queue_server.api.page_headers import PageHeaders
from queue_server.api.ratelimit import EarlyLimits
from queue_server.api.responses import document_errors
from queue_server.api.routes_agent import router as agent_router
from queue_server.api.routes_appointments import router as appointments_router
from queue_server.api.routes_cases import router as cases_router
from queue_server.api.routes_city import router as city_router
from queue_server.api.routes_console import router as console_router
from queue_server.api.routes_county import router as county_router
from queue_server.api.routes_county_complaints import router as county_complaints_router
from queue_server.api.routes_devices import router as devices_router
from queue_server.api.routes_pad import router as pad_router
from queue_server.api.routes_phone import router as phone_router
from queue_server.api.routes_ratings import router as ratings_router
from queue_server.api.routes_reminders import router as reminders_router
from queue_server.api.routes_remote import router as remote_router
from queue_server.api.routes_reports import router as reports_router
from queue_server.api.routes_staff import router as staff_router
from queue_server.api.routes_supervision import router as supervision_router
from queue_server.api.routes_voice import router as voice_router
from queue_server.api.routes_web import router as web_router
from queue_server.api.state import ConfigSource, ServerState
from queue_server.hall_view import ViewDelta
from queue_server.link.downlink import start_downlink
from queue_server.link.routes_link import router as link_router
from queue_server.link.shipper import start_links
from queue_server.notify.message import Notice
from queue_server.notify.sender import Sender
from queue_server.reports.keeper import keep_report_days
from queue_server.services.auto_no_show import watch_no_shows
from queue_server.store.listener import Listener
from queue_server.store.writer import Published, Store

log = logging.getLogger(__name__)

DESCRIPTION = """
便民 Bianmin queue server. Kiosks issue tickets with a device token and an `Idempotency-Key`;
clerks act on the window they opened; boards and phones follow the hall over
`/ws/halls/{hall}/board?since=SEQ`. Errors are JSON: `{"error": {"code": ..., "message": ...}}`.
"""


def create_app(store: Store, *, owns_store: bool = False, config_source: ConfigSource | None = None) -> FastAPI:
    """An app over a store whose migrations have run and whose services are wired (see server.py).

    `owns_store`: the app closes the store when it stops (a worker process's app). `config_source` reads
    the configuration again (an administrator's reload; without it the configuration cannot be reloaded).
    """
    state = ServerState(config=store.config, store=store, config_source=config_source)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def deliver(hall: str, messages: list[Published], delta: ViewDelta | None) -> None:
            # The read side first: a client that reads after a message sees at least that message's state.
            if delta is not None:
                state.views.apply(hall, delta)
            if messages:
                state.broker.publish(hall, messages, state.topic_of(hall))

        def publish(hall: str, messages: list[Published], delta: ViewDelta | None) -> None:
            # Called on the writer thread after commit; the views and the broker live on the event loop.
            loop.call_soon_threadsafe(deliver, hall, messages, delta)

        def forget_accounts() -> None:
            state.devices.clear()
            state.staff.clear()

        def reload_config() -> None:  # another process reloaded: so does this one, from its own file
            if state.config_source is not None:
                asyncio.run_coroutine_threadsafe(_reload_quietly(state), loop)

        store.set_publisher(publish)
        store.on_accounts_changed.append(forget_accounts)
        store.on_config_changed.append(reload_config)
        listener = Listener(store)
        listener.start()
        await asyncio.to_thread(store.refresh_views)  # every hall's read side, before the first request
        keeper = asyncio.create_task(keep_report_days(store))
        no_shows = asyncio.create_task(watch_no_shows(store, state.views))  # after the last recall (过号)
        sender = Sender(loop, lambda hall: _notify_settings(state, hall))  # phone reminders, off the writer
        store.on_outbox = lambda items: sender.submit([i for i in items if isinstance(i, Notice)])
        # Link down first: a county version staged on an earlier day is served before the first request.
        state.downlink = await start_downlink(state)
        links = start_links(store, state.downlink)  # link up: a shipper per hall with [halls.link] (queue_server/link/)
        try:
            yield
        finally:
            await links.stop()
            if state.downlink is not None:
                await state.downlink.stop()
            keeper.cancel()
            no_shows.cancel()
            store.on_outbox = None
            await sender.close()
            listener.stop()
            store.on_accounts_changed.remove(forget_accounts)
            store.on_config_changed.remove(reload_config)
            store.set_publisher(None)
            if owns_store:
                store.close()

    app = FastAPI(title="Bianmin 便民", version="1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.bianmin = state
    app.state.bianmin_metrics = request_metrics = RequestMetrics()
    errors.install(app)
    app.add_middleware(EarlyLimits, routes={("POST", "/api/v1/auth/login"): "login"})
    app.add_middleware(PageHeaders)  # the Content-Security-Policy of every page, nosniff on every answer
    for module in (routes_auth, routes_public, routes_tickets, routes_windows, routes_admin, ws):
        app.include_router(module.router)
    app.include_router(devices_router)  # a kiosk's own settings: GET .../devices/me
    app.include_router(voice_router)  # the spoken audio of calls
    app.include_router(pad_router)  # the evaluator pad at /rate/{hall}/window/{n} and the rating it posts
    app.include_router(web_router)  # the web boards at /board/{hall} and /board/{hall}/window/{n}
    app.include_router(reports_router)  # reports, exports and the live wall (managers)
    app.include_router(county_router)  # the county dashboard's data: every hall now, reports across halls
    app.include_router(county_complaints_router)  # the complaints of every hall of the county (from their events)
    app.include_router(city_router)  # the city rollup's data: the headline table, reports across counties
    app.include_router(staff_router)  # staff accounts and roles (administrators)
    app.include_router(console_router)  # the clerk console /clerk and the manager dashboard /manager
    app.include_router(agent_router)  # village agent points: the agent's page /agent/{hall} and its cases
    app.include_router(cases_router)  # the case ledger (办件): the clerk's desk of cases, the kiosk's 补办 return
    app.include_router(reminders_router)  # phone reminders (快到您了, the call) with the citizen's consent
    app.include_router(ratings_router)  # 好差评: the citizen's rating, the managers' follow-up
    app.include_router(appointments_router)  # 办事预约: slots, booking, cancel, kiosk check-in
    app.include_router(remote_router)  # 远程取号: a place in today's queue from the phone, checked in at the kiosk
    app.include_router(supervision_router)  # 互联网+监督: published figures, complaints (public and managers)
    app.include_router(phone_router)  # the phone pages /t/{track_token}, /book/{hall} and /q/{hall}

    app.include_router(link_router)  # link up: townships' events in, their status for the county
    app.include_router(routes_config.router)  # the administrator's configuration reload
    app.include_router(metrics_router)  # /metrics for Prometheus (loopback or the metrics token)
    app.add_middleware(MetricsMiddleware, metrics=request_metrics)  # outermost: every answer counted

    @app.get("/healthz", tags=["public"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    document_errors(app)  # every operation's document names the errors its dependencies answer
    return app


def _notify_settings(state: ServerState, hall_id: str) -> Notify | None:
    """The hall's [halls.notify] in the configuration served now (None: it sends no reminders)."""
    try:
        return state.config.hall(hall_id).notify
    except KeyError:
        return None


async def _reload_quietly(state: ServerState) -> None:
    try:
        config = await state.reload_config(announce=False)
    except ConfigError as error:  # this process keeps serving what it had: it never runs a bad configuration
        log.error("another process reloaded the configuration, but this one's file fails validation:\n%s", error)
        return
    log.info("configuration reloaded (another process asked): %s", ", ".join(h.id for h in config.halls))
