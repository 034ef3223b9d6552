"""A simulated hall's traffic on a real server: the simulator's days played through the HTTP API, `speed`× faster.

The simulator (`engine.run_day` on the hall's scenario, its real routing and window rules) decides when each
citizen takes a ticket and when each window calls, starts and finishes. The driver plays that through the API
a hall's devices and clerks use: the kiosk issues (`POST .../tickets` with its device token and an
Idempotency-Key), each window's clerk calls the next (`call-next`: the server's own routing picks whom),
starts, finishes with a case class (六件管理) or marks a no-show, and some citizens rate the service (好差评).

A simulated second lasts 1/`speed` real seconds. The server keeps its own (real) clock, so the waits it
records are `speed` times shorter than the simulated ones. A driver that falls behind (a busy machine) acts as
soon as it can. An answer other than the expected one is counted, and the first few are kept: a demo goes on.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from config.schema import Hall
from queue_server.domain.tickets import Priority
from queue_server.simulation.arrivals import stream
from queue_server.simulation.engine import DayResult
from queue_server.simulation.runs import simulate_days
from queue_server.simulation.scenario import Scenario, from_hall

DEVICE = "kiosk-1"
CALL_RETRY_S = 0.5  # real seconds a call that found nobody is tried again (the ticket's issue may be in flight)

# What clerks give a finished visit (六件管理), with the detail each class needs, and how often.
CASES: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.70, {"case_class": "immediate"}),
    (0.12, {"case_class": "promised", "promised_days": 3}),
    (0.06, {"case_class": "agent", "agent_name": "村代办员"}),
    (0.05, {"case_class": "supplement", "missing_materials": ["户口簿复印件"]}),
    (0.04, {"case_class": "joint", "next_department": "县自然资源局"}),
    (0.03, {"case_class": "returned", "reason": "不属于本中心办理范围"}),
)
RATE_SHARE = 0.6  # citizens who rate their visit on their phone
PHONES = 32  # the citizens' phones rate from addresses of their own (127.1.0.x), as on a hall's Wi-Fi
RATINGS: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.62, {"level": "very_satisfied"}),
    (0.30, {"level": "satisfied"}),
    (0.06, {"level": "basic"}),
    (0.02, {"level": "dissatisfied", "reasons": ["wait"]}),
)


@dataclass(frozen=True, slots=True)
class Visit:
    """One turn of a window: the call, the start of service (None: the citizen did not come), the end."""

    call_s: float
    start_s: float | None
    end_s: float


@dataclass(frozen=True)
class DayPlan:
    """A simulated day as the kiosk and the windows play it: (time, category, item, priority) and visits."""

    issues: list[tuple[float, str, str | None, str]]
    visits: dict[int, list[Visit]]

    @property
    def first_s(self) -> float:
        return min([t for t, *_ in self.issues], default=0.0)


def plan_day(scenario: Scenario, result: DayResult) -> DayPlan:
    """The kiosk's issues and each window's visits of one simulated day.

    A no-show who came back and was called again is played as one visit at the window that served them.
    """
    issues = []
    visits: dict[int, list[Visit]] = {number: [] for number, _ in scenario.windows}
    for t in result.tickets:
        priority = "green" if t.priority is Priority.GREEN else "ordinary"  # a kiosk asks for no other
        issues.append((t.issued_s, t.category, t.item_id, priority))
        if t.window is None or t.called_s is None:
            continue
        if t.recalled_s is not None and t.finished_s is not None:
            visits[t.window].append(Visit(t.recalled_s, t.started_s, t.finished_s))
        elif t.no_show:
            visits[t.window].append(Visit(t.called_s, None, t.called_s + scenario.no_show_hold_s))
        elif t.finished_s is not None:
            visits[t.window].append(Visit(t.called_s, t.started_s, t.finished_s))
    for turns in visits.values():
        turns.sort(key=lambda v: v.call_s)
    return DayPlan(sorted(issues), visits)


def _pick(rng: random.Random, table: tuple[tuple[float, dict[str, Any]], ...]) -> dict[str, Any]:
    u = rng.random() * sum(weight for weight, _ in table)
    for weight, body in table:
        u -= weight
        if u <= 0:
            return body
    return table[-1][1]


@dataclass
class HallDriver:
    """Plays simulated days of `hall` on the server at `url` (the hall's clerks share `password`)."""

    url: str
    hall: Hall
    kiosk_token: str
    password: str
    speed: float = 60.0
    seed: int = 1
    load: float = 0.7
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    _tracks: dict[str, str] = field(default_factory=dict)  # ticket number → its tracking token (for ratings)
    _phones: list[httpx.AsyncClient] = field(default_factory=list)
    _keys: int = 0

    @property
    def api(self) -> str:
        return f"/api/v1/halls/{self.hall.id}"

    async def run(self, days: int | None = None) -> None:
        """Play day after day (`days` of them, or until cancelled)."""
        scenario = from_hall(self.hall, load=self.load)
        async with httpx.AsyncClient(base_url=self.url, timeout=30, trust_env=False) as http:
            self._phones = [self.phone(n) for n in range(PHONES)]
            try:
                clerks = await self.open_windows(http)
                day = 0
                while days is None or day < days:
                    (result,) = simulate_days(scenario, 1, self.seed + day)
                    await self.play(http, plan_day(scenario, result), clerks, stream(self.seed, day, "driver"))
                    day += 1
            finally:
                await asyncio.gather(*(phone.aclose() for phone in self._phones), return_exceptions=True)

    def phone(self, n: int) -> httpx.AsyncClient:
        """A citizen's phone: its own loopback address (Linux routes all of 127/8 to lo), so the server's per-address
        limits see one phone each."""
        transport = httpx.AsyncHTTPTransport(local_address=f"127.1.0.{1 + n}")
        return httpx.AsyncClient(base_url=self.url, timeout=30, trust_env=False, transport=transport)

    async def open_windows(self, http: httpx.AsyncClient) -> dict[int, str]:
        """Each window's A-post clerk logs in and opens it; their login tokens by window."""
        clerks = {}
        for window in self.hall.windows:
            if window.a_post is None:
                continue
            answer = await http.post("/api/v1/auth/login", json={"username": window.a_post, "password": self.password})
            if answer.status_code != 200:
                self.note("login", answer)
                continue
            clerks[window.number] = answer.json()["access_token"]
            await self.window_action(http, clerks[window.number], window.number, "open", {"post": "A"})
        return clerks

    async def play(self, http: httpx.AsyncClient, plan: DayPlan, clerks: dict[int, str], rng: random.Random) -> None:
        loop = asyncio.get_running_loop()
        origin, first = loop.time(), plan.first_s

        async def until(sim_s: float) -> None:
            delay = origin + (sim_s - first) / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

        async def kiosk() -> None:
            for at, category, item_id, priority in plan.issues:
                await until(at)
                await self.issue(http, category, item_id, priority)

        async def window(number: int, token: str) -> None:
            for visit in plan.visits.get(number, []):
                await until(visit.call_s)
                called = await self.call(http, token, number)
                if called is None:
                    continue
                if visit.start_s is None:
                    await until(visit.end_s)
                    await self.window_action(http, token, number, "no-show")
                    continue
                await until(visit.start_s)
                await self.window_action(http, token, number, "start")
                await until(visit.end_s)
                if await self.window_action(http, token, number, "finish", _pick(rng, CASES)) is not None:
                    await self.rate(http, called, rng)

        await asyncio.gather(kiosk(), *(window(n, token) for n, token in clerks.items()))

    async def issue(self, http: httpx.AsyncClient, category: str, item_id: str | None, priority: str) -> None:
        self._keys += 1
        body = {"category": category, "priority": priority} | ({"item_id": item_id} if item_id else {})
        headers = {"Authorization": f"Bearer {self.kiosk_token}", "Idempotency-Key": f"sim-{self.seed}-{self._keys}"}
        answer = await self.request(http, "POST", f"{self.api}/tickets", body, headers)
        if answer is not None and answer.status_code == 201:
            ticket = answer.json()
            self._tracks[ticket["number"]] = ticket["track_token"]
            self.counts["issued"] += 1
        elif answer is not None:
            self.note("issue", answer)

    async def call(self, http: httpx.AsyncClient, token: str, number: int) -> str | None:
        """call-next; the number called (None: nobody waited for the window, also after a short retry)."""
        deadline = asyncio.get_running_loop().time() + CALL_RETRY_S
        while True:
            answer = await self.window_action(http, token, number, "call-next")
            if answer is None:
                return None
            if answer.status_code == 200:
                return str(answer.json()["ticket"]["number"])
            if asyncio.get_running_loop().time() > deadline:
                self.counts["nobody waiting"] += 1
                return None
            await asyncio.sleep(0.1)

    async def window_action(
        self, http: httpx.AsyncClient, token: str, number: int, action: str, body: dict[str, Any] | None = None
    ) -> httpx.Response | None:
        """POST a window action (a window found closed, e.g. by the server's day close, is opened again once)."""
        path = f"{self.api}/windows/{number}/{action}"
        headers = {"Authorization": f"Bearer {token}"}
        for attempt in range(2):
            answer = await self.request(http, "POST", path, body, headers)
            if answer is None:
                return None
            if answer.status_code in (200, 204):
                self.counts[action] += 1
                return answer
            if attempt == 0 and answer.status_code == 409 and action != "open":
                reopened = await self.request(http, "POST", f"{self.api}/windows/{number}/open", {"post": "A"}, headers)
                if reopened is not None and reopened.status_code == 200:
                    continue
            self.note(action, answer)
            return None
        return None

    async def rate(self, http: httpx.AsyncClient, number: str, rng: random.Random) -> None:
        track = self._tracks.pop(number, None)
        if track is None or rng.random() >= RATE_SHARE:
            return
        phone = self._phones[rng.randrange(len(self._phones))] if self._phones and "127.0.0.1" in self.url else http
        answer = await self.request(phone, "POST", f"{self.api}/tickets/{track}/rating", _pick(rng, RATINGS), {})
        if answer is not None and answer.status_code == 201:
            self.counts["rated"] += 1
        elif answer is not None:
            self.note("rating", answer)

    async def request(
        self, http: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> httpx.Response | None:
        try:
            return await http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as error:
            self.counts["unreachable"] += 1
            self.keep(f"{method} {path}: {type(error).__name__} {error}")
            return None

    def note(self, what: str, answer: httpx.Response) -> None:
        self.counts[f"{what} refused"] += 1
        self.keep(f"{what}: {answer.status_code} {answer.text[:200]}")

    def keep(self, error: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(error)
