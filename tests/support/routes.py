"""The app's routes as the tests walk them: what each one's dependencies call, and so who may call it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.routing import APIRoute, iter_route_contexts

from queue_server.api import deps

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api


def route_calls(app: Any) -> dict[tuple[str, str], set[Any]]:
    """(METHOD, path) → every function its dependencies call (to choose who calls it)."""
    found: dict[tuple[str, str], set[Any]] = {}

    def calls(dependant: Any) -> set[Any]:
        out = {dependant.call}
        for sub in dependant.dependencies:
            out |= calls(sub)
        return out

    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            for method in route.methods or ():
                found[(method, route.path or "")] = calls(route.dependant)
    return found


def caller(api: Api, path: str, calls: set[Any]) -> dict[str, str]:
    """The Authorization header of the role the route needs: a kiosk, a clerk of the hall, a manager, an admin."""
    if calls & {deps.current_kiosk, deps.kiosk_call}:
        return api.bearer(api.kiosk)
    if deps.supervisor in calls:
        return api.bearer(api.manager)
    if deps.current_staff in calls and deps.admin not in calls and "{hall}" in path:
        return api.bearer(api.staff("contract-clerk"))
    if calls & {deps.current_staff, deps.bearer_token}:  # administrators, counties, cities, the link
        return api.bearer(api.staff("contract-admin", "admin"))
    return {}
