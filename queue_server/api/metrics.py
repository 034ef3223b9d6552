"""`GET /metrics` in Prometheus's text format: requests and latencies, queues, waits, websockets, kiosks' printers.

Who may read it: a client on this machine's loopback that came directly (no `X-Forwarded-For`/`Forwarded`
header: not through the reverse proxy), or anyone with `Authorization: Bearer <BIANMIN_METRICS_TOKEN>` when that
variable is set. Everyone else gets 403. The figures name halls, categories and devices, never a person.

Request counts and latencies are this process's (with `--workers N` each process counts its own; run separate
`bianmin serve` processes on their own ports to scrape each). Everything else is read at scrape time from the
hall's read side and today's facts, the same in every process.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import time
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.schema import Hall
from queue_server.api.deps import State
from queue_server.api.routes_reports import local_today, today_facts
from queue_server.errors import Forbidden
from queue_server.reports.figures import US, TicketFacts, figures_of, waiting_now
from queue_server.reports.live import TodayFacts
from queue_server.services.views import queue_summaries

TOKEN_ENV = "BIANMIN_METRICS_TOKEN"
#: The text format every Prometheus version reads (generate_latest writes it).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOOPBACK = ("127.", "::1", "localhost")
PRINTER_STATES = ("unreachable", "cover_open", "paper_out", "offline", "paper_near_end", "online", "unknown")

router = APIRouter(tags=["operations"])


class RequestMetrics:
    """This process's HTTP requests by route template (never the raw path: bounded labels) and their latencies."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bianmin_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "bianmin_http_request_duration_seconds",
            "time from a request's arrival to its answer's start",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts every HTTP request (not websockets: their subscribers are a gauge) once its answer starts."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                method = scope.get("method", "GET")
                self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
                self.metrics.requests.labels(method, route, str(status[0])).inc()
            await send(message)

        await self.app(scope, receive, sending)


class _Families(Collector):
    """Metric families computed for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def allowed(request: Request) -> bool:
    """Loopback without a proxy's header, or the metrics token."""
    token = os.environ.get(TOKEN_ENV, "")
    given = request.headers.get("authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    peer = request.client.host if request.client else ""
    proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    return peer.startswith(LOOPBACK) and not proxied


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        403: {"description": "not from this machine's loopback, and no metrics token"},
    },
)
async def metrics(request: Request, state: State) -> Response:
    """Prometheus metrics: loopback clients (not through a proxy) or `Authorization: Bearer $BIANMIN_METRICS_TOKEN`."""
    if not allowed(request):
        raise Forbidden(
            "metrics are served to this machine's loopback, or with the metrics token (监控指标仅限本机或持令牌读取)"
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(request.app.state.bianmin_metrics.registry)
    registry.register(state.store.stages.registry)
    registry.register(_Families(await _scrape(request, state)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)


async def _scrape(request: Request, state: State) -> list[Metric]:
    waiting = GaugeMetricFamily("bianmin_queue_waiting", "tickets waiting now", labels=["hall", "category"])
    estimate = GaugeMetricFamily(
        "bianmin_queue_estimated_wait_seconds", "estimated wait of a ticket taken now", labels=["hall", "category"]
    )
    longest = GaugeMetricFamily(
        "bianmin_queue_longest_wait_seconds", "longest wait so far of a waiting ticket", labels=["hall", "category"]
    )
    issued = GaugeMetricFamily("bianmin_today_issued", "tickets issued today", labels=["hall", "category"])
    called = GaugeMetricFamily("bianmin_today_called", "tickets called today", labels=["hall", "category"])
    mean_wait = GaugeMetricFamily(
        "bianmin_today_wait_seconds_mean", "mean wait from issue to call, today", labels=["hall", "category"]
    )
    p90_wait = GaugeMetricFamily(
        "bianmin_today_wait_seconds_p90", "90th percentile wait from issue to call, today", labels=["hall", "category"]
    )
    open_windows = GaugeMetricFamily("bianmin_windows_open", "windows open or paused now", labels=["hall"])
    subscribers = GaugeMetricFamily(
        "bianmin_websocket_subscribers", "board websockets on this process", labels=["hall"]
    )
    last_seq = GaugeMetricFamily("bianmin_event_seq", "the newest seq of the hall's event log", labels=["hall"])
    facts = today_facts(request)
    now = state.store.clock()
    for hall in state.config.halls:
        view = await state.view(hall.id)
        day = view.day or local_today(hall, now)
        now_us = int(now.timestamp() * US)
        tickets = await state.store.read(partial(_tickets_of, facts, hall, day))
        now_waiting = waiting_now(tickets, now_us)
        for summary in queue_summaries(view):
            code = summary.category
            count, longest_us = now_waiting.get(code, (0, 0))
            waiting.add_metric([hall.id, code], summary.waiting)
            if summary.wait_s is not None:
                estimate.add_metric([hall.id, code], summary.wait_s)
            longest.add_metric([hall.id, code], longest_us / US if count else 0)
            figures = figures_of(t for t in tickets if t.category == code)
            issued.add_metric([hall.id, code], figures.issued)
            called.add_metric([hall.id, code], figures.called)
            if figures.avg_wait_s is not None:
                mean_wait.add_metric([hall.id, code], figures.avg_wait_s)
            if figures.p90_wait_s is not None:
                p90_wait.add_metric([hall.id, code], figures.p90_wait_s)
        open_windows.add_metric([hall.id], sum(1 for w in view.windows.values() if w.state.value != "closed"))
        subscribers.add_metric([hall.id], state.broker.count(hall.id))
        last_seq.add_metric([hall.id], view.last_seq)
    families: list[Metric] = [waiting, estimate, longest, issued, called, mean_wait, p90_wait]
    families += [open_windows, subscribers, last_seq, *_kiosk_families(state.device_reports.items())]
    return families


def _tickets_of(facts: TodayFacts, hall: Hall, day: dt.date, conn: Connection) -> list[TicketFacts]:
    return facts.use(conn, hall, day, lambda builder: list(builder.tickets.values()))


def _kiosk_families(reports: Iterable[tuple[tuple[str, str], Any]]) -> Iterator[Metric]:
    """What each kiosk last reported of its spooler (POST .../devices/me/status), and how long ago."""
    queued = GaugeMetricFamily(
        "bianmin_kiosk_spooler_queued", "print jobs waiting at the kiosk", labels=["hall", "device"]
    )
    failed = GaugeMetricFamily(
        "bianmin_kiosk_spooler_failed", "print jobs failed at the kiosk", labels=["hall", "device"]
    )
    printer = GaugeMetricFamily(
        "bianmin_kiosk_printer_state", "1 for the kiosk printer's state", labels=["hall", "device", "state"]
    )
    age = GaugeMetricFamily(
        "bianmin_kiosk_report_age_seconds", "seconds since the kiosk last reported", labels=["hall", "device"]
    )
    now = time.monotonic()
    for (hall, device), (report, received) in sorted(reports):
        queued.add_metric([hall, device], report.queued)
        failed.add_metric([hall, device], report.failed)
        for name in PRINTER_STATES:
            printer.add_metric([hall, device, name], 1.0 if report.printer_state == name else 0.0)
        age.add_metric([hall, device], now - received)
    yield from (queued, failed, printer, age)
