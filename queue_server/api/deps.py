"""Dependencies of the routes: the server state, the hall, the authenticated staff member or device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from config.schema import TOKEN_DEVICES, CallerDevice, Hall, KioskDevice, LedStripDevice, PadDevice
from queue_server.api.params import MAX_ROW_ID, MAX_SEQ
from queue_server.api.responses import answers
from queue_server.api.state import ServerState
from queue_server.errors import Forbidden, NotFound, Unauthorized
from queue_server.services import accounts
from queue_server.services.accounts import Device, Staff
from queue_server.store.writer import to_us

# The largest numbers the columns hold (params.py): a bigger number in a path or query is a 422, not a database error.
__all__ = ["MAX_ROW_ID", "MAX_SEQ"]


@answers(503)
async def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.bianmin
    return state


State = Annotated[ServerState, Depends(server_state)]


@answers(404)
async def hall_config(state: State, hall: Annotated[str, Path(max_length=48)]) -> Hall:
    if state.downlink is not None and state.downlink.staged:
        await state.downlink.apply_due()  # the first request of a new service day runs the county's new documents
    try:
        return state.config.hall(hall)
    except KeyError:
        raise NotFound(f"no hall {hall!r} (没有该服务大厅)") from None


HallDep = Annotated[Hall, Depends(hall_config)]


def first_hall(state: ServerState) -> Hall:
    """The configuration's first hall (the one a bare /board, /clerk or /manager opens); a city serves none."""
    if not state.config.halls:
        city = state.config.city
        where = f": its rollup is /city/{city.id}" if city is not None else ""
        raise NotFound(f"这台服务器不服务任何大厅 this server serves no hall{where}")
    return state.config.halls[0]


@answers(401)
async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    return _bearer(authorization)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("log in first: this needs an Authorization: Bearer token (请先登录)")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token


Token = Annotated[str, Depends(bearer_token)]


@answers(401, 403)
async def hall_member(request: Request, state: State, token: Token) -> Staff:
    """The logged-in account; on a route of one hall (`/halls/{hall}/...`), one that belongs to it.

    Every staff route depends on this (through `current_staff`, `supervisor`, `admin` or `current_agent`), so no
    route of a hall can forget the hall check: tests/queue_server/test_api_hall_scope.py walks the app's routes.
    """
    staff = await _logged_in(state, token)
    hall = request.path_params.get("hall")
    if hall is not None:
        staff.check_hall(hall)
    return staff


@answers(403)
async def current_staff(request: Request, staff: Annotated[Staff, Depends(hall_member)]) -> Staff:
    """A staff member of the hall: a village agent works on the agent routes of its hall only."""
    hall = request.path_params.get("hall")
    if staff.role is accounts.Role.AGENT and hall is not None:
        raise Forbidden(
            f"村级代办员账号只能使用代办页面 /agent/{hall} (a village agent's account works on the agent page only)"
        )
    return staff


async def _logged_in(state: ServerState, token: str) -> Staff:
    if token.startswith(accounts.DEVICE_TOKEN_PREFIX):
        raise Forbidden("a device token cannot be used for staff actions (设备令牌无权进行此操作)")
    now_us = to_us(state.store.clock())
    staff = state.staff.get(token, now_us)
    if staff is None:
        generation = state.staff.generation  # a change committed while this reads must not be cached over
        session = await state.store.read(lambda conn: accounts.session_for_token(conn, now_us, token))
        if session is None:
            raise Unauthorized("your login has expired or is not valid: log in again (登录已失效，请重新登录)")
        state.staff.put(token, session, generation)
        staff = session.staff
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]


@answers(403)
async def supervisor(staff: StaffDep) -> Staff:
    if not staff.supervises:
        raise Forbidden("only a hall manager or administrator may do this (仅限中心主任或管理员)")
    return staff


SupervisorDep = Annotated[Staff, Depends(supervisor)]


@answers(403)
async def admin(staff: StaffDep) -> Staff:
    if staff.role is not accounts.Role.ADMIN:
        raise Forbidden("only an administrator may do this (仅限系统管理员)")
    return staff


AdminDep = Annotated[Staff, Depends(admin)]


@answers(403)
async def current_agent(staff: Annotated[Staff, Depends(hall_member)]) -> Staff:
    """A village agent (村级代办员) of the hall, with its point."""
    if staff.role is not accounts.Role.AGENT or staff.point is None:
        raise Forbidden("only a village agent may do this (仅限村级代办员)")
    return staff


AgentDep = Annotated[Staff, Depends(current_agent)]


@answers(401, 403)
async def current_kiosk(state: State, hall: HallDep, token: Token) -> Device:
    """The kiosk device behind a device token; it must be a kiosk of this hall."""
    return await _kiosk(state, hall, token)


async def _kiosk(state: ServerState, hall: Hall, token: str) -> Device:
    if token.startswith(accounts.STAFF_TOKEN_PREFIX):
        raise Forbidden("tickets are issued by a kiosk device token, not by a staff login")
    return await _device_of(state, hall, token, KioskDevice, "a kiosk")


