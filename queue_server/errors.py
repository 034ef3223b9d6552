"""Errors of the service layer, each with the HTTP status the API answers it with."""

from __future__ import annotations

from queue_server.domain.errors import (
    CategoryFull,
    DomainError,
    IllegalTransition,
    InvalidFinish,
    RecallLimit,
    WindowStateError,
)


class ServiceError(DomainError):
    """A request that cannot be carried out, for a reason the caller can fix."""

    code = "service_error"
    status = 400


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Unauthorized(ServiceError):
    code = "unauthorized"
    status = 401


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class BadRequest(ServiceError):
    code = "bad_request"
    status = 400


class IdempotencyConflict(ServiceError):
    code = "idempotency_conflict"
    status = 422


class TooManyRequests(ServiceError):
    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


DOMAIN_STATUS: dict[type[DomainError], int] = {
    IllegalTransition: 409,
    CategoryFull: 409,
    WindowStateError: 409,
    RecallLimit: 409,
    InvalidFinish: 422,
}


def http_status(error: DomainError) -> int:
    """The HTTP status for a domain or service error."""
    if isinstance(error, ServiceError):
        return error.status
    for kind, status in DOMAIN_STATUS.items():
        if isinstance(error, kind):
            return status
    return 409
