"""The one exception hierarchy of lakemesh.

Every error a user can see is a :class:`LakemeshError`. Each class carries the HTTP status it
maps to (the API turns any of them into the JSON error shape in one place), the CLI's exit code
and structured ``details``. :data:`ERROR_TYPES` registers every class by its error type, so a
client (the SDK, a remote CLI) turns an API error back into the same class:

>>> error_class("query_cancelled").__name__
'QueryCancelledError'
>>> error_class("query_cancelled").exit_code
5
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")


class LakemeshError(Exception):
    """Root of every lakemesh error."""

    status = 500
    error_type = "internal_error"
    exit_code = 1

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.batch_item: int | None = None
        """The position of the refused item in a batch a service was given (None otherwise)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape: ``{"error": {"type", "message", "details"}}``."""
        return {
            "error": {"type": self.error_type, "message": self.message, "details": self.details}
        }


class InvalidInputError(LakemeshError):
    """The request is malformed or names something in a way that cannot be valid."""

    status = 400
    error_type = "invalid_input"
    exit_code = 6


class AuthenticationError(LakemeshError):
    """No valid credential: a missing, unknown, expired or revoked token."""

    status = 401
    error_type = "unauthenticated"
    exit_code = 4


class AccessDeniedError(LakemeshError):
    """The principal lacks a permission the request needs.

    ``principal``, ``permission`` and ``resource`` say who lacked what on which object (any of
    them ``None`` when the denial is not about one permission); they are in ``details`` too, so
    the API's JSON error shape and a client's copy of the error carry them.
    """

    status = 403
    error_type = "access_denied"
    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        principal: str | None = None,
        permission: str | None = None,
        resource: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        given = {"principal": principal, "permission": permission, "resource": resource}
        merged = {**(details or {}), **{k: v for k, v in given.items() if v is not None}}
        super().__init__(message, details=merged)
        self.principal: str | None = _text(merged.get("principal"))
        self.permission: str | None = _text(merged.get("permission"))
        self.resource: str | None = _text(merged.get("resource"))


class GuardrailViolationError(AccessDeniedError):
    """The change would break an organisation guardrail."""

    error_type = "guardrail_violation"


class NotFoundError(LakemeshError):
    """The named object does not exist (or is not visible to the caller).

    ``concealing`` is set when the object exists but the caller may not see it: the denial the
    answer stands for, which the hub audits. It is never part of the answer (not in ``details``),
    so a concealed refusal reads exactly as a real not-found.
    """

    status = 404
    error_type = "not_found"
    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        concealing: AccessDeniedError | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.concealing = concealing


class AlreadyExistsError(LakemeshError):
    """An object with that name exists already."""

    status = 409
    error_type = "already_exists"
    exit_code = 5


class ConflictError(LakemeshError):
    """The request conflicts with the current state."""

    status = 409
    error_type = "conflict"
    exit_code = 5


class PortInUseError(ConflictError):
    """The port a hub should listen on is taken by another process."""

    error_type = "port_in_use"
    exit_code = 10


class QueryRejectedError(LakemeshError):
    """The query gateway refused a statement before running it."""

    status = 400
    error_type = "query_rejected"
    exit_code = 6


class LimitExceededError(LakemeshError):
    """A workgroup or system limit stopped the request."""

    status = 429
    error_type = "limit_exceeded"
    exit_code = 8


class StorageError(LakemeshError):
    """A storage location could not be read or written."""

    status = 422
    error_type = "storage_error"
    exit_code = 9


class QueryCancelledError(ConflictError):
    """The query was cancelled while it ran (or while it waited to run)."""

    error_type = "query_cancelled"


class HubUnreachableError(LakemeshError):
    """The hub did not answer: nothing listens at its URL, or the connection broke."""

    status = 503
    error_type = "hub_unreachable"
    exit_code = 7


class DecisionsDifferError(LakemeshError):
    """Two hubs (or decision snapshots) decide differently: a disaster-recovery drill failed."""

    status = 409
    error_type = "decisions_differ"
    exit_code = 11


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


ERROR_TYPES: dict[str, type[LakemeshError]] = {
    cls.error_type: cls
    for cls in (
        LakemeshError,
        InvalidInputError,
        AuthenticationError,
        AccessDeniedError,
        GuardrailViolationError,
        NotFoundError,
        AlreadyExistsError,
        ConflictError,
        PortInUseError,
        QueryCancelledError,
        QueryRejectedError,
        LimitExceededError,
        StorageError,
        HubUnreachableError,
        DecisionsDifferError,
    )
}
"""Every public error class by its error type (the ``type`` of the JSON error shape)."""


def error_class(error_type: str) -> type[LakemeshError]:
    """The error class for a JSON error shape's ``type`` (:class:`LakemeshError` when unknown)."""
    return ERROR_TYPES.get(error_type, LakemeshError)


@contextmanager
def batch_item(position: int) -> Iterator[None]:
    """Mark an error raised while a batched service handles its item at ``position`` (a caller
    of the batch learns which item was refused)."""
    try:
        yield
    except LakemeshError as error:
        if error.batch_item is None:
            error.batch_item = position
        raise


def parsing(parse: Callable[[S], T], texts: Iterable[S]) -> list[T]:
    """Those of ``texts`` that ``parse`` accepts: what a batched service reads ahead (it refuses
    the others in turn, when it comes to them)."""
    parsed: list[T] = []
    for text in texts:
        try:
            parsed.append(parse(text))
        except LakemeshError:
            continue
    return parsed
