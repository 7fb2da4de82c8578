"""The OpenAPI document tells the truth about errors: the statuses each operation answers, all in
the one JSON error shape.

FastAPI declares a 422 for validation; the hub answers those 400 (``api/errors.py``). Every
operation is documented with the error statuses it can answer: 400 (bad parameters or body),
401 (a missing, unknown or expired token), 403 (a denial), 404 (a name that does not exist or
that the caller may not see), 409 (a conflict with the current state), 413 (a body over the
hub's limit), 422 (storage that cannot be read) and 429 (a query limit).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_SCHEMA = "ErrorResponse"

DESCRIPTIONS = {
    400: "Invalid input: a parameter or the body is malformed (`invalid_input`), or a query was "
    "rejected (`query_rejected`)",
    401: "No valid token: missing, unknown, expired or revoked (`unauthenticated`)",
    403: "The caller lacks a permission (`access_denied`) or a guardrail forbids the change "
    "(`guardrail_violation`)",
    404: "The named object does not exist, or the caller may not see it (`not_found`)",
    409: "The request conflicts with the current state (`conflict`, `already_exists`, "
    "`query_cancelled`)",
    413: "The body is larger than the hub's `max_request_bytes` (`limit_exceeded`)",
    422: "A storage location could not be read or written (`storage_error`)",
    429: "A workgroup or query limit stopped the request (`limit_exceeded`)",
}

MUTATING = frozenset({"post", "put", "patch", "delete"})
# Operations that read or write storage (StorageError, 422).
STORAGE_PATHS = ("/crawls", "/onboarding", "/locations", "/tables", "/databases", "/queries")
# Operations that run queries (workgroup limits: 429; cancelled or unfinished jobs: 409).
QUERY_PATHS = ("/queries",)


class ErrorBody(BaseModel):
    """What went wrong: a machine-readable type, a message naming the object, structured details."""

    type: str = Field(description="The error type, e.g. `not_found` or `access_denied`")
    message: str = Field(description="A sentence naming the object at fault")
    details: dict[str, Any] = Field(description="Structured details of the error")


class ErrorResponse(BaseModel):
    """The one JSON error shape of every 4xx and 5xx answer."""

    error: ErrorBody


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses ``method path`` can answer."""
    route = path.removeprefix("/api/v1")
    statuses: set[int] = set()
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(400)
    if operation.get("security"):
        statuses.update({401, 403, 404})
    if method in MUTATING:
        statuses.add(409)
    if "requestBody" in operation:
        statuses.add(413)
    if route.startswith(STORAGE_PATHS) and (method in MUTATING or route.startswith(QUERY_PATHS)):
        statuses.add(422)
    if route.startswith(QUERY_PATHS):
        statuses.update({400, 409, 429})
    return sorted(statuses)


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with FastAPI's 422 replaced by the statuses each operation really answers."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, schema in (
        ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        .get("$defs", {})
        .items()
    ):
        schemas[name] = schema
    schemas[ERROR_SCHEMA] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    schemas[ERROR_SCHEMA].pop("$defs", None)
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.pop("422", None)
            for status in error_statuses(path, method, operation):
                responses.setdefault(
                    str(status),
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return document


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` build (once) the document with its error responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = document_errors(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
