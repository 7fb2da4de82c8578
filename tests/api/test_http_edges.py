"""What a careless client hits in its first hour: huge ids, odd methods, dotted filters, names of
things that do not exist, booleans spelled as words."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok

TOO_BIG = [2**63, 2**64, 10**30]


def _id_paths(admin: httpx.Client) -> list[tuple[str, str]]:
    document = ok(admin.get("/openapi.json"))
    return [
        (method, path.removeprefix("/api/v1"))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if any(
            p["in"] == "path" and p["schema"].get("type") == "integer"
            for p in operation.get("parameters", [])
        )
    ]


def test_integer_ids_past_64_bits_are_refused_not_500(admin: httpx.Client) -> None:
    paths = _id_paths(admin)
    assert len(paths) >= 8, paths
    for method, path in paths:
        for number in TOO_BIG:
            url = re.sub(r"\{\w+\}", str(number), path)
            response = admin.request(method, url, json={"reason": "r", "comment": ""})
            error = error_of(response, 400)
            assert error["message"].startswith("Invalid request: path."), (method, url)
            assert "less than or equal to 9223372036854775807" in error["message"], (method, url)


@pytest.mark.parametrize("field", ["max_bytes_per_query", "max_concurrent", "timeout_seconds"])
def test_integers_past_64_bits_in_bodies_are_refused(admin: httpx.Client, field: str) -> None:
    response = admin.post("/workgroups", json={"name": "huge", field: 2**63})
    error = error_of(response, 400)
    assert error["message"] == (
        f"Invalid request: body.{field}: Input should be less than or equal to 9223372036854775807"
    )


def _unbounded_integers(document: dict[str, Any]) -> list[str]:
    """Every integer a request may carry (a path or query parameter, a body field at any depth)
    that the document does not bound to what the store keeps."""
    components = document["components"]["schemas"]
    found: list[str] = []

    def walk(schema: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], where, seen | {name})
            return
        # The document writes 2**63 - 1 as a float, which rounds to 2**63.
        if schema.get("type") == "integer" and schema.get("maximum", 2**64) > 2**63:
            found.append(where)
        for key in ("anyOf", "oneOf", "allOf"):
            for inner in schema.get(key, []):
                walk(inner, where, seen)
        for name, inner in schema.get("properties", {}).items():
            walk(inner, f"{where}.{name}", seen)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key], f"{where}[]", seen)

    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']}.{parameter['name']}"
                walk(parameter["schema"], where, frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method.upper()} {path} body", frozenset())
    return found


def test_every_integer_a_request_carries_is_bounded(admin: httpx.Client) -> None:
    """A number past 64 bits anywhere in a request is a 400, never an overflow in the store."""
    assert _unbounded_integers(ok(admin.get("/openapi.json"))) == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/inbox/read", {"ids": [2**63]}, "body.ids.0"),
        ("GET", f"/webhooks/deliveries?webhook={2**63}", None, "query.webhook"),
    ],
)
def test_integers_past_64_bits_in_lists_and_queries_are_refused(
    admin: httpx.Client, method: str, path: str, body: Any, field: str
) -> None:
    error = error_of(admin.request(method, path, json=body), 400)
    assert error["message"] == (
        f"Invalid request: {field}: Input should be less than or equal to 9223372036854775807"
    )


LONGEST = "Invalid duration: '99999999d' (the longest is 36500d, 100 years)"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/tokens", {"principal": "user:admin@governance", "expires_in": "99999999d"}),
        ("POST", "/workgroups", {"name": "forever", "result_retention": "99999999d"}),
        (
            "POST",
            "/guardrails",
            {"name": "forever", "kind": "max-token-lifetime", "max_lifetime": "99999999d"},
        ),
        ("GET", "/audit/events?since=99999999d", None),
    ],
)
def test_durations_past_the_calendar_are_refused(
    admin: httpx.Client, method: str, path: str, body: Any
) -> None:
    """A duration no date can hold is a 400 naming the longest one, not an overflow."""
    error = error_of(admin.request(method, path, json=body), 400)
    assert error["message"] == LONGEST


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/tables", "GET, HEAD, POST"),
        ("/tables/a.b.c", "DELETE, GET, HEAD, PATCH"),
        ("/health", "GET, HEAD"),
        ("/grants/1", "DELETE"),
    ],
)
@pytest.mark.parametrize("method", ["TRACE", "PUT", "OPTIONS"])
def test_unsupported_methods_answer_405_with_allow(
    admin: httpx.Client, path: str, allowed: str, method: str
) -> None:
    response = admin.request(method, path)
    error = error_of(response, 405)
    assert error["type"] == "method_not_allowed"
    assert error["message"] == f"Method not allowed: {method} /api/v1{path}"
    assert response.headers["allow"] == allowed


def _table_in(admin: httpx.Client, owner: DomainAdmin, tmp_path: Path) -> str:
    folder = tmp_path / owner.domain
    folder.mkdir()
    ok(admin.post("/locations", json={"uri": str(folder), "domain": owner.domain}), 201)
    ok(admin.post("/databases", json={"domain": owner.domain, "name": "crm"}), 201)
    ok(admin.post("/databases", json={"domain": owner.domain, "name": "other"}), 201)
    name = f"{owner.domain}.crm.orders"
    body = {
        "name": name,
        "location": str(folder / "orders"),
        "format": "parquet",
        "columns": [{"name": "id", "type": "BIGINT"}],
    }
    ok(admin.post("/tables", json=body), 201)
    ok(admin.post("/tables", json={**body, "name": f"{owner.domain}.other.orders"}), 201)
    return name


def test_a_database_filter_takes_a_dotted_name(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("dotted")
    name = _table_in(admin, owner, tmp_path)
    listed = ok(admin.get("/tables", params={"database": f"{owner.domain}.crm"}))
    assert [table["name"] for table in listed] == [name]
    listed = ok(admin.get("/tables", params={"domain": owner.domain, "database": "crm"}))
    assert [table["name"] for table in listed] == [name]
    error = error_of(
        admin.get("/tables", params={"domain": "elsewhere", "database": f"{owner.domain}.crm"}),
        400,
    )
    assert error["message"] == (
        f"database {owner.domain}.crm names domain {owner.domain}, but domain is elsewhere"
    )


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/tables", {"domain": "nowhere"}, "Domain does not exist: nowhere"),
        ("/tables", {"database": "nowhere.crm"}, "Domain does not exist: nowhere"),
        ("/databases", {"domain": "nowhere"}, "Domain does not exist: nowhere"),
        ("/principals", {"domain": "nowhere"}, "Domain does not exist: nowhere"),
        ("/locations", {"domain": "nowhere"}, "Domain does not exist: nowhere"),
        ("/links", {"domain": "nowhere"}, "Domain does not exist: nowhere"),
        ("/products", {"domain": "nowhere"}, "Domain does not exist: nowhere"),
    ],
)
def test_a_filter_naming_a_missing_domain_is_404(
    admin: httpx.Client, path: str, params: dict[str, str], message: str
) -> None:
    error = error_of(admin.get(path, params=params), 404)
    assert error["message"] == message


def test_a_filter_naming_a_missing_database_is_404(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    owner = make_domain("filtered")
    for params in (
        {"database": f"{owner.domain}.nowhere"},
        {"domain": owner.domain, "database": "nowhere"},
    ):
        error = error_of(admin.get("/tables", params=params), 404)
        assert error["message"] == f"Database does not exist: {owner.domain}.nowhere"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/domains", {"name": "strict", "producer": "yes"}, "producer"),
        ("/domains", {"name": "strict", "consumer": 1}, "consumer"),
        ("/filters", {"name": "f", "table": "a.b.c", "rows": 1}, "rows"),
        ("/grants", {"grantee": "x", "permissions": ["SELECT"], "on": "a"}, None),
    ],
)
def test_request_bodies_are_strict(
    admin: httpx.Client, path: str, body: dict[str, Any], field: str | None
) -> None:
    if field is None:
        body = {**body, "with_grant_option": "true"}
        field = "with_grant_option"
    error = error_of(admin.post(path, json=body), 400)
    assert error["message"].startswith(f"Invalid request: body.{field}: Input should be a valid")


def test_large_ids_on_a_served_hub_keep_it_serving(api_server: ApiServer) -> None:
    with api_server.client(api_server.admin_token) as client:
        error_of(client.get(f"/shares/{2**63}"), 400)
        assert ok(client.get("/health"))["status"] == "ok"
