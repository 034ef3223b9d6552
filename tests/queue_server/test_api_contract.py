"""The OpenAPI document is the contract: schemathesis sends every operation generated requests, valid and invalid,
as the role the operation needs, and every answer must be documented (its status, its headers, its body's schema).

Operations are read from the running server's /openapi.json, so a route added later is covered without a change here.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.queue_server.conftest import Api
from tests.support.routes import caller, route_calls
from tests.support.server import HALL

EXAMPLES = 12  # per operation and mode: ~80 operations, both modes, in about a minute on two shared cores
# Valid data refused for a rule across fields (a bad rating's reasons, from before to) is a 4xx the document
# states in words: the other checks hold every answer to the document.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
TARGET = "schemathesis-target"  # the account PATCH /staff/{username} and its password route act on


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the document is the same on both databases; the store's tests run on PostgreSQL


def negatable(definition: dict[str, Any], fixed: dict[str, str]) -> bool:
    """Whether the operation has something to make invalid (besides the login this test sends and the fixed path)."""
    names = {p["name"].lower() for p in definition.get("parameters", ())} - {"authorization", *fixed}
    return bool(names) or "requestBody" in definition


def run(operation: Any, mode: GenerationMode, fixed: dict[str, str], url: str, headers: dict[str, str],
        session: requests.Session) -> None:  # fmt: skip
    """Send EXAMPLES generated requests of one operation; raise at the first answer off the document."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is one to fix, not a flake
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report shows the request as sent
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(base_url=url, session=session, headers=headers, timeout=10, excluded_checks=EXCLUDED)

    check()


def test_every_operation_answers_what_its_document_says(api: Api) -> None:
    server = api.server
    api.staff(TARGET)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    calls = route_calls(server.app)
    callers = {key: caller(api, key[1], found) for key, found in calls.items()}  # logins first: login is rate-limited
    operations = [result.ok() for result in schema.get_all_operations()]
    # Logging out ends the caller's session: last, so the other operations keep their logins.
    operations.sort(key=lambda op: op.path == "/api/v1/auth/logout")
    session = requests.Session()
    session.trust_env = False
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:
        headers = callers[(operation.method.upper(), operation.path)]
        fixed = {name: value for name, value in {"hall": HALL, "username": TARGET}.items()
                 if f"{{{name}}}" in operation.path}  # fmt: skip
        modes = [GenerationMode.POSITIVE]
        if negatable(operation.definition.raw, fixed):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                run(operation, mode, fixed, server.url, headers, session)
            except Unsatisfiable:  # nothing of the operation can be made invalid (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as error:  # a failure group of schemathesis, or hypothesis's own
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {error}")
    elapsed = time.monotonic() - started
    assert len(operations) > 70  # every route of the app is in the document
    assert not failures, f"{len(failures)} of {2 * len(operations)} runs failed:\n\n" + "\n\n".join(failures)
    assert elapsed < 100, f"the run took {elapsed:.0f} s"


def test_loose_conversions_are_refused_and_change_nothing(api: Api) -> None:
    """A date is an ISO date, a flag is true or false: 0 is neither (it deactivated an account before)."""
    manager = api.bearer(api.manager)
    for url, params in [("/appointments", {"day": "0"}), ("/ratings", {"to": "0"}), ("/ratings", {"bad": "1"}),
                        ("/ratings", {"from": "20260316"})]:  # fmt: skip
        api.error(api.http.get(url, params=params, headers=manager), 422, "invalid_request")
    admin = api.bearer(api.staff("contract-admin", "admin"))
    api.staff("00")
    staff = f"{api.server.url}/api/v1/staff"
    message = api.error(api.http.patch(f"{staff}/00", json={"active": 0}, headers=admin), 422, "invalid_request")
    assert "body.active" in message
    assert next(a for a in api.http.get(staff, headers=admin).json() if a["username"] == "00")["active"] is True
    ok = api.http.get("/appointments", params={"day": "2026-03-16"}, headers=manager)
    assert ok.status_code == 200, ok.text


def test_the_idempotency_key_and_the_password_rules_are_in_the_document(api: Api) -> None:
    document = httpx.get(f"{api.server.url}/openapi.json", timeout=10).json()
    issue = document["paths"]["/api/v1/halls/{hall}/tickets"]["post"]
    key = next(p for p in issue["parameters"] if p["name"].lower() == "idempotency-key")
    assert key["required"] is True and key["schema"]["pattern"]
    schemas = document["components"]["schemas"]
    assert schemas["NewStaff"]["properties"]["password"]["minLength"] == 8
    events = {p["name"]: p for p in document["paths"]["/api/v1/halls/{hall}/events"]["get"]["parameters"]}
    assert re.fullmatch(events["from"]["schema"]["anyOf"][0]["pattern"], "2026-03-16T09:00:30+08:00")
    report = {p["name"]: p for p in document["paths"]["/api/v1/halls/{hall}/reports"]["get"]["parameters"]}
    assert report["date"]["schema"]["anyOf"][0]["pattern"].startswith("^20")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status[0] in "45" and "application/json" in answer.get("content", {}):
                    where = f"{method.upper()} {path} {status}"
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }, where
