"""Attribute keys: the principal attributes row filters read, their values and their delegates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.store.schema import AttributeKey


class AttributeKeyCreate(RequestBody):
    key: str
    values: list[str]
    description: str | None = None


class AttributeKeyUpdate(RequestBody):
    values: list[str] | None = None
    description: str | None = None


class AttributeDelegation(RequestBody):
    principal: str


class AttributeKeyPublic(RowModel):
    key: str
    values: list[str]
    description: str | None
    delegates: list[str]
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: AttributeKey) -> AttributeKeyPublic:
        return cls(
            key=row.key,
            values=list(row.allowed_values),
            description=row.description,
            delegates=sorted(delegate.principal.ref for delegate in row.delegates),
            created_at=row.created_at.isoformat(),
        )
