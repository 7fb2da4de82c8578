"""The OpenAPI document tells the truth: the statuses the hub answers, in the one error schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import ok

ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture
def document(anonymous: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = ok(anonymous.get("/openapi.json"))
    return result


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_validation_is_documented_as_400_not_422(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        if operation.get("parameters") or "requestBody" in operation:
            assert "400" in responses, (method, path)
        if "422" in responses:  # only storage errors, never validation
            assert "storage_error" in responses["422"]["description"], (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_error_response_has_the_one_error_schema(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["ErrorResponse"]
    assert schema["required"] == ["error"]
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"type", "message", "details"}
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = response["content"]["application/json"]["schema"]
                assert content == {"$ref": ERROR_REF}, (method, path, status)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/v1/health", set()),
        ("get", "/api/v1/tables", {"400", "401", "403", "404"}),
        ("post", "/api/v1/tables", {"400", "401", "403", "404", "409", "413", "422"}),
        ("delete", "/api/v1/grants/{grant_id}", {"400", "401", "403", "404", "409"}),
        ("post", "/api/v1/queries", {"400", "401", "403", "404", "409", "413", "422", "429"}),
        ("get", "/api/v1/queries/jobs/{query_id}/results", {"400", "401", "403", "404", "409"}),
    ],
)
def test_operations_declare_the_errors_they_answer(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    declared = {s for s in document["paths"][path][method]["responses"] if int(s) >= 400}
    assert statuses <= declared
    assert "500" not in declared


def test_an_error_answer_matches_the_declared_status(admin: httpx.Client) -> None:
    response = admin.post("/domains", json={"name": "typed", "producer": "yes"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_input"
