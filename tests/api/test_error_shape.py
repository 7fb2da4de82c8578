"""Every route of the OpenAPI document answers errors in the one JSON error shape.

As datasette's ``test_error_shape``: walk the document, call each operation with a bad token and,
where it takes a body or typed parameters, with bad input, and hold each answer to the shape.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from lakemesh.api import create_app
from lakemesh.api.server import serve_app_in_background
from tests.api.conftest import ApiServer, error_of, ok

PUBLIC = {("get", "/api/v1/health"), ("get", "/api/v1/mesh/schema")}
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(api_server: ApiServer) -> list[tuple[str, str, dict[str, Any]]]:
    with api_server.client(None) as client:
        document = ok(client.get("/openapi.json"))
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _concrete(path: str) -> str:
    """Fill path parameters with plausible values (``{token_id}`` takes an integer)."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1).endswith("_id") else "x.y.z", path)


def _assert_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    error = error_of(response, status)
    assert isinstance(error["type"], str)
    assert error["type"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    return error


def test_the_document_lists_every_resource(api_server: ApiServer) -> None:
    paths = {path for _, path, _ in _operations(api_server)}
    for resource in (
        "health",
        "whoami",
        "domains",
        "principals",
        "groups/{ref}/members",
        "tokens",
        "locations",
        "databases",
        "tables",
        "crawls",
        "audit/events",
        "audit/verify",
        "settings",
    ):
        assert f"/api/v1/{resource}" in paths


def test_every_route_answers_errors_in_one_shape(api_server: ApiServer) -> None:
    operations = _operations(api_server)
    assert len(operations) >= 30
    with (
        api_server.client("lm_bad-token") as bad,
        api_server.client(api_server.admin_token) as good,
    ):
        for method, path, operation in operations:
            url = _concrete(path).removeprefix("/api/v1")
            if (method, path) in PUBLIC:
                continue
            kwargs: dict[str, Any] = {"json": {}} if "requestBody" in operation else {}
            error = _assert_shape(bad.request(method, url, **kwargs), 401)
            assert error["type"] == "unauthenticated", (method, path)
            assert error["message"] == "Invalid API token", (method, path)

            if "requestBody" in operation:
                # A body that is not an object at all: 400 before any service runs.
                response = good.request(method, url, json=["not", "an", "object"])
                error = _assert_shape(response, 400)
                assert error["type"] == "invalid_input", (method, path)
                assert error["message"].startswith("Invalid request: body"), (method, path)
                assert error["details"]["errors"], (method, path)
            integer_params = [
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p["schema"].get("type") == "integer"
            ]
            for name in integer_params:
                response = good.request(method, url, params={name: "many"})
                error = _assert_shape(response, 400)
                assert f"query.{name}" in error["message"], (method, path)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/nowhere", 404),
        ("post", "/health", 405),
        ("get", "/tables/not-a-name", 400),
        ("get", "/tables/a.b.missing", 404),
        ("delete", "/tokens/not-a-number", 400),
    ],
)
def test_errors_outside_the_services_keep_the_shape(
    admin: httpx.Client, method: str, path: str, status: int
) -> None:
    _assert_shape(admin.request(method, path), status)


def test_unexpected_errors_are_500_without_internals(api_server: ApiServer) -> None:
    app = create_app(api_server.hub)

    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    with serve_app_in_background(app, log_level="critical") as url:
        response = httpx.get(f"{url}/api/v1/broken", timeout=60)
    error = _assert_shape(response, 500)
    assert error == {"type": "internal_error", "message": "Internal server error", "details": {}}
    assert "secret" not in response.text
