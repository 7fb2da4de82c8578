"""Domains: units of ownership, with their admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp

if TYPE_CHECKING:
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
    schema_changes: str | None = Field(
        default=None,
        description="What a crawl does with a change that breaks a published contract: hold "
        "(keep serving the contracted schema) or violate (serve it, mark the product "
        "contract_violated); either way the change waits for review",
    )
    check_schedule: str | None = Field(
        default=None,
        description="The default check schedule, a cron expression (UTC) a product's check "
        'schedule takes when its contract gives none; "" removes it',
    )


class DomainAdminCreate(RequestBody):
    principal: str


class DomainPublic(RowModel):
    name: str
    producer: bool
    consumer: bool
    description: str | None
    admins: list[str]
    schema_changes: str = Field(description="hold or violate (see DomainUpdate)")
    check_schedule: str | None = Field(
        default=None, description="The default check schedule (see DomainUpdate)"
    )
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Domain, *, admins: list[str]) -> DomainPublic:
        return cls(
            name=row.name,
            producer=row.producer,
            consumer=row.consumer,
            description=row.description,
            admins=admins,
            schema_changes=row.schema_changes,
            check_schedule=row.check_schedule,
            created_at=row.created_at.isoformat(),
        )
