"""The audit trail and its verification."""

from __future__ import annotations

from typing import Any

from lakemesh.api.schemas.base import ResponseModel, Timestamp


class AuditEvent(ResponseModel):
    seq: int
    time: Timestamp
    actor: str
    action: str
    resource: str
    outcome: str
    details: dict[str, Any]
    hash: str


class AuditVerification(ResponseModel):
    ok: bool
    events: int
    broken_seq: int | None
    reason: str | None
