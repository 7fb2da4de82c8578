"""lakemesh errors as PostgreSQL ErrorResponses: the SQLSTATE clients understand, the REST message.

>>> from lakemesh.errors import AccessDeniedError
>>> sqlstate(AccessDeniedError("user:bob@marketing lacks SELECT on sales.crm.customers.email"))
'42501'
>>> sqlstate(QueryRejectedError("Could not parse the query: Expected table name"))
'42601'
"""

from __future__ import annotations

from lakemesh.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    LakemeshError,
    LimitExceededError,
    NotFoundError,
    QueryCancelledError,
    QueryRejectedError,
    StorageError,
)
from lakemesh.pgwire.messages import error_response

SUCCESSFUL = "00000"
FEATURE_NOT_SUPPORTED = "0A000"
INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"
PROTOCOL_VIOLATION = "08P01"
INSUFFICIENT_PRIVILEGE = "42501"
SYNTAX_ERROR = "42601"
SYNTAX_OR_ACCESS_RULE = "42000"
UNDEFINED_TABLE = "42P01"
UNDEFINED_OBJECT = "42704"
INVALID_PARAMETER_VALUE = "22023"
QUERY_CANCELED = "57014"
INSUFFICIENT_RESOURCES = "53000"
OUT_OF_MEMORY = "53200"
TOO_MANY_CONNECTIONS = "53300"
PROGRAM_LIMIT_EXCEEDED = "54000"
INVALID_CURSOR_NAME = "34000"
INVALID_STATEMENT_NAME = "26000"
DUPLICATE_PREPARED_STATEMENT = "42P05"
IN_FAILED_TRANSACTION = "25P02"
READ_ONLY_SQL_TRANSACTION = "25006"
OBJECT_IN_USE = "55006"
IO_ERROR = "58030"
INTERNAL_ERROR = "XX000"

_PARSE_FAILURES = ("Could not parse", "The query is empty")


def sqlstate(error: LakemeshError) -> str:
    """The SQLSTATE of a lakemesh error."""
    if isinstance(error, AuthenticationError):
        return INVALID_PASSWORD
    if isinstance(error, AccessDeniedError):
        return INSUFFICIENT_PRIVILEGE
    if isinstance(error, NotFoundError):
        return UNDEFINED_TABLE if error.message.startswith("Table does not") else UNDEFINED_OBJECT
    if isinstance(error, QueryRejectedError):
        return SYNTAX_ERROR if error.message.startswith(_PARSE_FAILURES) else SYNTAX_OR_ACCESS_RULE
    if isinstance(error, QueryCancelledError):
        return QUERY_CANCELED
    if isinstance(error, LimitExceededError):
        limit = error.details.get("limit")
        if limit in ("max_memory_bytes", "memory_limit"):
            return OUT_OF_MEMORY
        if limit in ("max_concurrent", "max_concurrent_per_principal"):
            return TOO_MANY_CONNECTIONS
        return INSUFFICIENT_RESOURCES
    if isinstance(error, InvalidInputError):
        return INVALID_PARAMETER_VALUE
    if isinstance(error, StorageError):
        return IO_ERROR
    if isinstance(error, ConflictError):
        return OBJECT_IN_USE
    return INTERNAL_ERROR


def error_message(code: str, message: str, *, detail: str | None = None) -> bytes:
    """An ErrorResponse with severity ERROR."""
    fields = {"S": "ERROR", "V": "ERROR", "C": code, "M": message}
    if detail:
        fields["D"] = detail
    return error_response(fields)


def fatal_message(code: str, message: str) -> bytes:
    """An ErrorResponse that ends the connection (severity FATAL)."""
    return error_response({"S": "FATAL", "V": "FATAL", "C": code, "M": message})


def lakemesh_error(error: LakemeshError) -> bytes:
    """The ErrorResponse of a lakemesh error: its SQLSTATE, its message, its type as detail."""
    return error_message(sqlstate(error), error.message, detail=f"lakemesh {error.error_type}")
