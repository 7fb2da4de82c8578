"""Databases of a domain's catalog (``domain.database``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.store.schema import Database


class DatabaseCreate(RequestBody):
    domain: str
    name: str
    description: str | None = None
    location: str | None = None


class DatabaseUpdate(RequestBody):
    description: str


class DatabasePublic(RowModel):
    name: str
    domain: str
    database: str
    description: str | None
    location: str | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Database) -> DatabasePublic:
        return cls(
            name=f"{row.domain.name}.{row.name}",
            domain=row.domain.name,
            database=row.name,
            description=row.description,
            location=row.location,
            created_at=row.created_at.isoformat(),
        )
