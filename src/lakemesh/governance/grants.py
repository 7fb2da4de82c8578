"""Grants: give permissions on named resources, tag expressions, data filters, locations and tag
values; revoke them with every grant derived from them (DESIGN §4).

A grant made under someone's grant option records the grant it derives from (``parent_id``);
revoking a grant, or the permissions a derived grant relied on, revokes the derived grants too,
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import CatalogNames, grant_rule, policy_index, require_seen, subject_of
from lakemesh.authz.guardrail_checks import check_grant
from lakemesh.catalog.lookups import CHUNK, CatalogRows
from lakemesh.errors import NotFoundError, batch_item, parsing
from lakemesh.governance.grant_listing import GrantSeer, list_grants, target_text
from lakemesh.governance.grant_targets import GrantRequest, build_row, same_target
from lakemesh.identity.principals import find_principal, get_principal, require_knows_of
from lakemesh.model.actions import Action
from lakemesh.model.actors import SYSTEM, Actor
from lakemesh.model.names import PrincipalName, ResourceName, parse_principal, parse_resource
from lakemesh.model.permissions import Permission, expand
from lakemesh.policy import (
    FilterTarget,
    GrantRule,
    LocationTarget,
    PolicyIndex,
    ResourceTarget,
    Subject,
    TagValuesTarget,
)
from lakemesh.store.schema import Grant, Principal

__all__ = [
    "GrantItem",
    "GrantRequest",
    "grant",
    "grant_many",
    "grant_to_creator",
    "list_grants",
    "revoke",
    "revoke_grant",
    "target_text",
]


def _descendants(session: Session, grant_id: int) -> list[Grant]:
    """Every grant derived from ``grant_id``, directly or through other derived grants."""
    found: list[Grant] = []
    frontier = [grant_id]
    while frontier:
        children = (
            session.execute(select(Grant).where(Grant.parent_id.in_(frontier))).scalars().all()
        )
        found.extend(children)
        frontier = [child.id for child in children]
    return found


@dataclass(frozen=True)
class GrantItem:
    """One grant of a batch (see :func:`grant_many`)."""

    grantee: str
    request: GrantRequest
    derived_from: int | None = None


def grant(
    session: Session,
    *,
    actor: Actor,
    grantee: str,
    request: GrantRequest,
    derived_from: int | None = None,
) -> Grant:
    """Grant ``request`` to ``grantee``; the actor must be allowed to (DESIGN §4 grant option).

    Granting again what a grantee already holds on the same target adds the new permissions to
    the existing grant. The new grant derives from the actor's grant that allowed it (revoking
    that revokes this one too), or from ``derived_from`` when given (a subscription's delegation
    derives from the share it delegates).
    """
    return grant_many(session, actor=actor, grants=[GrantItem(grantee, request, derived_from)])[0]


def _principal_rows(session: Session, names: Iterable[PrincipalName]) -> dict[str, Principal]:
    refs = sorted({str(name) for name in names})
    rows: dict[str, Principal] = {}
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        query = select(Principal).where(Principal.ref.in_(chunk))
        rows.update((row.ref, row) for row in session.execute(query).scalars())
    return rows


def _grants_of(session: Session, grantees: Iterable[Principal]) -> dict[int, list[Grant]]:
    ids = sorted({row.id for row in grantees})
    held: dict[int, list[Grant]] = {grantee_id: [] for grantee_id in ids}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(Grant).where(Grant.grantee_id.in_(ids[start : start + CHUNK])).order_by(Grant.id)
        )
        for row in session.execute(query).scalars():
            held[row.grantee_id].append(row)
    return held


@dataclass
class _Batch:
    """What the grants of one :func:`grant_many` call read once: the catalog objects and grantees
    they name, the grantees' grants, and the actor as the policy index sees it."""

    catalog: CatalogRows
    names: CatalogNames
    principals: dict[str, Principal]
    held: dict[int, list[Grant]]
    index: PolicyIndex
    subject: Subject
    expressions: dict[str, str] = field(default_factory=dict)

    def grantee(self, session: Session, name: PrincipalName) -> Principal:
        return self.principals.get(str(name)) or get_principal(session, name)


