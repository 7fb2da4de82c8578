"""Every error leaves the API in one JSON shape: ``{"error": {"type", "message", "details"}}``.

A :class:`~lakemesh.errors.LakemeshError` carries its own HTTP status; this module is the one place
that turns it (and FastAPI's own validation and routing errors) into a response. On the portal's
paths (not ``/api/``, ``/iceberg/``, ``/static/``) the same errors are answered as HTML pages in
the portal's layout instead.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lakemesh.errors import AuthenticationError, InvalidInputError, LakemeshError, NotFoundError
from lakemesh.identity.tokens import record_refused_token
from lakemesh.portal.paths import is_portal_path

# The portal's pages (Jinja2, its routers) are imported in the functions below, on a portal path
# only: an embedded hub answering the CLI's API requests never loads them (CLI startup time).

logger = logging.getLogger("lakemesh.api")

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})

# FastAPI raises HTTPException for routing failures; these are their error types.
HTTP_ERROR_TYPES = {
    401: "unauthenticated",
    403: "access_denied",
    404: "not_found",
    405: "method_not_allowed",
}


class HTTPError(LakemeshError):
    """One of Starlette's routing errors (405, ...) as a service error, for the portal's page."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


def error_response(
    status: int, error_type: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    """A response in the JSON error shape."""
    body = {"error": {"type": error_type, "message": message, "details": details or {}}}
    return JSONResponse(jsonable_encoder(body), status_code=status)


def lakemesh_error_response(error: LakemeshError) -> JSONResponse:
    """A service error as a response, with the status its class declares."""
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(
        jsonable_encoder(error.to_dict()), status_code=error.status, headers=headers
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_error(exc: RequestValidationError) -> InvalidInputError:
    """Pydantic's complaints as one :class:`InvalidInputError` naming each bad field."""
    problems = [
        {"location": _location(error.get("loc", ())), "message": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
    return InvalidInputError(f"Invalid request: {summary}", details={"errors": problems})


# The Iceberg REST spec's exception type per status, for errors of the Iceberg catalog.
ICEBERG_ERROR_TYPES = {
    400: "BadRequestException",
    401: "NotAuthorizedException",
    403: "ForbiddenException",
    404: "NoSuchTableException",
    409: "CommitFailedException",
    422: "ServiceFailureException",
    429: "SlowDownException",
}


def iceberg_error_response(error: LakemeshError) -> JSONResponse:
    """A service error in the Iceberg REST spec's shape (``message``, ``type``, ``code``), which
    keeps this API's ``details``: the spec's clients read ``type`` and ``code``."""
    details = dict(error.details)
    kind = details.pop("iceberg_type", None) or ICEBERG_ERROR_TYPES.get(
        error.status, "ServerErrorException"
    )
    body = {
        "error": {"message": error.message, "type": kind, "code": error.status, "details": details}
    }
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(jsonable_encoder(body), status_code=error.status, headers=headers)


async def handle_lakemesh_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LakemeshError)
    if isinstance(exc, AuthenticationError):
        await run_in_threadpool(_audit_refused_token, request, exc)
    if is_portal_path(request.url.path):
        from lakemesh.portal.pages import error_page

        return error_page(request, exc)
    if request.url.path.startswith("/iceberg/"):
        return iceberg_error_response(exc)
    return lakemesh_error_response(exc)


def _audit_refused_token(request: Request, refusal: AuthenticationError) -> None:
    """A request whose bearer token was refused is audited, as a refused PostgreSQL connection
    is (a request without a token is not: it claimed nobody)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return
    client = f"{request.client.host}:{request.client.port}" if request.client else ""
    with request.app.state.hub.transaction() as session:
        record_refused_token(
            session,
            token=token.strip(),
            reason=refusal.message,
            client=f"{client} {request.method} {request.url.path}".strip(),
        )


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await handle_lakemesh_error(request, validation_error(exc))


def allowed_methods(request: Request) -> str:
    """The methods the app answers on the request's path (the ``Allow`` header of a 405), read
    from its OpenAPI document (the portal's from its routers, which that document leaves out):
    Starlette names only the first route matching the path, while a path has a route per
    method."""
    methods: set[str] = set()
    if is_portal_path(request.url.path):
        from lakemesh.portal.app import page_methods

        methods.update(page_methods(request.url.path))
    for path, item in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path))
        if re.fullmatch(pattern, request.url.path):
            methods.update(method.upper() for method in item if method in HTTP_METHODS)
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return ", ".join(sorted(methods))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    route = f"{request.method} {request.url.path}"
    headers: dict[str, str] | None = None
    if exc.status_code == 404:
        message = f"No such route: {route}"
    elif exc.status_code == 405:
        message = f"Method not allowed: {route}"
        headers = {"Allow": allowed_methods(request)}
    else:
        message = str(exc.detail)
    error_type = HTTP_ERROR_TYPES.get(exc.status_code, "http_error")
    response: Response
    if is_portal_path(request.url.path):
        from lakemesh.portal.pages import error_page

        error: LakemeshError = (
            NotFoundError(f"No such page: {request.url.path}")
            if exc.status_code == 404
            else HTTPError(exc.status_code, error_type, message)
        )
        response = error_page(request, error)
    else:
        response = error_response(exc.status_code, error_type, message)
    response.headers.update(headers or {})
    return response


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: log it here, tell the client nothing about the internals (a portal path gets the
    portal's error page, which names the logged error's reference)."""
    if is_portal_path(request.url.path):
        from lakemesh.portal.pages import unexpected_error_page

        return unexpected_error_page(request, exc)
    logger.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the JSON error shape."""
    app.add_exception_handler(LakemeshError, handle_lakemesh_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(Exception, handle_unexpected_error)
