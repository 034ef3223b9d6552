"""The kiosk's client against a real server: setup, issuing, retries that never make a second ticket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kiosk.case_lookup import get_case
from kiosk.client import (
    ApiError,
    CategoryFull,
    KioskClient,
    KioskError,
    NotRegistered,
    RetryPolicy,
    ServerUnreachable,
    Throttled,
)
from kiosk.state import Screen
from kiosk.viewmodel import KioskViewModel
from queue_server.protocol import IssueRequest
from tests.kiosk.conftest import demo_setup, with_cap
from tests.support.server import HALL, RunningServer, demo_config, free_port

FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=0.05, connect_timeout_s=1, read_timeout_s=5)
BIRTH = "jisheng-birth-registration"


class LosesAnswers(httpx.AsyncBaseTransport):
    """Forwards each POST of a ticket to the server, which carries it out, then loses the answer `lose` times."""

    def __init__(self, lose: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lose = lose
        self.lost: list[str] = []  # the numbers the kiosk never heard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/tickets") and self.lose > 0:
            self.lose -= 1
            body = await response.aread()
            await response.aclose()
            self.lost.append(httpx.Response(response.status_code, content=body).json().get("number", "?"))
            raise httpx.ReadError("the connection dropped after the request was sent", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class Unavailable(httpx.AsyncBaseTransport):
    """Answers 503 (as a proxy in trouble would) `times` times, without reaching the server; then forwards."""

    def __init__(self, times: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.times = times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.times > 0:
            self.times -= 1
            return httpx.Response(503, json={"error": {"code": "unavailable", "message": "try again"}})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def client_for(server: RunningServer, token: str, **kwargs: Any) -> KioskClient:
    return KioskClient(server.url, token, retry=kwargs.pop("retry", FAST), **kwargs)


def waiting(server: RunningServer, category: str = "jisheng") -> int:
    answer = httpx.get(f"{server.url}/api/v1/halls/{HALL}/queues", trust_env=False).json()
    return next(q["waiting"] for q in answer["queues"] if q["category"] == category)


def test_setup_rebuilds_the_hall_with_the_kiosks_printer(start_hall: Callable[..., RunningServer]) -> None:
    server = start_hall()
    token = server.add_device("kiosk-1")

    async def scenario() -> Any:
        async with client_for(server, token) as client:
            return await client.setup("kiosk-1")

    setup = run(scenario())
    expected = demo_config().hall("qingshan")
    assert setup.hall.id == "qingshan" and setup.hall.timezone == "Asia/Shanghai"
    assert len(setup.hall.items) == len(expected.items) == 91
    assert setup.hall.categories == expected.categories and setup.hall.queue == expected.queue
    assert setup.device.id == "kiosk-1" and setup.printer is not None and setup.printer.id == "printer-1"
    assert setup.server == server.url


def test_setup_refuses_a_wrong_device_or_token(start_hall: Callable[..., RunningServer]) -> None:
    server = start_hall()
    token = server.add_device("kiosk-1")

    async def setup(device: str, token: str) -> Any:
        async with client_for(server, token) as client:
            return await client.setup(device)

    with pytest.raises(NotRegistered, match="belongs to device kiosk-1, not kiosk-2"):
        run(setup("kiosk-2", token))
    with pytest.raises(NotRegistered) as refused:
        run(setup("kiosk-1", "bmd_not-a-token"))
    assert refused.value.status == 401


def test_the_same_key_gives_the_same_ticket(start_hall: Callable[..., RunningServer]) -> None:
    server = start_hall()
    token = server.add_device("kiosk-1")

    async def scenario() -> Any:
        async with client_for(server, token) as client:
            first = await client.issue(HALL, IssueRequest(item_id=BIRTH), "tap-1")
            again = await client.issue(HALL, IssueRequest(item_id=BIRTH), "tap-1")
            other = await client.issue(HALL, IssueRequest(item_id=BIRTH), "tap-2")
            return first, again, other

    first, again, other = run(scenario())
    assert (first.ticket.number, first.replayed) == ("A001", False)
    assert (again.ticket.number, again.replayed, again.ticket.track_token) == ("A001", True, first.ticket.track_token)
    assert other.ticket.number == "A002"


def test_a_lost_answer_is_retried_with_the_same_key_and_gives_the_same_number(
    start_hall: Callable[..., RunningServer],
) -> None:
    server = start_hall()
    token = server.add_device("kiosk-1")
    transport = LosesAnswers(lose=1)

    async def scenario() -> Any:
        async with client_for(server, token, transport=transport) as client:
            return await client.issue(HALL, IssueRequest(item_id=BIRTH), "tap-1")

    issued = run(scenario())
    assert transport.lost == ["A001"]  # the server issued A001; the kiosk never heard it
    assert (issued.ticket.number, issued.replayed, issued.attempts) == ("A001", True, 2)
    assert waiting(server) == 1  # one ticket, not two


def test_5xx_answers_are_retried_then_the_request_goes_through(start_hall: Callable[..., RunningServer]) -> None:
    server = start_hall()
    token = server.add_device("kiosk-1")

    async def scenario() -> Any:
        async with client_for(server, token, transport=Unavailable(times=2)) as client:
            return await client.issue(HALL, IssueRequest(category="guotu"), "tap-1")

    issued = run(scenario())
    assert (issued.ticket.number, issued.attempts, issued.replayed) == ("B001", 3, False)


def test_a_server_that_is_down_costs_bounded_attempts_and_a_typed_error() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def scenario() -> None:
        async with KioskClient(f"http://127.0.0.1:{free_port()}", "bmd_x", retry=FAST, sleep=sleep) as client:
            await client.issue(HALL, IssueRequest(category="guotu"), "tap-1")

    with pytest.raises(ServerUnreachable, match="no answer after 3 attempts"):
        run(scenario())
    assert slept == [0.01, 0.02]  # back-off between the attempts, none after the last
    assert RetryPolicy().worst_case_s() < 60


def test_one_attempt_when_the_kiosk_already_knows_the_server_is_gone() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def scenario() -> None:
        async with KioskClient(f"http://127.0.0.1:{free_port()}", "bmd_x", retry=FAST, sleep=sleep) as client:
            await client.issue(HALL, IssueRequest(category="guotu"), "tap-1", attempts=1)

    with pytest.raises(ServerUnreachable, match="no answer after 1 attempts"):
        run(scenario())
    assert slept == []


def test_lookups_refused_as_too_many_are_told_apart_from_a_server_that_is_gone(
    start_hall: Callable[..., RunningServer],
) -> None:
    server = start_hall()
    token = server.add_device("kiosk-1")

    async def scenario() -> tuple[list[int], KioskError]:
        answered: list[int] = []
        async with client_for(server, token) as client:
            for _ in range(200):  # the public lookup's allowance per address is far smaller
                try:
                    await get_case(client, HALL, "AC3467FGH", attempts=1)
                except ApiError as error:
                    answered.append(error.status)
                except ServerUnreachable as error:
                    return answered, error
        raise AssertionError("the lookups were never limited")

    answered, refused = run(scenario())
    assert answered and set(answered) == {404}  # unknown code, until the allowance is spent
    assert isinstance(refused, Throttled) and "HTTP 429" in str(refused)


def test_final_4xx_answers_are_typed_and_not_retried(start_hall: Callable[..., RunningServer]) -> None:
    server = start_hall(with_cap(demo_config(), "sifa", 1))
    token = server.add_device("kiosk-1")
    attempts: list[str] = []

    async def log_request(request: httpx.Request) -> None:
        attempts.append(request.url.path)

    async def scenario() -> None:
        async with client_for(server, token) as client:
            client._http.event_hooks["request"] = [log_request]
            await client.issue(HALL, IssueRequest(category="sifa"), "tap-1")
            with pytest.raises(CategoryFull) as full:
                await client.issue(HALL, IssueRequest(category="sifa"), "tap-2")
            assert (full.value.status, full.value.code) == (409, "category_full")
            with pytest.raises(ApiError) as missing:
                await client.issue(HALL, IssueRequest(item_id="no-such-item"), "tap-3")
            assert (missing.value.status, missing.value.code) == (404, "not_found")

    run(scenario())
    assert len(attempts) == 3


def test_retry_without_a_duplicate_through_the_view_model(start_hall: Callable[..., RunningServer]) -> None:
    """Every answer of the first tap is lost: the kiosk shows the error; 重试 then shows the number the server gave."""
    server = start_hall()
    token = server.add_device("kiosk-1")
    transport = LosesAnswers(lose=FAST.attempts)

    async def scenario() -> KioskViewModel:
        async with client_for(server, token, transport=transport) as client:
            setup = await client.setup("kiosk-1")
            vm = KioskViewModel(lambda request, key: client.issue(setup.hall.id, request, key))
            vm.start(demo_setup())
            vm.open_category("jisheng")
            vm.open_item(BIRTH)
            await vm.take_ticket()
            assert vm.state.screen is Screen.ERROR and vm.view().message.retry  # type: ignore[union-attr]
            await vm.retry()
            assert vm.state.screen is Screen.TICKET
            assert vm.state.ticket is not None and vm.state.ticket.number == "A001"
            vm.done()
            vm.open_category("jisheng")
            await vm.take_ticket()  # the next citizen: a new tap, a new number
            return vm

    vm = run(scenario())
    assert transport.lost == ["A001", "A001", "A001"]  # the server answered the same ticket every time
    assert vm.state.ticket is not None and vm.state.ticket.number == "A002"
    assert waiting(server) == 2


def test_check_in_gives_an_appointment_ticket_once_and_typed_refusals(start_hall: Callable[..., RunningServer]) -> None:
    server = start_hall()  # its clock: Monday 09:00
    token = server.add_device("kiosk-1")
    codes = []
    for start in ("09:30", "11:00"):
        body = {"item_id": BIRTH, "day": "2026-03-16", "start": start}
        answer = httpx.post(f"{server.url}/api/v1/halls/{HALL}/appointments", json=body, trust_env=False)
        assert answer.status_code == 201, answer.text
        codes.append(answer.json()["code"])
    now, later = codes

    async def scenario() -> Any:
        async with client_for(server, token) as client:
            first = await client.check_in(HALL, now.lower())  # codes are read in either case
            again = await client.check_in(HALL, now)
            refusals = []
            for code in (later, "ZZZZZZZZ"):
                with pytest.raises(ApiError) as refused:
                    await client.check_in(HALL, code)
                refusals.append((refused.value.code, refused.value.message))
            return first, again, refusals

    first, again, refusals = run(scenario())
    assert (first.ticket.number, first.ticket.priority, first.replayed) == ("A001", "appointment", False)
    assert (again.ticket.number, again.replayed, again.attempts) == ("A001", True, 1)
    assert refusals[0][0] == "too_early" and "from 10:30" in refusals[0][1]
    assert refusals[1][0] == "not_found"


def test_the_kiosk_reports_its_spooler_to_the_server(start_hall: Callable[..., RunningServer], tmp_path: Any) -> None:
    """The controller (no window) reports its virtual printer's spooler; the server's /metrics shows it."""
    from kiosk.controller import KioskController, KioskOptions

    server = start_hall()
    token = server.add_device("kiosk-1")
    options = KioskOptions(
        server=server.url, device="kiosk-1", token=token, report_interval_s=0.05, virtual_root=tmp_path
    )
    controller = KioskController(options, render=lambda _view: None)
    reports = server.app.state.bianmin.device_reports

    async def scenario() -> None:
        running = asyncio.create_task(controller.run())
        try:
            for _ in range(200):
                if (HALL, "kiosk-1") in reports:
                    return
                await asyncio.sleep(0.025)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    run(scenario())
    report, _at = reports[(HALL, "kiosk-1")]
    assert (report.queued, report.failed) == (0, 0) and report.printer_state in ("unknown", "online")
    metrics = httpx.get(f"{server.url}/metrics", trust_env=False).text
    assert 'bianmin_kiosk_spooler_queued{device="kiosk-1",hall="qingshan"} 0.0' in metrics
