"""Workgroups: where queries run and the limits they obey."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from lakemesh.api.schemas.base import Count, RequestBody, ResponseModel, Timestamp
from lakemesh.model.durations import format_duration
from lakemesh.model.spark_remote import redact_spark_token
from lakemesh.model.workgroup_limits import limits_of

if TYPE_CHECKING:
    from lakemesh.store.schema import Workgroup


class WorkgroupUpdate(RequestBody):
    engine: str | None = None
    description: str | None = None
    max_bytes_per_query: Count | None = None
    max_bytes_per_month: Count | None = None
    max_concurrent: Count | None = None
    max_concurrent_per_principal: Count | None = None
    timeout_seconds: Count | None = None
    max_memory_bytes: Count | None = None
    max_rows: Count | None = None
    max_result_bytes: Count | None = None
    result_retention: str | None = None
    spark_remote: str | None = None


class WorkgroupCreate(WorkgroupUpdate):
    name: str
    engine: str = "duckdb"


class WorkgroupPublic(ResponseModel):
    name: str
    engine: str
    description: str | None
    max_bytes_per_query: int | None
    max_bytes_per_month: int | None
    max_concurrent: int | None
    max_concurrent_per_principal: int | None
    timeout_seconds: int | None
    max_memory_bytes: int | None
    max_rows: int | None
    max_result_bytes: int | None
    result_retention: str | None
    spark_remote: str | None
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_row(cls, row: Workgroup) -> WorkgroupPublic:
        return cls(
            name=row.name,
            engine=row.engine,
            description=row.description,
            **limits_of(row),
            result_retention=format_duration(timedelta(seconds=row.result_retention_seconds)),
            spark_remote=redact_spark_token(row.spark_remote),
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
            updated_at=row.updated_at.isoformat(),
        )


class DailyBytes(ResponseModel):
    day: str
    bytes_scanned: int


class WorkgroupUsagePublic(ResponseModel):
    workgroup: str
    principal: str | None
    """Whose queries are counted; null for every principal's."""
    bytes_this_month: int
    max_bytes_per_month: int | None
    daily: list[DailyBytes]
