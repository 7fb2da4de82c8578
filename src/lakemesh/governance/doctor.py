"""``lakemesh doctor``: the risky states of a mesh, for mesh admins to review.

Each finding has a kind, a severity (``high``, ``medium``, ``low``, ``info``), the resource it is
about and a message. What is checked, and why:

- ``missing-required-tags``: tables lacking a key a ``required-tags`` guardrail wants (high when
  the table is shared already, since the guardrail only stops new shares);
- ``sensitive-columns-granted``: grants that let columns in a ``sensitive-scope`` be read — who,
  which columns (high for a whole domain, which the guardrail forbids; medium for a named
  principal reading them unmasked; low when masked for it);
- grant integrity. The store deletes a grant with its grantee, its target (table, filter,
  location) and the grant it derives from (``ON DELETE CASCADE`` on every foreign key, enforced
  on SQLite and PostgreSQL), so a grant to a principal that no longer exists or derived from a
  revoked grant cannot arise through lakemesh; ``dangling-grant`` checks it anyway (a store
  edited by other tools). What can arise: ``grantor-removed`` (the principal that granted it was
  deleted), ``grantor-lost-authority`` (it no longer holds the rights it granted from, e.g. a
  former domain admin), ``grant-names-missing-columns`` (the table's schema dropped a column the
  grant lists) and ``tag-grant-matches-nothing`` (a tag expression no table matches today;
  info). Tag keys and values named by grants, masks and guardrails cannot be deleted (the tag
  service refuses), so those references cannot dangle;
- ``token-never-expires`` / ``token-exceeds-lifetime``: active tokens without expiry, or beyond
  a ``max-token-lifetime`` guardrail created after them;
- ``location-outside-prefixes``: locations registered before a ``location-prefixes`` guardrail;
- ``location-not-real-path``: locations registered before locations were compared on real paths
  that are an alias (a symbolic link, ``/proc/self/root``) or a place that is never a location;
- ``mesh-admins`` (medium when there is only one) and ``domain-without-admins``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from lakemesh import clock
from lakemesh.authz import CatalogNames, grant_rule, guardrail_checks, guardrail_rules, policy_index
from lakemesh.authz.grant_reach import (
    catalog_tables,
    may_overlap,
    sensitive_columns,
    tables_reached,
)
from lakemesh.catalog.location_rules import reserved_reason
from lakemesh.errors import InvalidInputError
from lakemesh.hub import Hub
from lakemesh.model.actions import Action
from lakemesh.model.actors import GOVERNANCE, SYSTEM, Actor
from lakemesh.model.names import ResourceName, parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.policy import GrantRule, PolicyIndex, TagExpression, TagTarget
from lakemesh.policy.coverage import contains
from lakemesh.policy.tag_expressions import parse_tag_expression
from lakemesh.storage import is_within, real_uri
from lakemesh.store.schema import (
    ApiToken,
    Domain,
    DomainAdmin,
    Grant,
    Guardrail,
    Location,
    Principal,
    Table,
)

SEVERITIES = ("high", "medium", "low", "info")


@dataclass(frozen=True)
class Finding:
    """One risky state."""

    kind: str
    severity: str
    resource: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "resource": self.resource,
            "message": self.message,
            "details": self.details,
        }


def diagnose(session: Session, *, actor: Actor) -> list[Finding]:
    """Every finding, most severe first (mesh admins only)."""
    actor.require_mesh_admin(action=Action.DOCTOR, resource="mesh")
    index = policy_index(session)
    names = CatalogNames(session)
    dangling = list(_dangling_grants(session))
    skipped = {int(finding.details["grant_id"]) for finding in dangling}
    rules = [
        (row, grant_rule(row, names))
        for row in session.execute(select(Grant).order_by(Grant.id)).scalars()
        if row.id not in skipped
    ]
    findings = [
        *_missing_required_tags(session, index, rules),
        *_sensitive_grants(session, index, rules),
        *dangling,
        *_grant_integrity(session, index, rules),
        *_tokens(session),
        *_locations(session),
        *_admins(session),
    ]
    order = {severity: position for position, severity in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.kind, f.resource))


def report(findings: list[Finding]) -> dict[str, Any]:
    """The doctor's answer: findings and a count per severity."""
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding.severity] += 1
    return {"findings": [finding.to_dict() for finding in findings], "counts": counts}


Rules = list[tuple[Grant, GrantRule]]


def _shared_tables(session: Session, index: PolicyIndex, rules: Rules) -> dict[str, list[str]]:
    shared: dict[str, list[str]] = {}
    for _, rule in rules:
        if rule.grantee.kind == "domain":
            for table in tables_reached(session, index, rule):
                shared.setdefault(str(table), []).append(str(rule.grantee))
    return shared


