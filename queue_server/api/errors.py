"""One place that turns errors into JSON answers: {"error": {"code": ..., "message": ...}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from queue_server.domain.errors import DomainError
from queue_server.errors import TooManyRequests, Unauthorized, http_status

log = logging.getLogger(__name__)


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


#: Retry-After of a 503: the database is restarting, or a hall's lock is held too long.
DATABASE_RETRY_S = 2


def install(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(_request: Request, error: Exception) -> JSONResponse:
        # Nothing was acknowledged: the change was not committed (or, if the connection broke during the
        # commit itself, a retry with the same Idempotency-Key gets the same ticket).
        log.warning("database unavailable: %s", type(error).__name__)
        return JSONResponse(
            error_body(
                "database_unavailable",
                "the database is not available: nothing was changed, please try again (数据库暂时不可用，请稍后重试)",
            ),
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_S)},
        )

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        headers = {}
        if isinstance(error, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(error, TooManyRequests):
            headers["Retry-After"] = str(error.retry_after_s)
        return JSONResponse(error_body(error.code, str(error)), status_code=http_status(error), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()))
            problems.append({"field": where, "problem": item.get("msg", "invalid")})
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems) or "invalid request"
        return JSONResponse(error_body("invalid_request", message, fields=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            error.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=getattr(error, "headers", None)
        )
