"""Data filters (data cells filters): a row predicate and a column list on a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.governance.filters import FilterDeletion as FilterDeletionRecord
    from lakemesh.store.schema import DataFilterRow, Grant


class FilterCreate(RequestBody):
    name: str
    table: str
    rows: str | None = None
    columns: list[str] | None = None
    excluded_columns: list[str] = Field(default_factory=list)


class FilterUpdate(RequestBody):
    rows: str | None = None
    all_rows: bool = False
    columns: list[str] | None = None
    excluded_columns: list[str] | None = None
    all_columns: bool = False


class FilterGrant(RowModel):
    id: int
    grantee: str
    permissions: list[str]

    @classmethod
    def from_row(cls, row: Grant) -> FilterGrant:
        return cls(id=row.id, grantee=row.grantee.ref, permissions=sorted(row.permissions))


class FilterPublic(RowModel):
    name: str
    table: str
    rows: str | None = Field(description="The canonical row predicate; null: every row")
    columns: list[str] | None
    excluded_columns: list[str]
    grants: list[FilterGrant]
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_row(cls, row: DataFilterRow, grants: list[Grant]) -> FilterPublic:
        """The filter with the grants through it (``filters.filter_grants``)."""
        # Here, not at the top: the SDK (and so the CLI at startup) imports this module, and
        # the service layer must not load with it.
        from lakemesh.catalog.tables import table_name

        return cls(
            name=row.name,
            table=str(table_name(row.table)),
            rows=row.predicate,
            columns=list(row.columns) if row.columns is not None else None,
            excluded_columns=list(row.excluded_columns or []),
            grants=[FilterGrant.from_row(grant) for grant in grants],
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
            updated_at=row.updated_at.isoformat(),
        )


class FilterDeletion(RowModel):
    name: str
    table: str
    revoked_grants: list[int] = Field(description="The grants through the filter, revoked with it")

    @classmethod
    def of(cls, deleted: FilterDeletionRecord) -> FilterDeletion:
        return cls(
            name=deleted.name, table=str(deleted.table), revoked_grants=deleted.revoked_grants
        )
