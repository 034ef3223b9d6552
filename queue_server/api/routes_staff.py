"""Staff accounts, roles and halls: administrators manage them; a hall's supervisors list the hall's staff."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Connection

from config.schema import Slug
from queue_server.api.deps import AdminDep, HallDep, State, SupervisorDep
from queue_server.api.ratelimit import client_ip
from queue_server.api.responses import errors
from queue_server.api.state import ServerState
from queue_server.errors import BadRequest
from queue_server.services import accounts, login, staff_audit
from queue_server.store.writer import Tx, from_us, to_us

router = APIRouter(tags=["staff"], responses=errors(400, 404, 409))
STAFF = "/api/v1/staff"
log = logging.getLogger(__name__)

Username = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{1,47}$")]
Password = Annotated[str, Field(min_length=8, max_length=200, description="8 to 200 characters (密码至少8位)")]
RoleName = Literal["admin", "manager", "clerk", "county_manager", "city_manager", "agent"]
Halls = Annotated[list[Slug], Field(max_length=500)] | None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffOut(BaseModel):
    username: str
    display_name: str
    role: RoleName
    role_label_zh: str
    active: bool
    locked: bool  # too many failed logins from at least one address: that address waits (services/throttle.py)
    created_at: dt.datetime
    halls: list[str] | None  # the halls the account may act in; null: every hall
    county: str | None = None  # a county manager's county
    city: str | None = None  # a city manager's city
    point: str | None = None  # a village agent's point (of its one hall)
    staff_no: str | None = None  # 工号, shown on the window's evaluator pad


class NewStaff(Body):
    username: Annotated[str, Field(min_length=2, max_length=48)]
    display_name: Annotated[str, Field(min_length=1, max_length=64)]
    role: RoleName
    password: Password
    # Left out: the configuration's only hall (several halls: name them); null: every hall (administrators).
    halls: Halls = None
    county: Slug | None = None  # a county manager's county (this server's [county]); no halls then
    city: Slug | None = None  # a city manager's city (this server's [city]); no halls then
    point: Slug | None = None  # a village agent's point: one of its one hall's agent_points


class StaffChange(Body):
    display_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    role: RoleName | None = None
    active: StrictBool | None = None  # true or false: 0 is no answer
    halls: Halls = None  # given: the account's new halls (null: every hall, administrators only)
    # given: the staff number (工号) the evaluator pad shows; null clears it
    staff_no: Annotated[str, Field(pattern=accounts.STAFF_NO.pattern)] | None = None


class NewPassword(Body):
    password: Password


def _out(account: accounts.StaffAccount) -> StaffOut:
    return StaffOut(
        username=account.username,
        display_name=account.display_name,
        role=account.role.value,
        role_label_zh=account.role.label_zh,
        active=account.active,
        locked=account.locked,
        created_at=from_us(account.created_at_us),
        halls=None if account.halls is None else sorted(account.halls),
        county=account.county,
        city=account.city,
        point=account.point,
        staff_no=account.staff_no,
    )


def _find(accounts_list: list[accounts.StaffAccount], username: str) -> StaffOut:
    return _out(next(a for a in accounts_list if a.username == username))


def _scope(state: ServerState, body: NewStaff | StaffChange) -> frozenset[str] | None:
    """The halls the body names, checked against the configuration; None: every hall."""
    known = [h.id for h in state.config.halls]
    if "halls" not in body.model_fields_set:
        if len(known) > 1:
            raise BadRequest(f"name the account's halls (请指定所属大厅): one or more of {', '.join(known)}")
        return frozenset(known)
    if body.halls is None:
        return None
    return accounts.check_halls(body.halls, known)


def _county_scope(state: ServerState, body: NewStaff) -> frozenset[str]:
    """A county manager: this server's county, and no halls."""
    county = state.config.county
    if body.role != "county_manager" or body.county is None:
        raise BadRequest("a county manager, and only a county manager, has a county (县级主管须指定所属县)")
    if county is None or body.county != county.id:
        known = county.id if county else "none: this server has no [county]"
        raise BadRequest(f"没有该县 no county {body.county!r} here (this server's county: {known})")
    if "halls" in body.model_fields_set:
        raise BadRequest("a county manager belongs to no hall: it sees the county's dashboard (县级主管不属于任何大厅)")
    return frozenset()


def _city_scope(state: ServerState, body: NewStaff) -> frozenset[str]:
    """A city manager: this server's city, and no halls."""
    city = state.config.city
    if body.role != "city_manager" or body.city is None:
        raise BadRequest("a city manager, and only a city manager, has a city (市级主管须指定所属市)")
    if city is None or body.city != city.id:
        known = city.id if city else "none: this server has no [city]"
        raise BadRequest(f"没有该市 no city {body.city!r} here (this server's city: {known})")
    if "halls" in body.model_fields_set:
        raise BadRequest("a city manager belongs to no hall: it sees the city's rollup (市级主管不属于任何大厅)")
    return frozenset()


@router.get(STAFF, response_model=list[StaffOut])
async def list_staff(state: State, admin: AdminDep) -> list[StaffOut]:
    """Every staff account, deactivated ones too; an administrator of some halls sees the accounts of those."""
    found = await state.store.read(lambda conn: accounts.list_users(conn, to_us(state.store.clock()), admin.halls))
    return [_out(a) for a in found]


