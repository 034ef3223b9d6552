"""Staff accounts and roles (administrators only): list, add, change role or name, deactivate, reset password."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from queue_server.api.deps import AdminDep, State
from queue_server.services import accounts, login
from queue_server.store.writer import Tx, from_us, to_us

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
log = logging.getLogger(__name__)

Username = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{1,47}$")]
RoleName = Literal["admin", "manager", "clerk"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffOut(BaseModel):
    username: str
    display_name: str
    role: RoleName
    role_label_zh: str
    active: bool
    locked: bool  # too many failed logins: waiting before the next attempt
    created_at: dt.datetime


class NewStaff(Body):
    username: Annotated[str, Field(min_length=2, max_length=48)]
    display_name: Annotated[str, Field(min_length=1, max_length=64)]
    role: RoleName
    password: Annotated[str, Field(min_length=1, max_length=200)]


class StaffChange(Body):
    display_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    role: RoleName | None = None
    active: bool | None = None


class NewPassword(Body):
    password: Annotated[str, Field(min_length=1, max_length=200)]


def _out(account: accounts.StaffAccount) -> StaffOut:
    return StaffOut(
        username=account.username,
        display_name=account.display_name,
        role=account.role.value,
        role_label_zh=account.role.label_zh,
        active=account.active,
        locked=account.locked,
        created_at=from_us(account.created_at_us),
    )


def _find(accounts_list: list[accounts.StaffAccount], username: str) -> StaffOut:
    return _out(next(a for a in accounts_list if a.username == username))


@router.get("", response_model=list[StaffOut])
async def list_staff(state: State, admin: AdminDep) -> list[StaffOut]:
    """Every staff account, deactivated ones too."""
    found = await state.store.read(lambda conn: accounts.list_users(conn, to_us(state.store.clock())))
    return [_out(a) for a in found]


@router.post("", response_model=StaffOut, status_code=201)
async def add_staff(state: State, admin: AdminDep, body: NewStaff) -> StaffOut:
    """A new account; the administrator gives its first password."""
    username = body.username.strip().lower()
    password = await login.checker.hash(body.password)  # argon2 off the writer thread

    def add(conn: Connection, now: dt.datetime) -> list[accounts.StaffAccount]:
        accounts.add_user(conn, to_us(now), username, body.display_name, accounts.Role(body.role), password)
        return accounts.list_users(conn, to_us(now))

    found = await state.store.run_global(add)
    log.info("staff %s added by %s as %s", username, admin.username, body.role)
    return _find(found, username)


@router.patch("/{username}", response_model=StaffOut)
async def change_staff(state: State, admin: AdminDep, username: Username, body: StaffChange) -> StaffOut:
    """Change the role or display name, or deactivate (active=false, which ends its sessions) or reactivate."""

    def change(conn: Connection, now: dt.datetime) -> list[accounts.StaffAccount]:
        accounts.update_user(
            conn,
            admin,
            username,
            role=accounts.Role(body.role) if body.role else None,
            display_name=body.display_name,
            active=body.active,
        )
        return accounts.list_users(conn, to_us(now))

    found = await state.store.run_global(change)
    state.staff.forget_user(username)  # the cached logins: a new role or a deactivation counts at once
    changed = _find(found, username)
    if body.display_name is not None:
        # The halls' boards show the clerk's name from the runtime's copy: update it there too.
        for hall in state.config.halls:
            await state.store.run(hall.id, lambda tx: _rename(tx, username, changed.display_name))
    log.info("staff %s changed by %s: %s", username, admin.username, body.model_dump(exclude_none=True))
    return changed


def _rename(tx: Tx, username: str, display_name: str) -> None:
    tx.rt.clerk_names[username] = display_name


@router.post("/{username}/password", status_code=204)
async def reset_password(state: State, admin: AdminDep, username: Username, body: NewPassword) -> None:
    """Set a new password; the account's sessions end and a login lock is lifted."""
    password = await login.checker.hash(body.password)  # argon2 off the writer thread
    await state.store.run_global(lambda conn, _now: accounts.set_password(conn, username, password))
    state.staff.forget_user(username)  # its sessions are gone from the database; forget the cached ones too
    log.info("password of staff %s reset by %s", username, admin.username)
