"""The error answers of the API, declared once: their body model, and which dependency or route gives which status.

A route declares the errors of its own service (`responses=errors(404, 409)`); the errors its dependencies give
(a hall that does not exist, a missing login, a rate limit, the database away, a request that fails validation)
are added to every operation of the OpenAPI document from the dependencies it has (`answers`, `document_errors`),
so a route added later documents them without a word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict

F = TypeVar("F", bound=Callable[..., Any])


class FieldProblem(BaseModel):
    field: str  # where, e.g. "query.since" or "body.password"
    problem: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # a few errors say more (the link's refusal: last_seq)
    code: str  # machine-readable: not_found, forbidden, invalid_request, idempotency_conflict, ...
    message: str  # for people, Chinese and English
    fields: list[FieldProblem] | None = None  # invalid_request (422): every field that failed, and why


class ErrorBody(BaseModel):
    """Every error answer: {"error": {"code": ..., "message": ...}}."""

    error: ErrorDetail


DESCRIPTIONS = {
    400: "the request breaks a rule of the operation, or its body is not JSON (错误请求)",
    401: "no login or device token, or one that is not valid (未登录或令牌无效)",
    403: "the login or device may not do this, here (无权操作)",
    404: "the hall, window, ticket or other named thing does not exist (不存在)",
    409: "not possible in the current state (当前状态下不可操作)",
    413: "the body is larger than the operation takes (请求过大)",
    422: "a parameter or the body does not match this document, or an idempotency key was reused (请求无效)",
    429: "too many requests: wait Retry-After seconds (请求过于频繁)",
    503: "the database is not available: nothing was changed, retry after Retry-After seconds (数据库暂时不可用)",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer"}}}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "required": True, "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}
ANSWERS = "__bianmin_answers__"


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route or router: these error statuses, each with the error body."""
    return {
        status: {"model": ErrorBody, "description": DESCRIPTIONS[status], **_headers(status)} for status in statuses
    }


def answers(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency with the error statuses it answers; every route using it documents them."""

    def mark(function: F) -> F:
        setattr(function, ANSWERS, (*getattr(function, ANSWERS, ()), *statuses))
        return function

    return mark


def _headers(status: int) -> dict[str, Any]:
    return {"headers": HEADERS[status]} if status in HEADERS else {}


def _dependency_statuses(dependant: Any) -> set[int]:
    found = set(getattr(dependant.call, ANSWERS, ()))
    for sub in dependant.dependencies:
        found |= _dependency_statuses(sub)
    return found


def _statuses(route: Any) -> set[int]:
    found = _dependency_statuses(route.dependant)
    if route.body_field is not None:
        found |= {400, 422}  # a body that is not JSON is a 400; one that does not match the model a 422
    if route.dependant.query_params or route.dependant.path_params or route.dependant.header_params:
        found.add(422)
    return found


def document_errors(app: FastAPI) -> None:
    """Have the app's OpenAPI document state, on every operation, the errors its dependencies give."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[ErrorBody.__name__] = schema
        ref = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods or ():
                operation = document["paths"].get(route.path, {}).get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status in sorted(_statuses(route) | {int(s) for s in responses if s[0] in "45"}):
                    answer = responses.setdefault(str(status), {"description": DESCRIPTIONS.get(status, "error")})
                    content = answer.get("content", {})
                    # errors() on an HTML route lands under text/html: errors are JSON. A page's own HTML error stays.
                    if set(content) <= {"application/json"} or any(c.get("schema") == ref for c in content.values()):
                        answer["content"] = {"application/json": {"schema": ref}}
                    answer.update(_headers(status))
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
