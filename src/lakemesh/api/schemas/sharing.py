"""Shares, resource links, data products, subscriptions and onboarding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel, Timestamp, stamp

if TYPE_CHECKING:
    from lakemesh.sharing.subscriptions import SubscriptionRecord
    from lakemesh.store.schema import SubscriptionEvent as SubscriptionEventRow
    from lakemesh.store.schema import SubscriptionGrant as SubscriptionGrantRow


class SharePublic(ResponseModel):
    id: int
    resource: str
    from_domain: str
    to_domain: str
    status: str
    permissions: list[str]
    granted_by: str | None
    created_at: Timestamp | None
    decided_by: str | None
    decided_at: Timestamp | None
    origin: str
    delegations: int


class LinkCreate(RequestBody):
    name: str
    target: str


class LinkPublic(ResponseModel):
    name: str
    kind: str
    target: str
    domain: str
    status: str
    message: str | None
    share: int | None
    created_by: str | None
    created_at: Timestamp


class ProductPublish(RequestBody):
    name: str
    domain: str
    tables: list[str] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] | None = None
    version: str | None = None
    contract: str | None = Field(default=None, description="An ODCS v3 YAML document.")
    draft: bool = False
    auto_approve: str | None = Field(
        default=None, description="Tag expression; empty removes the auto-approval rule."
    )


class ProductDeprecate(RequestBody):
    message: str = ""


class ProductTable(ResponseModel):
    table: str
    description: str | None
    columns: list[dict[str, Any]]


class ProductFacets(ResponseModel):
    total: int = Field(description="Products the search finds")
    health: dict[str, int] = Field(
        description="How many of them are in each health facet: passed, failed, error, "
        "unchecked (by their last check), on_time, late (by their freshness SLA)"
    )


class ProductPublic(ResponseModel):
    name: str
    domain: str
    title: str | None
    description: str | None
    owner: str | None
    tags: dict[str, str]
    version: str | None
    status: str
    tables: list[str]
    contract: dict[str, Any] | None
    auto_approve: str | None
    deprecation_message: str | None
    warning: str | None
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp
    schema_: list[ProductTable] | None = Field(
        default=None, alias="schema", description="The tables' columns (one product only)"
    )
    health: dict[str, Any] | None = Field(
        default=None,
        description="The last contract check: status, checked_at, quality_pass_rate, "
        "completeness, freshness",
    )
    contract_warnings: list[str] | None = Field(
        default=None,
        description="Contract classifications the tables' tags do not bear out (one product only)",
    )


class SubscriptionCreate(RequestBody):
    product: str
    principal: str
    reason: str
    columns: list[str] | None = None
    exclude_columns: list[str] = Field(default_factory=list)
    filter: str | None = None


class SubscriptionApprove(RequestBody):
    comment: str = ""
    exclude_columns: list[str] = Field(
        default_factory=list, description="Columns to leave out of what the request asked for"
    )


class SubscriptionReject(RequestBody):
    reason: str


class SubscriptionRevoke(RequestBody):
    reason: str = ""


class SubscriptionGrant(RowModel):
    grant_id: int
    role: str
    table: str

    @classmethod
    def from_row(cls, row: SubscriptionGrantRow) -> SubscriptionGrant:
        return cls(grant_id=row.grant_id, role=row.role, table=row.table)


class SubscriptionEvent(RowModel):
    action: str
    actor: str
    time: Timestamp
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: SubscriptionEventRow) -> SubscriptionEvent:
        return cls(
            action=row.action, actor=row.actor, time=row.time.isoformat(), details=row.details
        )


class SubscriptionPublic(RowModel):
    id: int
    product: str
    product_domain: str
    principal: str
    consumer_domain: str
    requested_by: str
    reason: str | None
    scope: dict[str, Any]
    status: str
    comment: str | None
    decided_by: str | None
    decided_at: Timestamp | None
    active: bool
    grants: list[SubscriptionGrant]
    warning: str | None
    history: list[SubscriptionEvent]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_record(cls, record: SubscriptionRecord) -> SubscriptionPublic:
        """A subscription as the API shows it: decision, live grants and full history."""
        # Here, not at the top: the SDK (and so the CLI at startup) imports this module, and
        # the service layer must not load with it.
        from lakemesh.sharing.issuance import scope_of
        from lakemesh.sharing.products import warning

        row = record.row
        return cls(
            id=row.id,
            product=row.product.name,
            product_domain=row.product.domain.name,
            principal=row.principal,
            consumer_domain=row.consumer_domain,
            requested_by=row.requested_by,
            reason=row.reason,
            scope=scope_of(row).to_dict(),
            status=row.status,
            comment=row.comment,
            decided_by=row.decided_by,
            decided_at=stamp(row.decided_at),
            active=record.active,
            grants=[SubscriptionGrant.from_row(grant) for grant in record.grants],
            warning=warning(row.product),
            history=[SubscriptionEvent.from_row(event) for event in record.events],
            created_at=row.created_at.isoformat(),
            updated_at=row.updated_at.isoformat(),
        )


class ProducerOnboarding(RequestBody):
    name: str
    location: str
    admin: str
    tags: dict[str, str] = Field(default_factory=dict)
    database: str | None = Field(
        default=None, description="Register the location's tables in this one database."
    )
    description: str = ""


class ConsumerOnboarding(RequestBody):
    name: str
    admin: str
    description: str = ""


class OnboardingPublic(ResponseModel):
    domain: str
    role: str
    admin: str
    location: str | None
    databases: dict[str, list[dict[str, Any]]]
    tags: dict[str, str]
    changes: list[str]
