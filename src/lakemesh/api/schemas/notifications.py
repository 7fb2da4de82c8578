"""Notifications (each principal's inbox), webhooks, their secrets and deliveries; schema
proposals and product versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from lakemesh.api.schemas.base import (
    MAX_STORED_INTEGER,
    RequestBody,
    ResponseModel,
    RowModel,
    Timestamp,
    stamp,
)

if TYPE_CHECKING:
    from lakemesh.store.schema import Notification, Webhook, WebhookDelivery, WebhookSecret


class NotificationPublic(RowModel):
    id: int
    event: str = Field(description="The event's id: every recipient's copy and delivery share it")
    recipient: str = Field(description="The principal told, or domain:X for X's admins")
    kind: str
    product: str | None
    subject: str
    details: dict[str, Any]
    created_at: Timestamp
    read_at: Timestamp | None

    @classmethod
    def from_row(cls, row: Notification) -> NotificationPublic:
        return cls(
            id=row.id,
            event=row.event,
            recipient=row.recipient,
            kind=row.kind,
            product=row.product,
            subject=row.subject,
            details=dict(row.details or {}),
            created_at=row.created_at.isoformat(),
            read_at=stamp(row.read_at),
        )


class InboxRead(RequestBody):
    ids: list[Annotated[int, Field(ge=1, le=MAX_STORED_INTEGER)]] = Field(
        default_factory=list, max_length=10_000
    )
    all: bool = Field(default=False, description="Mark every unread notification read")


class SecretSet(RequestBody):
    name: str
    value: str = Field(max_length=4096, description="At least 16 characters; never shown again")
    domain: str | None = Field(default=None, description="A domain's secret (its admins)")


class SecretPublic(RowModel):
    owner: str
    name: str
    created_by: str
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: WebhookSecret) -> SecretPublic:
        """A secret by name: never its value."""
        return cls(
            owner=row.owner,
            name=row.name,
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
        )


class WebhookCreate(RequestBody):
    url: str = Field(max_length=2000)
    secret: str = Field(description="The name of a secret of the same owner")
    domain: str | None = Field(default=None, description="A domain's webhook (its admins)")
    kinds: list[str] = Field(default_factory=list, description="Event kinds posted (empty: all)")
    product: str | None = None


class WebhookPublic(RowModel):
    id: int
    owner: str
    url: str
    secret: str = Field(description="The secret's name (its value is never shown)")
    kinds: list[str]
    product: str | None
    created_by: str
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Webhook) -> WebhookPublic:
        return cls(
            id=row.id,
            owner=row.owner,
            url=row.url,
            secret=row.secret.name,
            kinds=list(row.kinds or []),
            product=row.product,
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
        )


class DeliveryPublic(RowModel):
    id: int
    webhook: int
    event: str
    kind: str
    status: str = Field(description="pending, sending, delivered or failed")
    attempts: int
    response_status: int | None
    error: str | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: WebhookDelivery) -> DeliveryPublic:
        """A delivery and its outcome."""
        return cls(
            id=row.id,
            webhook=row.webhook_id,
            event=row.event,
            kind=row.kind,
            status=row.status,
            attempts=row.attempts,
            response_status=row.response_status,
            error=row.error,
            next_attempt_at=stamp(row.next_attempt_at),
            delivered_at=stamp(row.delivered_at),
            created_at=row.created_at.isoformat(),
        )


class ProposalDecision(RequestBody):
    comment: str = ""
    contract: str | None = Field(
        default=None, description="The ODCS contract of the new version (default: revised)"
    )
    version: str | None = Field(
        default=None, description="The new version (default: the next major one)"
    )


class ProposalReject(RequestBody):
    comment: str = ""


class SchemaProposalPublic(ResponseModel):
    id: int = Field(le=MAX_STORED_INTEGER)
    table: str
    status: str = Field(
        description="pending, accepted, rejected, applied (compatible), withdrawn or superseded"
    )
    mode: str = Field(description="hold or violate: the domain's setting when it was found")
    breaking: bool
    base_version: int
    schema_version: int | None
    summary: str
    changes: dict[str, list[Any]]
    columns: list[dict[str, Any]]
    products: list[str]
    proposed_by: str
    created_at: Timestamp
    decided_by: str | None
    decided_at: Timestamp | None
    comment: str | None


class ProductVersionPublic(ResponseModel):
    version: str
    contract_version: str | None
    reason: str = Field(description="publish, or schema_change (an accepted proposal)")
    proposal: int | None
    schemas: dict[str, int] = Field(description="Each table's schema version")
    actor: str
    created_at: Timestamp


class ProductVersions(ResponseModel):
    product: str
    version: str
    status: str
    versions: list[ProductVersionPublic]
    proposals: list[SchemaProposalPublic]
