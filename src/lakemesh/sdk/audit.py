"""SDK methods of the audit trail."""

from __future__ import annotations

from lakemesh.api.schemas.audit import AuditEvent, AuditVerification
from lakemesh.sdk.base import ApiBase, parsed, parsed_list


class AuditMethods(ApiBase):
    """Searching and verifying the hash-chained audit trail."""

    # -- audit ----------------------------------------------------------------------------------

    def audit_events(
        self,
        *,
        actor: str | None = None,
        resource: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Audit events matching every given criterion, newest first.

        ``since``/``until`` take ISO timestamps or durations (``90d`` means 90 days ago).
        """
        found = self._get(
            "/audit/events",
            actor=actor,
            resource=resource,
            action=action,
            since=since,
            until=until,
            limit=limit,
        )
        return parsed_list(AuditEvent, found)

    def audit_verify(self) -> AuditVerification:
        """Check the audit hash chain: ``ok``, the ``events`` checked, and where it is broken
        (``broken_seq``) and why (``reason``)."""
        return parsed(AuditVerification, self._get("/audit/verify"))
