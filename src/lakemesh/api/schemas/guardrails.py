"""Guardrails (organisation policies) and the doctor's findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.governance.findings import Finding as FindingRecord
    from lakemesh.store.schema import Guardrail


class GuardrailUpdate(RequestBody):
    """The one option of the guardrail's kind: ``keys`` (required-tags), ``on_tags``
    (sensitive-scope), ``prefixes`` (location-prefixes), ``max_lifetime`` like ``90d``
    (max-token-lifetime)."""

    keys: list[str] | None = None
    on_tags: str | None = None
    prefixes: list[str] | None = None
    max_lifetime: str | None = None


class GuardrailCreate(GuardrailUpdate):
    name: str
    kind: str


class GuardrailPublic(RowModel):
    name: str
    kind: str
    config: dict[str, Any]
    rule: str
    created_by: str | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Guardrail) -> GuardrailPublic:
        # Here, not at the top: the SDK (and so the CLI at startup) imports this module, and
        # the service layer must not load with it.
        from lakemesh.authz.guardrail_rules import rule_text

        return cls(
            name=row.name,
            kind=row.kind,
            config=dict(row.config),
            rule=rule_text(row),
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
        )


class Finding(RowModel):
    kind: str
    severity: str = Field(description="high, medium, low or info")
    resource: str
    message: str
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: FindingRecord) -> Finding:
        return cls(
            kind=row.kind,
            severity=row.severity,
            resource=row.resource,
            message=row.message,
            details=dict(row.details),
        )


class Diagnosis(ResponseModel):
    findings: list[Finding]
    counts: dict[str, int] = Field(description="Findings per severity, most severe first")

    @classmethod
    def of(cls, findings: list[FindingRecord], counts: dict[str, int]) -> Diagnosis:
        """The findings, most severe first, and ``doctor.severity_counts`` of them."""
        return cls(findings=[Finding.from_row(finding) for finding in findings], counts=counts)