async def _device_of(state: ServerState, hall: Hall, token: str, kinds: type | tuple[type, ...], what: str) -> Device:
    """The registered device behind a token, if the hall's configuration has it as one of `kinds`."""
    known, device = state.devices.get(token)
    if not known:
        generation = state.devices.generation  # a revocation committed while this reads must not be cached over
        device = await state.store.read(lambda conn: accounts.device_for_token(conn, token))
        state.devices.put(token, device, generation)
    if device is None:
        raise Unauthorized("unknown or revoked device token (设备未登记)")
    ids = {d.id for d in hall.devices if isinstance(d, kinds)}
    if device.hall != hall.id or device.device not in ids:
        raise Forbidden(f"device {device.device} is not {what} of hall {hall.id}")
    return device


@answers(401, 403)
async def current_device(state: State, hall: HallDep, token: Token) -> Device:
    """A kiosk, LED strip or caller keypad of this hall, by its device token (to report its state)."""
    if token.startswith(accounts.STAFF_TOKEN_PREFIX):
        raise Forbidden("a device reports its own state with its device token, not a staff login")
    return await _device_of(state, hall, token, (KioskDevice, LedStripDevice, CallerDevice), "a device")


DeviceDep = Annotated[Device, Depends(current_device)]


@answers(401, 403)
async def window_actor(
    request: Request, state: State, hall: HallDep, token: Token, window: Annotated[int, Path(ge=1, le=999)]
) -> Staff:
    """Who acts on window n: a staff login, or the window's caller keypad (呼叫器) acting as its clerk.

    The rule for a keypad (docs/devices.md): its device token names a caller of this hall at window n;
    it acts as the clerk who opened window n, and only while that clerk's login is valid (a clerk who
    logged out, whose login expired or whose account was deactivated has no keypad either). The action
    then goes through the same service and checks as the clerk's own click.
    """
    if not token.startswith(accounts.DEVICE_TOKEN_PREFIX):
        return await current_staff(request, await hall_member(request, state, token))
    device = await _device_of(state, hall, token, TOKEN_DEVICES, "a device")
    caller = next((d for d in hall.devices if isinstance(d, CallerDevice) and d.id == device.device), None)
    if caller is None:  # a kiosk or an LED strip: only a window's caller keypad acts for its clerk
        raise Forbidden("a device token cannot be used for staff actions (设备令牌无权进行此操作)")
    if caller.window != window:
        raise Forbidden(f"caller {caller.id} is at window {caller.window}, not {window} (呼叫器不属于该窗口)")
    clerk = await state.store.run(hall.id, lambda tx: tx.rt.windows[window].clerk if window in tx.rt.windows else None)
    if clerk is None:
        raise Forbidden(f"window {window} is not open: a clerk must open it first (窗口未开放，请工作人员先登录开窗)")
    now_us = to_us(state.store.clock())
    staff = await state.store.read(lambda conn: accounts.signed_in_staff(conn, now_us, clerk))
    if staff is None:
        raise Forbidden(f"the clerk of window {window} is not signed in (本窗口工作人员未登录)")
    staff.check_hall(hall.id)
    return staff


WindowActorDep = Annotated[Staff, Depends(window_actor)]


@answers(401, 403)
async def window_pad(state: State, hall: HallDep, token: Token, window: Annotated[int, Path(ge=1, le=999)]) -> Device:
    """The evaluator pad (评价器) of window n, by its device token: only it rates the visits finished there."""
    if token.startswith(accounts.STAFF_TOKEN_PREFIX):
        raise Forbidden("a rating from the pad comes with the pad's device token, not a staff login (请使用评价器)")
    device = await _device_of(state, hall, token, PadDevice, "an evaluator pad")
    pad = next(d for d in hall.devices if isinstance(d, PadDevice) and d.id == device.device)
    if pad.window != window:
        raise Forbidden(f"pad {pad.id} is at window {pad.window}, not {window} (评价器不属于该窗口)")
    return device


WindowPadDep = Annotated[Device, Depends(window_pad)]


KioskDep = Annotated[Device, Depends(current_kiosk)]


@dataclass(frozen=True)
class KioskCall:
    """Everything a kiosk's request needs, resolved by one dependency (issuing is the busiest route)."""

    state: ServerState
    hall: Hall
    device: Device


@answers(401, 403, 404, 503)
async def kiosk_call(
    request: Request,
    hall: Annotated[str, Path(max_length=48)],
    authorization: Annotated[str | None, Header()] = None,
) -> KioskCall:
    state = await server_state(request)
    hall_config_ = await hall_config(state, hall)
    return KioskCall(state, hall_config_, await _kiosk(state, hall_config_, _bearer(authorization)))


KioskCallDep = Annotated[KioskCall, Depends(kiosk_call)]