def _missing_required_tags(session: Session, index: PolicyIndex, rules: Rules) -> Iterator[Finding]:
    required = guardrail_rules.list_guardrails(session, kind=guardrail_rules.REQUIRED_TAGS)
    if not required:
        return
    shared = _shared_tables(session, index, rules)
    for table in catalog_tables(session):
        tags = index.table_facts(table).table_tags
        for row in required:
            missing = guardrail_checks.missing_tag_keys(row, tags)
            if not missing:
                continue
            with_whom = sorted(set(shared.get(str(table), [])))
            message = f"{table} lacks tag keys {', '.join(missing)} ({guardrail_rules.label(row)})"
            if with_whom:
                message += f" but is shared with {', '.join(with_whom)}"
            yield Finding(
                "missing-required-tags",
                "high" if with_whom else "medium",
                str(table),
                message,
                {"guardrail": row.name, "missing_keys": missing, "shared_with": with_whom},
            )


def _sensitive_grants(session: Session, index: PolicyIndex, rules: Rules) -> Iterator[Finding]:
    for row in guardrail_rules.list_guardrails(session, kind=guardrail_rules.SENSITIVE_SCOPE):
        scope = parse_tag_expression(row.config["expression"])
        for grant, rule in rules:
            if Permission.SELECT not in rule.permissions_on("table"):
                continue
            target = rule.target
            if isinstance(target, TagTarget):
                both = parse_tag_expression(f"({target.expression}) AND ({scope})")
                tables = [
                    t
                    for t in index.tables_matching(both)
                    if target.scope is None or contains(target.scope, t)
                ]
            else:
                tables = tables_reached(session, index, rule)
            reached = {
                table: columns
                for table in tables
                if (columns := sensitive_columns(index, rule, table, scope))
            }
            yield from _sensitive_findings(index, row, grant, rule, reached, scope)


def _sensitive_findings(
    index: PolicyIndex,
    row: Guardrail,
    grant: Grant,
    rule: GrantRule,
    reached: dict[ResourceName, tuple[str, ...]],
    scope: TagExpression,
) -> Iterator[Finding]:
    grantee = str(rule.grantee)
    is_domain = rule.grantee.kind == "domain"
    if not reached and is_domain and isinstance(rule.target, TagTarget):
        if may_overlap(rule.target.expression, scope):
            yield Finding(
                "sensitive-columns-granted",
                "high",
                str(rule.target),
                f"grant #{grant.id} to {grantee} on {rule.target} could reach columns in "
                f"{scope} ({guardrail_rules.label(row)} allows named principals only)",
                {"guardrail": row.name, "grant_id": grant.id, "grantee": grantee, "columns": {}},
            )
        return
    subject = index.subject(rule.grantee)
    for table, columns in reached.items():
        masks = index.decide(subject=subject, permission=Permission.SELECT, resource=table).masks
        unmasked = [column for column in columns if column not in masks]
        if is_domain:
            severity, why = "high", f"{guardrail_rules.label(row)} allows named principals only"
        elif unmasked:
            severity, why = "medium", f"unmasked: {', '.join(unmasked)}"
        else:
            severity, why = "low", "masked for it"
        yield Finding(
            "sensitive-columns-granted",
            severity,
            str(table),
            f"grant #{grant.id} lets {grantee} read {', '.join(columns)} of {table}, in "
            f"{scope} ({why})",
            {
                "guardrail": row.name,
                "grant_id": grant.id,
                "grantee": grantee,
                "columns": list(columns),
                "unmasked": unmasked,
            },
        )


def _dangling_grants(session: Session) -> Iterator[Finding]:
    """Grants whose grantee or parent row is gone: impossible while foreign keys hold."""
    parent = aliased(Grant)
    rows = session.execute(
        select(Grant.id, Grant.grantee_id, Grant.parent_id, Principal.id, parent.id)
        .outerjoin(Principal, Principal.id == Grant.grantee_id)
        .outerjoin(parent, parent.id == Grant.parent_id)
        .where((Principal.id.is_(None)) | (Grant.parent_id.is_not(None) & parent.id.is_(None)))
    )
    for grant_id, grantee_id, parent_id, principal_id, _ in rows:
        problem = (
            f"its grantee (principal #{grantee_id}) no longer exists"
            if principal_id is None
            else f"it derives from grant #{parent_id}, which no longer exists"
        )
        yield Finding(
            "dangling-grant",
            "high",
            f"grant #{grant_id}",
            f"grant #{grant_id} is dangling: {problem} (the store's foreign keys were bypassed)",
            {"grant_id": grant_id, "grantee_id": grantee_id, "parent_id": parent_id},
        )


