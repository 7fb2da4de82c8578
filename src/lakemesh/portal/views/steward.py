"""The steward pages: tags, grants (filtered), data filters, masks, guardrails, the doctor, and
the audit trail with its verification and daily activity.

Mesh admins see the whole mesh; domain admins what the services show them about their domains
(grants, filters and audit events of their domains; the doctor and ``audit verify`` are mesh
admins' only, as in the REST API). Anyone else is refused with the reason (403, audited).
The doctor and the chain's verification read the whole store: they run when a mesh admin asks
(``run_doctor``, ``verify``), not on every view of their pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.audit.activity import DailyActivity, daily_activity
from lakemesh.audit.chain import VerifyResult
from lakemesh.audit.search import MAX_RESULTS
from lakemesh.authz import CatalogNames, guardrail_rules
from lakemesh.catalog.tables import table_name
from lakemesh.governance import doctor, filters, grant_listing, masks, tags
from lakemesh.governance.findings import Finding
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import AuditEvent, DataFilterRow, Guardrail, MaskRule, TagKey

AUDIT_PAGE = 200


def require_steward(viewer: Actor, *, resource: str) -> None:
    """Raise an audited denial (403) unless ``viewer`` is a mesh admin or a domain admin."""
    if not viewer.admin_of:
        raise viewer.deny(
            f"{viewer.ref} is not a mesh admin or a domain admin",
            action=Action.ACCESS_DENIED,
            resource=resource,
        )


@dataclass(frozen=True)
class GrantLine:
    """A grant as the steward's grant list shows it."""

    id: int
    grantee: str
    permissions: tuple[str, ...]
    target: str
    kind: str
    with_grant_option: bool
    granted_by: str
    parent_id: int | None
    created_at: datetime


def grant_lines(
    session: Session,
    *,
    viewer: Actor,
    principal: str | None = None,
    resource: str | None = None,
    tag: str | None = None,
) -> list[GrantLine]:
    """Grants as ``GET /grants?principal=&resource=`` shows them to ``viewer``, narrowed to the
    grants whose tag expression names ``tag`` (``sensitivity`` or ``sensitivity=pii``)."""
    rows = grant_listing.list_grants(
        session, actor=viewer, principal=principal or None, resource=resource or None
    )
    if tag:
        key, _, value = tag.strip().partition("=")
        tags.get_tag(session, key.strip())  # an unknown key is an error, not an empty list
        rows = [row for row in rows if tags.grant_mentions(row, key.strip(), value.strip() or None)]
    names = CatalogNames(session)
    return [
        GrantLine(
            id=row.id,
            grantee=row.grantee.ref,
            permissions=tuple(row.permissions),
            target=grant_listing.target_text(session, row, names),
            kind=row.target_kind,
            with_grant_option=row.with_grant_option,
            granted_by=row.granted_by,
            parent_id=row.parent_id,
            created_at=row.created_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class FilterLine:
    name: str
    table: str
    rows: str | None
    columns: list[str] | None
    excluded_columns: list[str]
    grants: int


@dataclass(frozen=True)
class GuardrailLine:
    name: str
    kind: str
    rule: str


@dataclass(frozen=True)
class Governance:
    """The steward's governance page."""

    tags: Sequence[TagKey]
    masks: Sequence[MaskRule]
    filters: list[FilterLine]
    guardrails: list[GuardrailLine]
    findings: list[Finding] | None
    """None for a domain admin (the doctor is mesh admins', ``GET /doctor``), and until a mesh
    admin runs it."""

    @property
    def finding_counts(self) -> dict[str, int]:
        return doctor.severity_counts(self.findings or [])


def _filter_line(session: Session, row: DataFilterRow) -> FilterLine:
    return FilterLine(
        name=row.name,
        table=str(table_name(row.table)),
        rows=row.predicate,
        columns=list(row.columns) if row.columns is not None else None,
        excluded_columns=list(row.excluded_columns or []),
        grants=len(filters.filter_grants(session, row)),
    )


def _guardrail_line(row: Guardrail) -> GuardrailLine:
    return GuardrailLine(name=row.name, kind=row.kind, rule=guardrail_rules.rule_text(row))


def governance(session: Session, *, viewer: Actor, run_doctor: bool = False) -> Governance:
    """Tags, masks, filters, guardrails and, when a mesh admin asks (``run_doctor``), the
    doctor's findings."""
    require_steward(viewer, resource="governance")
    return Governance(
        tags=tags.list_tags(session),
        masks=masks.list_masks(session),
        filters=[_filter_line(session, row) for row in filters.list_filters(session, actor=viewer)],
        guardrails=[_guardrail_line(row) for row in guardrail_rules.list_guardrails(session)],
        findings=doctor.diagnose(session, actor=viewer) if run_doctor else None,
    )


@dataclass(frozen=True)
class AuditView:
    """The audit page: matching events, the chain's verification, activity per day."""

    events: Sequence[AuditEvent]
    verification: VerifyResult | None
    """None for a domain admin (verifying walks the whole chain: mesh admins), and until a mesh
    admin asks for it."""
    activity: list[DailyActivity]
    criteria: dict[str, Any]


def audit_view(
    session: Session,
    *,
    viewer: Actor,
    who: str | None = None,
    resource: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    text: str | None = None,
    days: int = 30,
    verify: bool = False,
) -> AuditView:
    """Events as ``GET /audit/events`` finds them for ``viewer``, then narrowed to those whose
    actor, action, resource or details contain ``text``; the chain verified when ``verify``."""
    found = audit.search(
        session,
        reader=viewer,
        actor=who or None,
        resource=resource or None,
        action=action or None,
        since=since,
        until=until,
        limit=AUDIT_PAGE if not text else MAX_RESULTS,
    )
    if text:
        needle = text.lower()
        found = [event for event in found if needle in _haystack(event)][:AUDIT_PAGE]
    return AuditView(
        events=found,
        verification=audit.verify_trail(session, reader=viewer) if verify else None,
        activity=daily_activity(session, reader=viewer, days=days),
        criteria={
            "actor": who or "",
            "resource": resource or "",
            "action": action or "",
            "text": text or "",
        },
    )


def _haystack(event: AuditEvent) -> str:
    return " ".join([event.actor, event.action, event.resource, str(event.details)]).lower()
