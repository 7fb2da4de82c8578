"""Grants, their revocation, and explained decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel, Timestamp
from lakemesh.model.permissions import parse_permissions

if TYPE_CHECKING:
    from lakemesh.governance.grant_targets import GrantRequest
    from lakemesh.policy.decision import Decision
    from lakemesh.store.schema import Grant


class GrantCreate(RequestBody):
    """What to grant (or revoke) to whom: exactly one of ``on``, ``on_tags``, ``location``,
    ``tag_values``."""

    grantee: str
    permissions: list[str] = Field(min_length=1)
    on: str | None = None
    columns: list[str] | None = None
    exclude_columns: list[str] = Field(default_factory=list)
    filter: str | None = None
    on_tags: str | None = None
    resource_type: Literal["table", "database"] = "table"
    location: str | None = None
    tag_values: str | None = None
    with_grant_option: bool = False

    def request(self) -> GrantRequest:
        # Here, not at the top: the SDK (and so the CLI at startup) imports this module, and
        # the service layer must not load with it.
        from lakemesh.governance.grant_targets import GrantRequest

        return GrantRequest(
            permissions=parse_permissions(",".join(self.permissions)),
            on=self.on,
            columns=tuple(self.columns) if self.columns is not None else None,
            exclude_columns=tuple(self.exclude_columns),
            filter=self.filter,
            on_tags=self.on_tags,
            tag_resource_type=self.resource_type,
            location=self.location,
            tag_values=self.tag_values,
            with_grant_option=self.with_grant_option,
        )


class GrantPublic(RowModel):
    id: int
    grantee: str
    permissions: list[str]
    target: str = Field(description="The target as text, e.g. sales.crm.orders (excluding ...)")
    target_kind: str = Field(description="resource, tag, filter, location or tag_values")
    columns: list[str] | None
    excluded_columns: list[str]
    tag_expression: str | None
    filter: str | None
    location: str | None
    with_grant_option: bool
    derived_from: int | None
    granted_by: str | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Grant, *, target: str) -> GrantPublic:
        """The grant, with its target as text (``grants.target_text``)."""
        return cls(
            id=row.id,
            grantee=row.grantee.ref,
            permissions=list(row.permissions),
            target=target,
            target_kind=row.target_kind,
            columns=row.columns,
            excluded_columns=row.excluded_columns or [],
            tag_expression=row.tag_expression,
            filter=row.data_filter.name if row.data_filter else None,
            location=row.location.uri if row.location else None,
            with_grant_option=row.with_grant_option,
            derived_from=row.parent_id,
            granted_by=row.granted_by,
            created_at=row.created_at.isoformat(),
        )


class Revoked(ResponseModel):
    revoked: list[int] = Field(description="The ids of the grants revoked or changed")


class VendedCredentials(ResponseModel):
    allowed: bool = Field(description="Would the principal be vended storage credentials")
    reason: str | None = Field(description="Why not")


class DecisionPublic(ResponseModel):
    """A decision: allowed or not, in what shape, and why."""

    allowed: bool
    columns: list[str]
    row_filter: str | None
    masks: dict[str, str]
    reasons: list[str]
    attributes: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="The principal attributes the row filters read: value, set_by, set_at",
    )
    vended_credentials: VendedCredentials | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="For SELECT on a table only (absent otherwise): would the principal be "
        "vended storage credentials for it, and why not",
    )

    @classmethod
    def of(cls, decision: Decision) -> DecisionPublic:
        """The explain JSON of DESIGN §9 (``vended_credentials`` only where it was asked)."""
        vended = decision.vended_credentials
        return cls(
            allowed=decision.allowed,
            columns=list(decision.columns),
            row_filter=decision.row_filter,
            masks=dict(decision.masks),
            reasons=list(decision.reasons),
            attributes={key: dict(value) for key, value in decision.attributes.items()},
            vended_credentials=None if vended is None else VendedCredentials(**vended),
        )