def _grant_integrity(session: Session, index: PolicyIndex, rules: Rules) -> Iterator[Finding]:
    principals = set(session.execute(select(Principal.ref)).scalars())
    columns_of = {table.id: {c.name.lower() for c in table.columns} for table in _tables(session)}
    for grant, rule in rules:
        where = f"grant #{grant.id} to {grant.grantee.ref} on {rule.target}"
        details: dict[str, Any] = {"grant_id": grant.id, "grantee": grant.grantee.ref}
        if grant.parent_id is None and grant.granted_by != SYSTEM.ref:
            if grant.granted_by not in principals:
                yield Finding(
                    "grantor-removed",
                    "medium",
                    str(rule.target),
                    f"{where} was granted by {grant.granted_by}, which no longer exists",
                    {**details, "granted_by": grant.granted_by},
                )
            elif not index.can_grant(
                subject=index.subject(parse_principal(grant.granted_by)), rule=rule
            ).allowed:
                yield Finding(
                    "grantor-lost-authority",
                    "medium",
                    str(rule.target),
                    f"{where} was granted by {grant.granted_by}, which may no longer grant it",
                    {**details, "granted_by": grant.granted_by},
                )
        if grant.table_id is not None and (grant.columns or grant.excluded_columns):
            known = columns_of.get(grant.table_id, set())
            listed = [*(grant.columns or []), *(grant.excluded_columns or [])]
            gone = [column for column in listed if column.lower() not in known]
            if gone:
                yield Finding(
                    "grant-names-missing-columns",
                    "low",
                    str(rule.target),
                    f"{where} names columns the table no longer has: {', '.join(gone)}",
                    {**details, "columns": gone},
                )
        target = rule.target
        if (
            isinstance(target, TagTarget)
            and target.resource_type == "table"
            and not index.tables_matching(target.expression)
        ):
            yield Finding(
                "tag-grant-matches-nothing",
                "info",
                str(target),
                f"{where} matches no table today",
                details,
            )


def _tables(session: Session) -> list[Table]:
    return list(session.execute(select(Table)).scalars())


def _tokens(session: Session) -> Iterator[Finding]:
    limit = guardrail_checks.token_lifetime_limit(session)
    now = clock.now()
    rows = session.execute(
        select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    ).scalars()
    for row in rows:
        if row.expires_at is not None and row.expires_at <= now:
            continue
        name = f"token {row.id} ({row.prefix}...) of {row.principal.ref}"
        details = {"token_id": row.id, "principal": row.principal.ref}
        lifetime = None if row.expires_at is None else row.expires_at - row.created_at
        if limit is not None and (lifetime is None or lifetime > limit[1]):
            guardrail, _ = limit
            lives = "never expires" if lifetime is None else f"lives {lifetime}"
            yield Finding(
                "token-exceeds-lifetime",
                "high",
                row.principal.ref,
                f"{name} {lives} ({guardrail_rules.label(guardrail)})",
                {**details, "guardrail": guardrail.name},
            )
        elif lifetime is None:
            yield Finding(
                "token-never-expires",
                "medium",
                row.principal.ref,
                f"{name} never expires",
                details,
            )


def _real_path_problem(hub: Hub, uri: str) -> str | None:
    """Why a registered location is not what locations are now (registered before real paths
    were compared), or None."""
    try:
        real = real_uri(uri)
    except InvalidInputError as error:
        return error.message
    reason = reserved_reason(hub, uri, real)
    if reason is not None:
        return f"it may not be a location: {reason}"
    if real != uri:
        return f"it resolves to {real}; deregister it and register that instead"
    return None


def _locations(session: Session) -> Iterator[Finding]:
    rows = guardrail_rules.list_guardrails(session, kind=guardrail_rules.LOCATION_PREFIXES)
    hub = Hub.of(session)
    for location in session.execute(select(Location).order_by(Location.uri)).scalars():
        problem = _real_path_problem(hub, location.uri)
        if problem is not None:
            yield Finding(
                "location-not-real-path",
                "high",
                location.uri,
                f"location {location.uri} of domain {location.domain.name}: {problem}",
                {"domain": location.domain.name},
            )
        for row in rows:
            prefixes = guardrail_rules.location_prefixes(row, location.domain.name)
            if not any(is_within(location.uri, prefix) for prefix in prefixes):
                yield Finding(
                    "location-outside-prefixes",
                    "high",
                    location.uri,
                    f"location {location.uri} of domain {location.domain.name} is outside the "
                    f"allowed prefixes ({guardrail_rules.label(row)})",
                    {"guardrail": row.name, "domain": location.domain.name},
                )


def _admins(session: Session) -> Iterator[Finding]:
    admins: dict[str, list[str]] = {}
    for domain, ref in session.execute(
        select(Domain.name, Principal.ref)
        .join(DomainAdmin, DomainAdmin.domain_id == Domain.id)
        .join(Principal, Principal.id == DomainAdmin.principal_id)
        .order_by(Principal.ref)
    ):
        admins.setdefault(domain, []).append(ref)
    mesh_admins = admins.get(GOVERNANCE, [])
    count = len(mesh_admins)
    yield Finding(
        "mesh-admins",
        "medium" if count <= 1 else "info",
        GOVERNANCE,
        f"{count} mesh admin{'s' if count != 1 else ''}: {', '.join(mesh_admins)}"
        + (" (losing its token locks the mesh's administration)" if count <= 1 else ""),
        {"admins": mesh_admins, "count": count},
    )
    for domain in session.execute(select(Domain.name).order_by(Domain.name)).scalars():
        if domain != GOVERNANCE and not admins.get(domain):
            yield Finding(
                "domain-without-admins",
                "medium",
                domain,
                f"domain {domain} has no admins: only mesh admins can manage it",
                {},
            )
