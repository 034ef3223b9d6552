"""Staff login and logout."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from queue_server.api.deps import StaffDep, State, Token
from queue_server.api.ratelimit import client_ip
from queue_server.api.responses import errors
from queue_server.errors import Unauthorized
from queue_server.services import accounts
from queue_server.services.login import log_in
from queue_server.store.writer import from_us

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=errors(401))


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=48)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class LoginAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    username: str
    display_name: str
    role: str
    halls: list[str] | None  # the halls this account may act in; null: every hall
    county: str | None = None  # a county manager's county (its dashboard: /county/{county})
    city: str | None = None  # a city manager's city (its rollup: /city/{city})
    point: str | None = None  # a village agent's point (its page: /agent/{hall})


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    halls: list[str] | None
    county: str | None = None
    city: str | None = None
    point: str | None = None


LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    429: {
        **errors(429)[429],
        "description": (
            "too many attempts (登录失败次数过多，请 N 秒后再试 / too many failed logins: try again in N s): from this"
            " address for this username (3 wrong passwords, then 2 s, 4 s, … up to 15 min), or from this address for"
            " any username (20); or a flood from this address (the per-address rate limit), or the password checker"
            " is busy. The same username from another address is not held up."
        ),
    },
}


# Rate-limited per address before FastAPI sees the request (ratelimit.EarlyLimits, installed in app.py): a flood
# of refused logins costs a bucket look-up each. Failed logins are counted per (username, address) and per
# address in the database (services/throttle.py), so every server process holds the same locks.
@router.post("/login", response_model=LoginAnswer, responses=LOGIN_ERRORS)
async def login(body: LoginRequest, state: State, request: Request) -> LoginAnswer:
    """Log in with a username (any case, spaces around) and password; a bearer token for SESSION_HOURS."""
    # The hash is checked off the writer thread; only the look-up and the outcome go through the store.
    result = await log_in(state.store, body.username, body.password, client_ip(request))
    if result is None:  # raised only now, after the failure count was committed
        raise Unauthorized(accounts.WRONG_LOGIN)
    return LoginAnswer(
        access_token=result.token,
        expires_at=from_us(result.expires_at_us),
        username=result.staff.username,
        display_name=result.staff.display_name,
        role=result.staff.role.value,
        halls=_halls(result.staff),
        county=result.staff.county,
        city=result.staff.city,
        point=result.staff.point,
    )


@router.post("/logout", status_code=204)
async def logout(state: State, staff: StaffDep, token: Token) -> None:
    await state.store.run_global(lambda conn, _now: accounts.logout(conn, token))
    state.staff.forget(token)


@router.get("/me", response_model=Me)
async def me(staff: StaffDep) -> Me:
    return Me(username=staff.username, display_name=staff.display_name, role=staff.role.value, halls=_halls(staff),
              county=staff.county, city=staff.city, point=staff.point)  # fmt: skip


def _halls(staff: accounts.Staff) -> list[str] | None:
    return None if staff.halls is None else sorted(staff.halls)