def grant_many(session: Session, *, actor: Actor, grants: Sequence[GrantItem]) -> list[Grant]:
    """Make ``grants`` in order, each checked exactly as :func:`grant` checks one made by hand
    after the ones before it (authority, grant option, guardrails), with one audit event each;
    the catalog objects and principals they name are read at once and the grants written in one
    flush. Returns the grant row of each item (the existing one it added permissions to).

    Raises:
        LakemeshError: the first refusal, its ``batch_item`` the position of the refused item;
            the caller's transaction then holds part of the batch (roll it back).
    """
    if not grants:
        return []
    principals = _principal_rows(session, parsing(parse_principal, [i.grantee for i in grants]))
    index = policy_index(session)
    on = [item.request.on for item in grants if item.request.on is not None]
    batch = _Batch(
        catalog=CatalogRows(session).preload(parsing(parse_resource, on)),
        names=CatalogNames(session),
        principals=principals,
        held=_grants_of(session, principals.values()),
        index=index,
        subject=index.subject(actor.principal),
    )
    entries: list[tuple[Grant, audit.Entry]] = []
    with session.no_autoflush:
        for position, item in enumerate(grants):
            with batch_item(position):
                grantee_name = parse_principal(item.grantee)
                entries.append(_grant_one(session, actor, item, grantee_name, batch))
            if grantee_name in batch.subject.grantees and position + 1 < len(grants):
                # A grant reaching the actor may allow (or be the source of) the grants after it.
                batch.index = policy_index(session)
    session.flush()
    audit.record_many(
        session,
        [
            replace(entry, details={"grant_id": row.id, **(entry.details or {})})
            for row, entry in entries
        ],
    )
    return [row for row, _ in entries]


def _grant_one(
    session: Session, actor: Actor, item: GrantItem, grantee_name: PrincipalName, batch: _Batch
) -> tuple[Grant, audit.Entry]:
    """Check one grant of :func:`grant_many` and add it (or its permissions) to the session."""
    request = item.request
    if item.derived_from is None:
        # A subscription's delegation goes to its subscriber, whom the approver knows of.
        require_knows_of(
            actor,
            grantee_name,
            action=Action.GRANT_CREATE,
            doing="grant to {}",
            hint=f" (grant to domain:{grantee_name.domain}, whose admins may pass it on)",
        )
    if request.on is not None:
        # A database, table or column the actor may not see reads as one that does not exist.
        require_seen(session, actor, parse_resource(request.on), action=Action.GRANT_CREATE)
    row = build_row(session, request, catalog=batch.catalog, expressions=batch.expressions)
    # Authority first, on the grantee's name: the grantee is looked up once it is allowed.
    rule = grant_rule(row, batch.names, grantee=grantee_name)
    target = str(rule.target)
    decision = batch.index.can_grant(subject=batch.subject, rule=rule)
    if not decision.allowed:
        reason = decision.reasons[0] if decision.reasons else "no grant with grant option"
        raise actor.deny(
            f"{actor.ref} may not grant {', '.join(row.permissions)} on {target}: {reason}",
            action=Action.GRANT_CREATE,
            resource=target,
        )
    check_grant(session, actor=actor, rule=rule)
    grantee = batch.grantee(session, grantee_name)
    row.grantee = grantee
    parent_id = item.derived_from or (decision.sources[0] if decision.sources else None)
    held = batch.held.setdefault(grantee.id, [])
    existing = next(
        (
            other
            for other in held
            if other.with_grant_option == row.with_grant_option
            and (other.parent_id == parent_id if parent_id else other.parent_id is None)
            and same_target(other, row)
        ),
        None,
    )
    if existing is not None:
        existing.permissions = sorted(set(existing.permissions) | set(row.permissions))
        row = existing
    else:
        row.parent_id = parent_id
        row.granted_by = actor.ref
        row.created_at = clock.now()
        session.add(row)
        held.append(row)
    entry = audit.Entry(
        actor=actor.ref,
        action=Action.GRANT_CREATE,
        resource=target,
        details={
            "grantee": grantee.ref,
            "permissions": sorted(request.permissions),
            "with_grant_option": row.with_grant_option,
            "derived_from": parent_id,
            "reasons": decision.reasons,
        },
    )
    return row, entry


