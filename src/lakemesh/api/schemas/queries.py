"""Queries, query jobs and the query history (result rows are documented on their routes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel, Timestamp, stamp
from lakemesh.model.statuses import QueryStatus

if TYPE_CHECKING:
    from lakemesh.store.schema import QueryRecord

Format = Literal["json", "csv", "arrow"]


class QueryCreate(RequestBody):
    sql: str
    workgroup: str | None = None
    format: Format = "json"


class JobCreate(RequestBody):
    sql: str
    workgroup: str | None = None


class JobSubmitted(RowModel):
    id: str
    status: str

    @classmethod
    def of(cls, query_id: str) -> JobSubmitted:
        """A job just submitted: queued."""
        return cls(id=query_id, status=QueryStatus.QUEUED)


class ResultColumn(ResponseModel):
    name: str
    type: str


class QueryResult(ResponseModel):
    """A result as JSON: rows as lists in column order (result names may repeat)."""

    query_id: str
    columns: list[ResultColumn]
    rows: list[list[Any]]
    bytes_scanned: int
    rows_returned: int
    duration_ms: int | None
    warnings: list[str]


class QueryError(RowModel):
    type: str | None = Field(description="The error's type, as in the JSON error shape")
    message: str


class QueryPublic(RowModel):
    query_id: str
    principal: str
    sql: str = Field(description="The statement's first 4 KB")
    sql_bytes: int | None = None
    sql_sha256: str | None = Field(default=None, description="Of the statement's full text")
    workgroup: str | None
    engine: str | None
    mode: str
    status: str
    outcome: str | None
    tables: list[str]
    columns: dict[str, list[str]]
    filters: dict[str, list[str]]
    masks: dict[str, dict[str, str]]
    bytes_scanned: int | None
    rows_returned: int | None
    duration_ms: int | None
    error: QueryError | None
    submitted_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    result_expires_at: Timestamp | None

    @classmethod
    def from_row(cls, row: QueryRecord) -> QueryPublic:
        """A history row as the API shows it."""
        return cls(**_query_fields(row))


def _query_fields(row: QueryRecord) -> dict[str, Any]:
    error = None if not row.error else QueryError(type=row.error_type, message=row.error)
    return {
        "query_id": row.id,
        "principal": row.principal,
        "sql": row.sql,
        "sql_bytes": row.sql_bytes,
        "sql_sha256": row.sql_sha256,
        "workgroup": row.workgroup,
        "engine": row.engine,
        "mode": row.mode,
        "status": row.status,
        "outcome": row.status if QueryStatus(row.status).finished else None,
        "tables": row.tables,
        "columns": row.columns,
        "filters": row.filters,
        "masks": row.masks,
        "bytes_scanned": row.bytes_scanned,
        "rows_returned": row.rows_returned,
        "duration_ms": row.duration_ms,
        "error": error,
        "submitted_at": stamp(row.submitted_at),
        "started_at": stamp(row.started_at),
        "finished_at": stamp(row.finished_at),
        "result_expires_at": stamp(row.result_expires_at),
    }


class JobStatus(QueryPublic):
    id: str
    cancel_requested_at: Timestamp | None

    @classmethod
    def from_row(cls, row: QueryRecord) -> JobStatus:
        """A job's history row with its id; ``cancel_requested_at`` when a cancellation was
        asked for from another hub process."""
        return cls(
            **_query_fields(row), id=row.id, cancel_requested_at=stamp(row.cancel_requested_at)
        )