@router.get("/api/v1/halls/{hall}/staff", response_model=list[StaffOut])
async def hall_staff(hall: HallDep, state: State, _staff: SupervisorDep) -> list[StaffOut]:
    """The accounts that may act in this hall (its own and those of every hall)."""
    found = await state.store.read(lambda conn: accounts.list_users(conn, to_us(state.store.clock()), [hall.id]))
    return [_out(a) for a in found]


@router.post(STAFF, response_model=StaffOut, status_code=201)
async def add_staff(state: State, admin: AdminDep, body: NewStaff, request: Request) -> StaffOut:
    """A new account; the administrator gives its first password and its halls."""
    username = body.username.strip().lower()
    halls: frozenset[str] | None
    if body.role == "county_manager" or body.county is not None:
        halls = _county_scope(state, body)
    elif body.role == "city_manager" or body.city is not None:
        halls = _city_scope(state, body)
    else:
        halls = _scope(state, body)
    if body.role == "agent" or body.point is not None:
        if body.role != "agent":
            raise BadRequest("a village agent, and only a village agent, has a point (村级代办员须指定代办点)")
        points = {h.id: [p.id for p in h.agent_points] for h in state.config.halls}
        halls = accounts.agent_hall(points, halls or (), body.point)
    if halls is None and body.role != "admin":
        raise BadRequest("only an administrator may belong to every hall (仅系统管理员可属于全部大厅)")
    # A county (city) manager is an account of the county (city), not of some halls: only an administrator of every
    # hall adds one.
    accounts.check_manages(admin, None if body.role in ("county_manager", "city_manager") else halls)
    password = await login.checker.hash(body.password)  # argon2 off the writer thread

    def add(conn: Connection, now: dt.datetime) -> list[accounts.StaffAccount]:
        role = accounts.Role(body.role)
        accounts.add_user(conn, to_us(now), username, body.display_name, role, password, halls, body.county,
                          body.city, body.point)  # fmt: skip
        details = body.model_dump(exclude={"password", "username"}, exclude_unset=True)
        staff_audit.record(conn, to_us(now), "staff.added", actor=admin.username, subject=username, halls=halls,
                           source=client_ip(request), details={"role": body.role, **details})  # fmt: skip
        return accounts.list_users(conn, to_us(now))

    found = await state.store.run_global(add)
    log.info("staff %s added by %s as %s of %s", username, admin.username, body.role, halls or "every hall")
    return _find(found, username)


@router.patch(STAFF + "/{username}", response_model=StaffOut)
async def change_staff(
    state: State, admin: AdminDep, username: Username, body: StaffChange, request: Request
) -> StaffOut:
    """Change the role, display name or halls, or deactivate (active=false, which ends its sessions) or reactivate."""
    halls: frozenset[str] | accounts.Keep | None = accounts.KEEP
    if "halls" in body.model_fields_set:
        halls = _scope(state, body)

    def change(conn: Connection, now: dt.datetime) -> list[accounts.StaffAccount]:
        before = accounts.account_halls(conn, username)
        accounts.update_user(
            conn,
            admin,
            username,
            role=accounts.Role(body.role) if body.role else None,
            display_name=body.display_name,
            active=body.active,
            halls=halls,
            staff_no=body.staff_no if "staff_no" in body.model_fields_set else accounts.KEEP,
        )
        after = accounts.account_halls(conn, username)
        concerned = None if before is None or after is None else before | after
        changes = body.model_dump(exclude_unset=True)
        staff_audit.record(conn, to_us(now), "staff.changed", actor=admin.username, subject=username,
                           halls=concerned, source=client_ip(request), details=changes)  # fmt: skip
        return accounts.list_users(conn, to_us(now))

    found = await state.store.run_global(change)
    state.staff.forget_user(username)  # the cached logins: a new role, halls or a deactivation count at once
    changed = _find(found, username)
    if body.display_name is not None:
        # The halls' boards show the clerk's name from the runtime's copy: update it there too.
        for hall in state.config.halls:
            await state.store.run(hall.id, lambda tx: _rename(tx, username, changed.display_name))
    log.info("staff %s changed by %s: %s", username, admin.username, body.model_dump(exclude_unset=True))
    return changed


def _rename(tx: Tx, username: str, display_name: str) -> None:
    tx.rt.clerk_names[username] = display_name


@router.post(STAFF + "/{username}/password", status_code=204)
async def reset_password(
    state: State, admin: AdminDep, username: Username, body: NewPassword, request: Request
) -> None:
    """Set a new password; the account's sessions end and its login locks (from every address) are lifted."""
    password = await login.checker.hash(body.password)  # argon2 off the writer thread

    def reset(conn: Connection, now: dt.datetime) -> None:
        accounts.set_password(conn, username, password, admin)
        staff_audit.record(conn, to_us(now), "staff.password_reset", actor=admin.username, subject=username,
                           halls=accounts.account_halls(conn, username), source=client_ip(request))  # fmt: skip

    await state.store.run_global(reset)
    state.staff.forget_user(username)  # its sessions are gone from the database; forget the cached ones too
    log.info("password of staff %s reset by %s", username, admin.username)