def grant_to_creator(session: Session, *, creator: Actor, table: ResourceName) -> Grant:
    """ALL on ``table`` to the principal that just created it under a CREATE_TABLE grant (as
    Lake Formation gives a table's creator), granted by the hub itself: its creator may read,
    write, alter and drop what it made; admins of the domain may revoke it.
    """
    request = GrantRequest(permissions=frozenset({Permission.ALL}), on=str(table))
    row = build_row(session, request)
    rule = grant_rule(row, CatalogNames(session), grantee=creator.principal)
    check_grant(session, actor=creator, rule=rule)
    row.grantee = get_principal(session, creator.principal)
    row.granted_by = SYSTEM.ref
    row.created_at = clock.now()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=SYSTEM.ref,
        action=Action.GRANT_CREATE,
        resource=str(rule.target),
        details={
            "grant_id": row.id,
            "grantee": creator.ref,
            "permissions": [Permission.ALL.value],
            "with_grant_option": False,
            "derived_from": None,
            "reasons": [f"{creator.ref} created {table}"],
        },
    )
    return row


def _may_revoke(session: Session, actor: Actor, row: Grant, rule: GrantRule) -> bool:
    if actor.is_mesh_admin or row.granted_by == actor.ref:
        return True
    return policy_index(session).can_grant(subject=subject_of(session, actor), rule=rule).allowed


def _delete_with_descendants(
    session: Session, *, actor: Actor, row: Grant, names: CatalogNames, cause: int | None
) -> list[int]:
    removed: list[int] = []
    for child in reversed(_descendants(session, row.id)):
        target = str(grant_rule(child, names).target)
        removed.append(child.id)
        audit.record(
            session,
            actor=actor.ref,
            action=Action.GRANT_REVOKE,
            resource=target,
            details={"grant_id": child.id, "grantee": child.grantee.ref, "cascade_from": row.id},
        )
        session.delete(child)
    target = str(grant_rule(row, names).target)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.GRANT_REVOKE,
        resource=target,
        details={"grant_id": row.id, "grantee": row.grantee.ref, "cascade_from": cause},
    )
    removed.append(row.id)
    session.delete(row)
    return removed


def revoke_grant(session: Session, *, actor: Actor, grant_id: int) -> list[int]:
    """Revoke one grant and every grant derived from it; return the ids revoked."""
    row = session.get(Grant, grant_id)
    names = CatalogNames(session)
    if row is None or not GrantSeer(session, actor, names).sees(row):
        missing = NotFoundError(f"Grant does not exist: {grant_id}", details={"grant_id": grant_id})
        if row is None:
            raise missing
        raise actor.conceal(
            missing,
            reason=f"{actor.ref} may not see grant #{grant_id}",
            action=Action.GRANT_REVOKE,
            resource=f"grant {grant_id}",
        )
    rule = grant_rule(row, names)
    if not _may_revoke(session, actor, row, rule):
        raise actor.deny(
            f"{actor.ref} may not revoke grant #{row.id} on {rule.target}",
            action=Action.GRANT_REVOKE,
            resource=str(rule.target),
        )
    removed = _delete_with_descendants(session, actor=actor, row=row, names=names, cause=None)
    session.flush()
    return removed


