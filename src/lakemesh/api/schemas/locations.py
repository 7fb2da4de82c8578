"""Registered storage locations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.store.schema import Location


class LocationCreate(RequestBody):
    uri: str
    domain: str


class LocationPublic(RowModel):
    uri: str
    domain: str
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Location) -> LocationPublic:
        return cls(uri=row.uri, domain=row.domain.name, created_at=row.created_at.isoformat())
