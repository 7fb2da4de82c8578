"""Listing and describing grants, by principal and by resource."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import CatalogNames, grant_rule, policy_index, subject_of
from lakemesh.identity.principals import find_principal, get_principal
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, parse_principal, parse_resource
from lakemesh.policy import (
    FilterTarget,
    LocationTarget,
    ResourceTarget,
    TagTarget,
)
from lakemesh.store.schema import Grant


def list_grants(
    session: Session, *, actor: Actor, principal: str | None = None, resource: str | None = None
) -> list[Grant]:
    """Grants to ``principal`` and/or concerning ``resource`` (a domain, database or table).

    Mesh admins see every grant; domain admins the grants to their domain's principals and on
    their domain's objects; everyone else the grants that reach them.
    """
    names = CatalogNames(session)
    rows = list(session.execute(select(Grant).order_by(Grant.id)).scalars())
    if principal is not None:
        grantee = (
            get_principal(session, principal)
            if actor.administers(parse_principal(principal).domain)
            # A principal of another domain: a missing one reads as one with no grant in sight.
            else find_principal(session, principal)
        )
        rows = [row for row in rows if grantee is not None and row.grantee_id == grantee.id]
    if resource is not None:
        name = parse_resource(resource)
        rows = [row for row in rows if _concerns(session, row, name, names)]
    seer = GrantSeer(session, actor, names)
    return [row for row in rows if seer.sees(row)]


class GrantSeer:
    """Which grants an actor may see: mesh admins every grant; domain admins the grants to their
    domain's principals and on their domain's objects; everyone the grants that reach them and
    the grants they made. A grant one may not see reads as one that does not exist."""

    def __init__(self, session: Session, actor: Actor, names: CatalogNames) -> None:
        self.actor = actor
        self.names = names
        self.reaching = {str(g) for g in subject_of(session, actor).grantees}

    def sees(self, row: Grant) -> bool:
        actor = self.actor
        return (
            actor.is_mesh_admin
            or row.grantee.ref in self.reaching
            or row.granted_by == actor.ref
            or actor.administers(row.grantee.domain.name)
            or _domain_of(row, self.names) in actor.admin_of
        )


def _domain_of(row: Grant, names: CatalogNames) -> str | None:
    target = grant_rule(row, names).target

    if isinstance(target, ResourceTarget):
        return target.resource.domain
    if isinstance(target, FilterTarget):
        return target.data_filter.table.domain
    if isinstance(target, LocationTarget):
        return target.owner
    return None


def _concerns(session: Session, row: Grant, name: ResourceName, names: CatalogNames) -> bool:
    """Whether ``row`` gives anything on ``name`` or inside it."""

    target = grant_rule(row, names).target
    if isinstance(target, ResourceTarget):
        granted = target.resource
        return _inside(name, granted) or _inside(granted, name)
    if isinstance(target, FilterTarget):
        return _inside(target.data_filter.table, name) or _inside(name, target.data_filter.table)
    if isinstance(target, TagTarget):
        index = policy_index(session)
        return any(
            _inside(table, name) or _inside(name, table)
            for table in index.tables_matching(target.expression)
        )
    return False


def _inside(inner: ResourceName, outer: ResourceName) -> bool:
    parts_outer = [outer.domain, outer.database, outer.table, outer.column]
    parts_inner = [inner.domain, inner.database, inner.table, inner.column]
    return all(o is None or o == i for o, i in zip(parts_outer, parts_inner, strict=True))


def target_text(session: Session, row: Grant, names: CatalogNames | None = None) -> str:
    """A grant's target as text (``sales.crm.orders (excluding email)``, a tag expression...)."""
    return str(grant_rule(row, names or CatalogNames(session)).target)
