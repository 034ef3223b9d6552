"""Rate limits of the public endpoints and of staff login: small in-memory token buckets per client address and key.

Each rule has two buckets: one per client IP (a hall's public Wi-Fi puts many phones behind one
address, so these are generous) and one per key taken from the path (a tracking token, an
appointment code), which is what stops a single ticket or code being hammered or guessed. An empty
bucket answers 429 with Retry-After. Buckets live in the app (one server process); the oldest are
dropped when there are too many, so a flood of addresses cannot grow memory without bound. With several
processes on one database an address gets at most that many times the rate: the buckets guard each process's
CPU, which is per process too. What stops password guessing, the failure counts and locks, is in the database
and shared by every process (services/throttle.py).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from queue_server.api.responses import answers
from queue_server.errors import TooManyRequests

MAX_BUCKETS = 20_000  # per rule and kind; an idle bucket is full again long before it is dropped


@dataclass(frozen=True)
class Rate:
    """Up to `burst` requests at once, refilled at `per_s` requests a second."""

    burst: int
    per_s: float


@dataclass(frozen=True)
class Rule:
    per_ip: Rate
    per_key: Rate | None = None


# Chosen for a hall: a phone re-reads its ticket at most about once a second; a citizen books or
# rates a few times, not hundreds; guessing an 8-character appointment code (32^8) at these rates is hopeless.
RULES: dict[str, Rule] = {
    "track": Rule(per_ip=Rate(600, 20.0), per_key=Rate(60, 2.0)),  # ticket status and the tracking page
    "book": Rule(per_ip=Rate(20, 1 / 30)),  # booking an appointment
    "remote": Rule(per_ip=Rate(10, 1 / 60)),  # 远程取号: a few a day from one place, then one a minute
    "slots": Rule(per_ip=Rate(120, 2.0)),  # free slots, the booking page
    "appointment": Rule(per_ip=Rate(60, 0.5), per_key=Rate(30, 0.2)),  # look up, cancel, QR of one code
    "remind": Rule(per_ip=Rate(30, 0.2), per_key=Rate(10, 1 / 30)),  # a phone reminder: asked once or twice
    "rate": Rule(per_ip=Rate(60, 0.5), per_key=Rate(10, 1 / 60)),  # 好差评 of one ticket
    # 投诉举报: filing is a few a day from one place (a hall's Wi-Fi, the kiosk's guide screen): 10 at once, then one
    # a minute; reading an answer by its code as an appointment code (10 characters: 32^10, hopeless to guess).
    "complain": Rule(per_ip=Rate(10, 1 / 60)),
    "complaint": Rule(per_ip=Rate(60, 0.5), per_key=Rate(30, 0.2)),
    "published": Rule(per_ip=Rate(120, 2.0)),
    # 办件进度查询 on /q/{hall}: as a complaint's code (9 characters of 23: 23^9, hopeless to guess at 1 every 2 s).
    "case": Rule(per_ip=Rate(60, 0.5), per_key=Rate(30, 0.2)),  # the public page /q/{hall} and its monthly figures
    # Staff logins: each costs an argon2 hash. A clerk's PC logs in a few times a day; 20 at once and then one
    # every 3 s is more than a hall's morning, and leaves a password guesser ~1,200 tries an hour per address.
    "login": Rule(per_ip=Rate(20, 1 / 3)),
}


class Buckets:
    """Token buckets by key, least recently used dropped first beyond `limit` keys."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic, limit: int = MAX_BUCKETS) -> None:
        self.rate, self.clock, self.limit = rate, clock, limit
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (tokens, at)

    def take(self, key: str) -> float:
        """Take one token for `key`: 0 when allowed, else the seconds until a token is back."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - at) * self.rate.per_s)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate.per_s if self.rate.per_s > 0 else 3600.0
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.limit:
            self._buckets.popitem(last=False)
        return wait


class RateLimits:
    """Every rule's buckets for one app."""

    def __init__(self, rules: dict[str, Rule]) -> None:
        self._ip = {name: Buckets(rule.per_ip) for name, rule in rules.items()}
        self._key = {name: Buckets(rule.per_key) for name, rule in rules.items() if rule.per_key}

    def check(self, name: str, ip: str, key: str | None = None) -> None:
        error = self.refusal(name, ip, key)
        if error is not None:
            raise error

    def refusal(self, name: str, ip: str, key: str | None = None) -> TooManyRequests | None:
        """Take a token of rule `name`: None when allowed, else the 429 to answer."""
        waits = [self._ip[name].take(ip)]
        if key is not None and name in self._key:
            waits.append(self._key[name].take(key))
        wait = max(waits)
        if wait <= 0:
            return None
        return TooManyRequests(
            f"too many requests: try again in {math.ceil(wait)} s (请求过于频繁，请稍后再试)", math.ceil(wait)
        )


def limits_of(request: Request) -> RateLimits:
    """The app's rate limits, made on first use (with the RULES of that moment, which tests may change)."""
    return _limits(request.app)


def _limits(app: Any) -> RateLimits:
    limits: RateLimits | None = getattr(app.state, "bianmin_rate_limits", None)
    if limits is None:
        limits = RateLimits(RULES)
        app.state.bianmin_rate_limits = limits
    return limits


class EarlyLimits:
    """Rules applied before the framework sees the request (ASGI middleware): refusing a flood costs a bucket
    look-up and one small answer, not routing, validation and dependencies. For routes that are flooded on
    purpose (staff login: each allowed attempt costs an argon2 hash)."""

    def __init__(self, app: Any, routes: dict[tuple[str, str], str]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = self.routes.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if name is not None:
            client = scope.get("client")
            refused = _limits(scope["app"]).refusal(name, client[0] if client else "unknown")
            if refused is not None:
                body = json.dumps(
                    {"error": {"code": refused.code, "message": str(refused)}}, ensure_ascii=False
                ).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(refused.retry_after_s).encode()),
                ]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def client_ip(request: Request) -> str:
    # The peer address only: X-Forwarded-For is whatever a client likes to write.
    return request.client.host if request.client else "unknown"


def limited(
    name: str, key_param: str | None = None, *, fold_case: bool = False, key_of: Callable[[str], str] | None = None
) -> Callable[[Request], Awaitable[None]]:
    """A route dependency applying rule `name` per client IP, and per the path parameter `key_param`.

    `fold_case`: the key is case-insensitive (appointment codes), so "ab12" and "AB12" share a bucket;
    `key_of`: the key as the route reads it (a case code without its dashes), so every spelling shares one.
    """
    if name not in RULES:
        raise KeyError(f"no rate-limit rule {name!r}")

    @answers(429)
    async def check(request: Request) -> None:
        # async: runs on the event loop, so the buckets need no lock.
        raw = request.path_params.get(key_param) if key_param else None
        key = None if raw is None else str(raw)[:80]
        if key is not None and fold_case:
            key = key.upper()
        if key is not None and key_of is not None:
            key = key_of(key)
        limits_of(request).check(name, client_ip(request), key)

    return check
