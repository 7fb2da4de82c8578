"""Tables of the catalog (``domain.database.table``), their columns, tags and schema history.

``GET /tables`` and ``GET /tables/{name}`` answer the same shape, :class:`TablePublic`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp
from lakemesh.api.schemas.tags import ObjectTags
from lakemesh.model.names import ResourceName
from lakemesh.model.table_snapshots import snapshot_fields

if TYPE_CHECKING:
    from lakemesh.governance.tag_assignments import TableTags, TagView
    from lakemesh.store.schema import Column, Table, TableSnapshot


class ColumnCreate(RequestBody):
    name: str
    type: str
    partition: bool = False
    description: str | None = None
    nullable: bool | None = Field(
        default=None, description="False: NOT NULL; unset: the column keeps what it had"
    )


class TableCreate(RequestBody):
    name: str
    location: str
    format: str
    columns: list[ColumnCreate]
    description: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)


class TableUpdate(RequestBody):
    description: str | None = None
    properties: dict[str, str] | None = None
    columns: list[ColumnCreate] | None = None


class ColumnPublic(ResponseModel):
    name: str
    type: str
    partition: bool
    nullable: bool | None = Field(
        default=None, description="False: NOT NULL, as the files declare it; null: not known"
    )
    description: str | None = None
    tags: ObjectTags | None = None

    @classmethod
    def from_row(cls, row: Column, tags: TagView | None = None) -> ColumnPublic:
        return cls(
            name=row.name,
            type=row.type,
            partition=row.is_partition,
            nullable=row.nullable,
            description=row.description,
            tags=None if tags is None else ObjectTags.of(tags),
        )


class SnapshotPublic(ResponseModel):
    id: str = Field(description="Iceberg snapshot id or Delta version")
    parent_id: str | None
    sequence: int
    committed_at: Timestamp
    operation: str
    schema_version: int = Field(description="The table's schema version when the crawl found it")
    summary: dict[str, Any]

    @classmethod
    def from_row(cls, row: TableSnapshot) -> SnapshotPublic:
        return cls(**snapshot_fields(row))


class TablePublic(ResponseModel):
    name: str = Field(description="domain.database.table")
    domain: str
    database: str
    table: str
    location: str
    format: str
    description: str | None
    properties: dict[str, str]
    columns: list[ColumnPublic]
    partition_columns: list[str]
    schema_version: int
    created_at: Timestamp
    updated_at: Timestamp
    tags: ObjectTags | None = None
    current_snapshot: str | None = Field(
        default=None, description="Iceberg and Delta tables: the current snapshot or version"
    )
    snapshots: list[SnapshotPublic] | None = Field(
        default=None, description="Iceberg and Delta tables: snapshots or versions, oldest first"
    )

    @classmethod
    def from_row(
        cls,
        row: Table,
        *,
        tags: TableTags | None = None,
        snapshots: Sequence[TableSnapshot] | None = None,
    ) -> TablePublic:
        """``row`` with its tags and, for Iceberg and Delta (``snapshots`` not None), the
        snapshots or versions crawls recorded."""
        database = row.database
        described = cls(
            name=str(ResourceName(database.domain.name, database.name, row.name)),
            domain=database.domain.name,
            database=database.name,
            table=row.name,
            location=row.location,
            format=row.format,
            description=row.description,
            properties=dict(row.properties),
            columns=[
                ColumnPublic.from_row(c, None if tags is None else tags.columns[c.name])
                for c in row.columns
            ],
            partition_columns=[c.name for c in row.columns if c.is_partition],
            schema_version=row.schema_version,
            created_at=row.created_at.isoformat(),
            updated_at=row.updated_at.isoformat(),
            tags=None if tags is None else ObjectTags.of(tags.table),
        )
        if snapshots is not None:
            described.current_snapshot = (
                row.properties.get(f"{row.format}.current-snapshot") or None
            )
            described.snapshots = [SnapshotPublic.from_row(s) for s in snapshots]
        return described


class TableChanged(ResponseModel):
    table: TablePublic
    changes: dict[str, list[Any]] = Field(description="Columns added, removed and changed")


class SchemaVersionPublic(ResponseModel):
    version: int
    columns: list[dict[str, Any]]
    changes: dict[str, Any]
    actor: str
    created_at: Timestamp


class ColumnChange(ResponseModel):
    name: str
    from_: str = Field(alias="from")
    to: str
    partition: bool
    breaking: bool
    reasons: list[str]
    nullable_from: bool | None = Field(
        default=None, description="When nullability changed: before (false: NOT NULL)"
    )
    nullable_to: bool | None = Field(default=None, description="When nullability changed: after")


class TableDiffPublic(ResponseModel):
    table: str
    from_: int = Field(alias="from", description="The older schema version")
    to: int | None = Field(description="The newer schema version (null: a proposal's schema)")
    proposal: int | None = Field(
        default=None, description="The schema proposal compared (its base version as from)"
    )
    pending_proposal: int | None = Field(
        default=None, description="The table's schema proposal waiting for review, if any"
    )
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[ColumnChange]
    breaking: bool = Field(
        description="A column dropped, retyped narrower, re-partitioned or made NOT NULL (or "
        "nullable where a contract requires a value)"
    )
