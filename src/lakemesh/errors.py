"""The one exception hierarchy of lakemesh.

Every error a user can see is a :class:`LakemeshError`. Each class carries the HTTP status it
maps to (the API turns any of them into the JSON error shape in one place) and structured
``details``.
"""

from __future__ import annotations

from typing import Any


class LakemeshError(Exception):
    """Root of every lakemesh error."""

    status = 500
    error_type = "internal_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape: ``{"error": {"type", "message", "details"}}``."""
        return {
            "error": {"type": self.error_type, "message": self.message, "details": self.details}
        }


class InvalidInputError(LakemeshError):
    """The request is malformed or names something in a way that cannot be valid."""

    status = 400
    error_type = "invalid_input"


class AuthenticationError(LakemeshError):
    """No valid credential: a missing, unknown, expired or revoked token."""

    status = 401
    error_type = "unauthenticated"


class AccessDeniedError(LakemeshError):
    """The principal lacks a permission the request needs."""

    status = 403
    error_type = "access_denied"


class GuardrailViolationError(AccessDeniedError):
    """The change would break an organisation guardrail."""

    error_type = "guardrail_violation"


class NotFoundError(LakemeshError):
    """The named object does not exist (or is not visible to the caller)."""

    status = 404
    error_type = "not_found"


class AlreadyExistsError(LakemeshError):
    """An object with that name exists already."""

    status = 409
    error_type = "already_exists"


class ConflictError(LakemeshError):
    """The request conflicts with the current state."""

    status = 409
    error_type = "conflict"


class PortInUseError(ConflictError):
    """The port a hub should listen on is taken by another process."""

    error_type = "port_in_use"


class QueryRejectedError(LakemeshError):
    """The query gateway refused a statement before running it."""

    status = 400
    error_type = "query_rejected"


class LimitExceededError(LakemeshError):
    """A workgroup or system limit stopped the request."""

    status = 429
    error_type = "limit_exceeded"


class StorageError(LakemeshError):
    """A storage location could not be read or written."""

    status = 422
    error_type = "storage_error"


def error_class(error_type: str) -> type[LakemeshError]:
    """The error class for a JSON error shape's ``type`` (the SDK re-raises API errors with it)."""
    pending: list[type[LakemeshError]] = [LakemeshError]
    while pending:
        cls = pending.pop()
        if cls.error_type == error_type:
            return cls
        pending.extend(cls.__subclasses__())
    return LakemeshError