def revoke(session: Session, *, actor: Actor, grantee: str, request: GrantRequest) -> list[int]:
    """Take ``request``'s permissions back from ``grantee`` on exactly that target (mirrors
    :func:`grant`); grants derived from what is taken back go too. Returns the ids changed."""
    if request.on is not None:
        # A database, table or column the actor may not see reads as one that does not exist.
        require_seen(session, actor, parse_resource(request.on), action=Action.GRANT_REVOKE)
    wanted = build_row(session, request)
    names = CatalogNames(session)
    seer = GrantSeer(session, actor, names)
    grantee_name = parse_principal(grantee)
    grantee_ref = str(grantee_name)
    grantee_row = (
        get_principal(session, grantee_name)
        if actor.administers(grantee_name.domain)
        # A principal of another domain: a missing one reads as one holding no grant.
        else find_principal(session, grantee_name)
    )
    candidates = [
        row
        for row in session.execute(
            select(Grant).where(Grant.grantee_id == (grantee_row.id if grantee_row else None))
        ).scalars()
        if same_target(row, wanted)
    ]
    matches = [row for row in candidates if seer.sees(row)]
    taking = request.permissions
    if grantee_row is None or not matches:
        # The target reads the same whoever the grantee, and whether it exists.
        target = str(grant_rule(wanted, names, grantee=grantee_name).target)
        missing = NotFoundError(
            f"No grant of {', '.join(sorted(taking))} on {target} to {grantee_ref}",
            details={"grantee": grantee_ref, "resource": target},
        )
        if candidates:
            raise actor.conceal(
                missing,
                reason=f"{actor.ref} may not see the grants to {grantee_ref} on {target}",
                action=Action.GRANT_REVOKE,
                resource=target,
            )
        raise missing
    changed: list[int] = []
    for row in matches:
        rule = grant_rule(row, names)
        if not _may_revoke(session, actor, row, rule):
            raise actor.deny(
                f"{actor.ref} may not revoke grant #{row.id} on {rule.target}",
                action=Action.GRANT_REVOKE,
                resource=str(rule.target),
            )
        held = {Permission(p) for p in row.permissions}
        if Permission.ALL not in taking and not held & taking:
            continue
        remaining = set() if Permission.ALL in taking else held - taking
        if not remaining or (remaining == {Permission.ALL} and Permission.ALL in taking):
            changed.extend(
                _delete_with_descendants(session, actor=actor, row=row, names=names, cause=None)
            )
            continue
        level = _level(rule)
        taken = expand(frozenset(taking), level) if level else frozenset(taking)
        row.permissions = sorted(p.value for p in remaining)
        for child in _descendants(session, row.id):
            child_level = _level(grant_rule(child, names)) or level
            child_held = expand(
                frozenset(Permission(p) for p in child.permissions), child_level or "table"
            )
            if child_held & taken and session.get(Grant, child.id) is not None:
                changed.extend(
                    _delete_with_descendants(
                        session, actor=actor, row=child, names=names, cause=row.id
                    )
                )
        audit.record(
            session,
            actor=actor.ref,
            action=Action.GRANT_REVOKE,
            resource=str(rule.target),
            details={"grant_id": row.id, "grantee": grantee_row.ref, "permissions": sorted(taking)},
        )
        changed.append(row.id)
    if not changed:
        target = str(grant_rule(matches[0], names).target)
        held_text = ", ".join(sorted({p for row in matches for p in row.permissions}))
        raise NotFoundError(
            f"{grantee_row.ref} holds no {', '.join(sorted(taking))} on {target} "
            f"(granted: {held_text})",
            details={"grantee": grantee_row.ref, "resource": target},
        )
    session.flush()
    return changed


def _level(rule: GrantRule) -> str | None:

    target = rule.target
    if isinstance(target, ResourceTarget):
        return "table" if target.resource.level in ("table", "column") else target.resource.level
    if isinstance(target, FilterTarget):
        return "table"
    if isinstance(target, LocationTarget):
        return "location"
    if isinstance(target, TagValuesTarget):
        return "tag"
    return "table"
