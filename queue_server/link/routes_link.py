"""The county's link routes: townships ship their events here; county managers see how far each one is.

- `POST /api/v1/link/halls/{hall}/events` (a township's link token; at a city, the token of the county relaying
  the hall): `{after, events, waiting, version}` → `{hall, last_seq, received}`; 409 with `error.last_seq` when
  the batch does not continue the county's copy
- `GET /api/v1/link/halls` (county managers and administrators): each township's last contact and backlog, and
  the county's documents it runs
- `GET /api/v1/link/halls/{hall}/documents` (the township's link token): the newest version of each document
- `GET /api/v1/link/halls/{hall}/documents/{kind}/{version}` (the same): that version's body (TOML)
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import Connection

from config.documents import MAX_VERSION
from queue_server.api.deps import State, SupervisorDep, Token
from queue_server.api.errors import error_body
from queue_server.api.responses import errors
from queue_server.errors import Forbidden, NotFound, ServiceError, Unauthorized
from queue_server.link import publisher, receiver
from queue_server.link.status import TownshipLink, township_links
from queue_server.link.wire import MAX_BODY, TOKEN_PREFIX, Ack, Batch, DocumentIndex, DocumentKind
from queue_server.store.writer import to_us

router = APIRouter(prefix="/api/v1/link", tags=["link"], responses=errors(400, 401, 403, 404, 409, 413))


class TooLarge(ServiceError):
    code = "too_large"
    status = 413


async def _sender(state: State, token: str, hall: str) -> None:
    """The batch's link token is known and is the hall's own (401 / 403), and the hall reports here (404)."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("this needs the hall's link token (bml_…) from `bianmin link add` (联动令牌无效)")
    sender = await state.store.read(lambda conn: receiver.sender_for_token(conn, token))
    if sender is None:
        raise Unauthorized("unknown link token: ask the county for a new one (联动令牌无效)")
    if sender.county is not None:  # at a city: a county relays its own halls and its townships', nobody else's
        county = next((c for c in state.config.counties if c.id == sender.county), None)
        if county is None or hall not in county.halls:
            raise Forbidden(f"this link token is county {sender.county}'s: hall {hall} is not one of its halls "
                            "(不能上报其他县的数据)")  # fmt: skip
    elif sender.hall != hall:
        raise Forbidden(f"this link token is hall {sender.hall}'s: it cannot send the events of hall {hall} "
                        "(不能上报其他大厅的数据)")  # fmt: skip
    if not any(township.id == hall for township in state.config.townships):
        raise NotFound(f"hall {hall!r} is not a township of this county (不是本县的乡镇大厅)")


async def _body(request: Request) -> bytes:
    """The request's body, refused past MAX_BODY bytes (before reading it, when its length is declared)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(f"a batch may have at most {MAX_BODY} bytes: send fewer events per batch")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TooLarge(f"a batch may have at most {MAX_BODY} bytes: send fewer events per batch")
    return bytes(body)


@router.post("/halls/{hall}/events", response_model=Ack, responses={409: {"description": "not taken: see last_seq"}})
async def ship(
    hall: Annotated[str, Path(max_length=48)], request: Request, state: State, token: Token
) -> Ack | JSONResponse:
    """Take a township's batch of events: idempotent by (hall, seq); a batch that does not continue the
    county's copy is refused whole (409, nothing changed) with the county's last seq to resume after."""
    await _sender(state, token, hall)
    try:
        batch = Batch.model_validate_json(await _body(request))
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False, include_input=False)) from None
    answer = await state.store.run_global(partial(_receive, hall=hall, batch=batch), invalidates=False)
    if isinstance(answer, receiver.Refused):
        return JSONResponse(error_body(answer.reason, str(answer), last_seq=answer.last_seq), status_code=409)
    return answer


@router.get("/halls", response_model=list[TownshipLink])
async def halls(state: State, staff: SupervisorDep) -> list[TownshipLink]:
    """Each township reporting here: the seq held, its last contact, its backlog, and any refused batch."""
    now_us = to_us(state.store.clock())
    townships = [t for t in state.config.townships if staff.may_act_in(t.id)]
    return await state.store.read(lambda conn: township_links(conn, townships, now_us))


@router.get("/halls/{hall}/documents", response_model=DocumentIndex)
async def documents(hall: Annotated[str, Path(max_length=48)], state: State, token: Token) -> DocumentIndex:
    """The newest version of the county's service-item catalogue and working-day calendar (link down): a
    township fetches a version newer than the one it runs, checks it, and serves it from its next day start."""
    await _sender(state, token, hall)
    return await state.store.read(publisher.index)


@router.get(
    "/halls/{hall}/documents/{kind}/{version}",
    response_class=Response,
    responses={200: {"content": {"application/toml": {}}, "description": "the document (TOML)"}},
)
async def document(
    hall: Annotated[str, Path(max_length=48)],
    kind: DocumentKind,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    state: State,
    token: Token,
) -> Response:
    """One published version of a document, exactly as published (its sha256 is in the index)."""
    await _sender(state, token, hall)
    text = await state.store.read(lambda conn: publisher.body(conn, kind, version))
    if text is None:
        raise NotFound(f"the county has no {kind} version {version} (没有该版本)")
    return Response(text.encode(), media_type="application/toml")


def _receive(conn: Connection, now: dt.datetime, *, hall: str, batch: Batch) -> Ack | receiver.Refused:
    return receiver.receive(conn, to_us(now), hall, batch)
