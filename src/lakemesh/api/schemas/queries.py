"""Queries, query jobs and the query history (result rows are documented on their routes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp

Format = Literal["json", "csv", "arrow"]


class QueryCreate(RequestBody):
    sql: str
    workgroup: str | None = None
    format: Format = "json"


class JobCreate(RequestBody):
    sql: str
    workgroup: str | None = None


class JobSubmitted(ResponseModel):
    id: str
    status: str


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


class QueryPublic(ResponseModel):
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
    error: dict[str, Any] | None
    submitted_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    result_expires_at: Timestamp | None


class JobStatus(QueryPublic):
    id: str
    cancel_requested_at: Timestamp | None
