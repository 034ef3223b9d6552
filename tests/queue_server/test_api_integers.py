"""Every integer the API takes is bounded in its OpenAPI document, and a number out of those bounds is a 422.

The test reads /openapi.json from the running server, so a route added later is walked too. Beyond BIGINT,
SQLite raises OverflowError and PostgreSQL refuses the parameter: answered as 500 before the bounds.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.queue_server.conftest import Api
from tests.support.routes import caller, route_calls
from tests.support.server import HALL

# A value for each path parameter that is not the integer being tried (any other name: "x").
PATH_VALUES = {"hall": HALL, "window": "1", "rating_id": "1", "code": "ABCD2345", "username": "nobody",
               "track_token": "x" * 43, "number": "A001", "kind": "catalog", "version": "1"}  # fmt: skip
BIGGEST = 2**63 - 1  # BIGINT, the widest column


def integer_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The integer branch of a parameter's schema (`integer`, or `integer | null`)."""
    for branch in [schema, *schema.get("anyOf", ())]:
        if branch.get("type") == "integer":
            return branch
    return None


def request_integers(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, schema) of every integer a request may carry: parameters and request bodies, through $refs."""
    components = document["components"]["schemas"]
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, where: str, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.rsplit("/", 1)[1] not in seen:
                name = ref.rsplit("/", 1)[1]
                walk(components[name], f"{where}→{name}", seen | {name})
            if node.get("type") == "integer":
                found.append((where, node))
            for key, value in node.items():
                walk(value, f"{where}.{key}", seen)
        elif isinstance(node, list):
            for value in node:
                walk(value, where, seen)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            walk(operation.get("parameters", []), f"{method.upper()} {path}", frozenset())
            walk(operation.get("requestBody", {}), f"{method.upper()} {path} body", frozenset())
    return found


def out_of_range(schema: dict[str, Any]) -> list[int]:
    """Just below and above the bounds, a negative number, and beyond BIGINT (unsigned too)."""
    low, high = int(schema["minimum"]), int(schema["maximum"])
    return sorted(v for v in {low - 1, -1, high + 1, 2**63, 2**64} if not low <= v <= high)


def test_every_integer_a_request_carries_is_bounded_within_bigint(api: Api) -> None:
    document = httpx.get(f"{api.server.url}/openapi.json", timeout=10).json()
    integers = request_integers(document)
    assert len(integers) >= 10
    unbounded = [where for where, schema in integers if "minimum" not in schema or "maximum" not in schema]
    assert unbounded == [], "integers without bounds in the document"
    too_wide = [where for where, schema in integers if schema["maximum"] > BIGGEST or schema["minimum"] < -BIGGEST]
    assert too_wide == []


def test_every_integer_parameter_out_of_its_bounds_is_a_documented_422(api: Api) -> None:
    server = api.server
    document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    calls = route_calls(server.app)
    tried = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            headers = caller(api, path, calls[(method.upper(), path)])
            for parameter in operation.get("parameters", []):
                schema = integer_schema(parameter["schema"])
                if schema is None or parameter["in"] not in ("path", "query"):
                    continue
                answer = operation["responses"].get("422", {})
                assert answer.get("content", {}).get("application/json", {}).get("schema") == {
                    "$ref": "#/components/schemas/ErrorBody"
                }, f"{method.upper()} {path}: the 422 is not documented with the error body"
                for value in out_of_range(schema):
                    tried += 1
                    url, params = _request(path, parameter["name"], parameter["in"], value)
                    response = api.http.request(method.upper(), f"{server.url}{url}", params=params, headers=headers)
                    where = f"{method.upper()} {path} {parameter['name']}={value}"
                    assert response.status_code == 422, f"{where}: {response.status_code} {response.text}"
                    error = response.json()["error"]
                    assert error["code"] == "invalid_request", where
                    assert f"{parameter['in']}.{parameter['name']}" in {f["field"] for f in error["fields"]}, where
    assert tried >= 40  # windows, seqs, limits, rating ids, versions, repeats: each of them, four ways out


def _request(path: str, name: str, where: str, value: int) -> tuple[str, dict[str, str]]:
    values = {**PATH_VALUES, name: str(value)} if where == "path" else PATH_VALUES
    url = re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], "x"), path)
    return url, ({name: str(value)} if where == "query" else {})
