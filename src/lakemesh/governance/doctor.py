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

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.authz import CatalogNames, grant_rule, guardrail_checks, guardrail_rules, policy_index
from lakemesh.catalog.location_rules import reserved_reason
from lakemesh.errors import InvalidInputError
from lakemesh.governance import grant_findings
from lakemesh.governance.findings import SEVERITIES, Finding
from lakemesh.hub import Hub
from lakemesh.model.actions import Action
from lakemesh.model.actors import GOVERNANCE, Actor
from lakemesh.storage import is_within, real_uri
from lakemesh.store.schema import (
    ApiToken,
    Domain,
    DomainAdmin,
    Grant,
    Location,
    Principal,
)


def diagnose(session: Session, *, actor: Actor) -> list[Finding]:
    """Every finding, most severe first (mesh admins only)."""
    actor.require_mesh_admin(action=Action.DOCTOR, resource="mesh")
    index = policy_index(session)
    names = CatalogNames(session)
    dangling = list(grant_findings.dangling_grants(session))
    skipped = {int(finding.details["grant_id"]) for finding in dangling}
    rules = [
        (row, grant_rule(row, names))
        for row in session.execute(select(Grant).order_by(Grant.id)).scalars()
        if row.id not in skipped
    ]
    findings = [
        *grant_findings.missing_required_tags(session, index, rules),
        *grant_findings.sensitive_grants(session, index, rules),
        *dangling,
        *grant_findings.grant_integrity(session, index, rules),
        *_tokens(session),
        *_locations(session),
        *_admins(session),
    ]
    order = {severity: position for position, severity in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.kind, f.resource))


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    """How many findings of each severity, most severe first (every severity, even at 0)."""
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding.severity] += 1
    return counts


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
