"""The audit trail and its verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.audit.chain import VerifyResult
    from lakemesh.store.schema import AuditEvent as AuditEventRow


class AuditEvent(RowModel):
    seq: int
    time: Timestamp
    actor: str
    action: str
    resource: str
    outcome: str
    details: dict[str, Any]
    hash: str

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            seq=row.seq,
            time=row.time.isoformat(),
            actor=row.actor,
            action=row.action,
            resource=row.resource,
            outcome=row.outcome,
            details=row.details,
            hash=row.hash,
        )


class AuditVerification(RowModel):
    ok: bool
    events: int = Field(description="The events checked")
    broken_seq: int | None = Field(description="The first event that breaks the chain")
    reason: str | None = Field(description="Why it breaks it: altered, removed or reordered")

    @classmethod
    def from_row(cls, row: VerifyResult) -> AuditVerification:
        return cls(ok=row.ok, events=row.events, broken_seq=row.broken_seq, reason=row.reason)
