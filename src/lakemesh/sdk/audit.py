"""SDK methods of the audit trail."""

from __future__ import annotations

from typing import Any

from lakemesh.sdk.base import ApiBase


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
    ) -> list[dict[str, Any]]:
        """Audit events matching every given criterion, newest first.

        ``since``/``until`` take ISO timestamps or durations (``90d`` means 90 days ago).
        """
        result: list[dict[str, Any]] = self._get(
            "/audit/events",
            actor=actor,
            resource=resource,
            action=action,
            since=since,
            until=until,
            limit=limit,
        )
        return result

    def audit_verify(self) -> dict[str, Any]:
        """Check the audit hash chain: ``{"ok", "events", "broken_seq", "reason"}``."""
        result: dict[str, Any] = self._get("/audit/verify")
        return result
