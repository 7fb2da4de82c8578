"""The audit trail and its verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakemesh.api.schemas.base import ResponseModel, RowModel, Timestamp

if TYPE_CHECKING:
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


class AuditVerification(ResponseModel):
    ok: bool
    events: int
    broken_seq: int | None
    reason: str | None
