"""``lakemesh explain``: a decision with every grant, tag and filter behind it, for a principal
the actor may ask about, with the attribute values its row filters read."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import decide, policy_index
from lakemesh.catalog.locations import list_locations
from lakemesh.catalog.tables import get_table_row
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.identity.attributes import attribute_sources
from lakemesh.identity.principals import get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, parse_principal, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision, Location, TagValue
from lakemesh.policy.predicates import attributes_read
from lakemesh.policy.rules import Resource
from lakemesh.storage import is_within, real_uri
from lakemesh.store.schema import Database, DataFilterRow, Domain, Table


def parse_target(text: str) -> Resource:
    """A resource named on the command line: ``d.db.t[.c]``, a storage URI, or ``tag:k=v``."""
    if "://" in text:
        return Location(real_uri(text), "")  # what the URI really names, as locations are kept
    if text.startswith("tag:"):
        key, sep, value = text[4:].partition("=")
        if not sep or not key or not value:
            raise InvalidInputError(f"Invalid tag resource: {text!r} (expected tag:KEY=VALUE)")
        return TagValue(key, value)
    return parse_resource(text)


def explain(
    session: Session, *, actor: Actor, principal: str, permission: Permission, resource: str
) -> Decision:
    """The decision for ``principal`` with every grant, tag and filter behind it.

    Anyone may explain their own access; mesh admins anyone's; domain admins anyone's access to
    their own domain's objects.
    """
    target = parse_target(resource)
    # Authority first, on the names: a principal that exists reads as one that does not.
    subject_ref = str(parse_principal(principal))
    if subject_ref != actor.ref and not actor.is_mesh_admin:
        domain = target.domain if isinstance(target, ResourceName) else None
        if domain is None or not actor.administers(domain):
            raise actor.deny(
                f"{actor.ref} may not explain the access of {subject_ref} to {resource}",
                action=Action.EXPLAIN,
                resource=resource,
            )
    get_principal(session, subject_ref)
    index = policy_index(session)
    if isinstance(target, Location):
        target = _location_of(session, target)
    hidden = _hidden(session, actor, target)
    try:
        decision = index.explain(
            principal=parse_principal(subject_ref), permission=permission, resource=target
        )
    except NotFoundError:
        if hidden is None:
            raise
        decision = None
    if hidden is not None and (decision is None or not decision.allowed):
        # What the actor may not DESCRIBE reads as what does not exist: no grant, tag or filter
        # of it shows.
        return Decision(
            allowed=False,
            principal=parse_principal(subject_ref),
            permission=str(permission),
            resource=str(target),
            reasons=[f"{subject_ref} lacks DESCRIBE on {hidden}"],
        )
    assert decision is not None
    if permission == Permission.SELECT and isinstance(target, ResourceName):
        decision = _with_vending(session, decision, target)
    if decision.row_filter is None or not isinstance(target, ResourceName):
        return decision
    return _with_attributes(session, decision, subject_ref, target)


def _with_vending(session: Session, decision: Decision, target: ResourceName) -> Decision:
    """``decision`` saying whether its principal would be vended storage credentials for the
    table (only a whole SELECT is: raw files would show what a filter, a column limit or a mask
    hides)."""
    if target.level != "table":
        return decision
    if not decision.allowed or decision.access is None:
        reason: str | None = f"it lacks SELECT on {target}"
    else:
        try:
            row = get_table_row(session, target)
        except NotFoundError:
            return decision  # a resource link: its target's explanation says
        reason = decision.access.vend_refusal(frozenset(column.name for column in row.columns))
    return replace(decision, vended_credentials={"allowed": reason is None, "reason": reason})


def _hidden(session: Session, actor: Actor, target: Resource) -> ResourceName | None:
    """The database or table (of a column) of ``target`` that ``actor`` may not DESCRIBE."""
    if not isinstance(target, ResourceName) or target.level == "domain":
        return None
    if actor.administers(target.domain):
        return None
    name = target.table_name if target.level == "column" else target
    try:
        seen = decide(session, actor=actor, permission=Permission.DESCRIBE, resource=name)
    except NotFoundError:
        return name
    return None if seen.allowed else name


def _with_attributes(
    session: Session, decision: Decision, subject_ref: str, target: ResourceName
) -> Decision:
    """The decision with the attribute values its table's row filters read, and who set them."""
    predicates = session.execute(
        select(DataFilterRow.predicate)
        .join(Table, Table.id == DataFilterRow.table_id)
        .join(Database, Database.id == Table.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .where(
            Domain.name == target.domain,
            Database.name == target.database,
            Table.name == target.table,
        )
    ).scalars()
    keys = {key for predicate in predicates if predicate for key in attributes_read(predicate)}
    if not keys:
        return decision
    used = attribute_sources(get_principal(session, subject_ref), keys)
    reasons = [
        f"attribute {key} of {subject_ref} = {found['value']} (set by {found['set_by']} at "
        f"{found['set_at']})"
        if found["value"] is not None
        else f"attribute {key} of {subject_ref} is not set (its filters match no rows)"
        for key, found in used.items()
    ]
    return replace(decision, attributes=used, reasons=[*decision.reasons, *reasons])


def _location_of(session: Session, target: Location) -> Location:
    """``target`` owned by the domain of the innermost location that holds it."""
    inside = [row for row in list_locations(session) if is_within(target.uri, row.uri)]
    if not inside:
        return target
    return Location(target.uri, max(inside, key=lambda row: len(row.uri)).domain.name)
