"""Domains: units of ownership, with their admins."""

from __future__ import annotations

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp
from lakemesh.store.schema import Domain


class DomainCreate(RequestBody):
    name: str
    producer: bool = False
    consumer: bool = False
    description: str | None = None
    admins: list[str] = Field(default_factory=list)


class DomainUpdate(RequestBody):
    producer: bool | None = None
    consumer: bool | None = None
    description: str | None = None


class DomainAdminCreate(RequestBody):
    principal: str


class DomainPublic(RowModel):
    name: str
    producer: bool
    consumer: bool
    description: str | None
    admins: list[str]
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Domain, *, admins: list[str]) -> DomainPublic:
        return cls(
            name=row.name,
            producer=row.producer,
            consumer=row.consumer,
            description=row.description,
            admins=admins,
            created_at=row.created_at.isoformat(),
        )
