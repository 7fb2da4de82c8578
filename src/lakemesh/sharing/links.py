"""Resource links: names in a consumer's catalog that stand for shared databases and tables.

``analytics.shared_sales.orders`` → ``sales.crm.orders`` is a table link inside the consumer
database ``analytics.shared_sales`` (made when missing); ``analytics.shared_crm`` → ``sales.crm``
is a database link: the consumer database itself, whose tables are the target's tables.

Reading through a link needs the permission on the target, and the right to use the link: a
principal of the link's own domain who may read the target uses the links to it in its domain's
catalog with no grant on the link (Lake Formation would want DESCRIBE on every link); anyone else
needs DESCRIBE on the link, which is DESCRIBE on the consumer database that is or holds it (its
domain's admins have it; ``lakemesh grant DESCRIBE --on analytics.shared_sales --to ...`` gives
it to others). ``explain`` on a link explains the target and says why the link may be used. A link
remembers the share it relied on when made; once that share is revoked (and no other accepted
share covers the target) the link is broken, and reading through it is denied with a message
naming the target and the revoked share. Other links keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import decide, require_visible, visible
from lakemesh.authz.share_status import DECLINED
from lakemesh.catalog.databases import create_database, drop_database, get_database_row
from lakemesh.catalog.tables import get_table_row, list_tables
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.governance import explanations
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_domain_row, get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision
from lakemesh.sharing.shares import covering_shares, share_record
from lakemesh.store.schema import Database, Domain, ResourceLink, Share

OK, BROKEN = "ok", "broken"
DATABASE_LINK = ""
"""The ``name`` of a database link's row: the consumer database itself is the link."""


@dataclass(frozen=True)
class LinkView:
    """A link as ``lakemesh link list`` shows it, with whether it still works."""

    name: str
    target: str
    kind: str  # table | database
    status: str
    message: str | None
    share: int | None
    created_by: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "domain": self.name.split(".", 1)[0],
            "status": self.status,
            "message": self.message,
            "share": self.share,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


def link_name(row: ResourceLink) -> ResourceName:
    """The name the link has in the consumer's catalog."""
    database = row.database
    if row.name == DATABASE_LINK:
        return ResourceName(database.domain.name, database.name)
    return ResourceName(database.domain.name, database.name, row.name)


def _database_link(session: Session, domain: str, database: str) -> ResourceLink | None:
    return session.execute(
        select(ResourceLink)
        .join(Database, Database.id == ResourceLink.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .where(Domain.name == domain, Database.name == database, ResourceLink.name == "")
    ).scalar()


def _table_link(session: Session, name: ResourceName) -> ResourceLink | None:
    return session.execute(
        select(ResourceLink)
        .join(Database, Database.id == ResourceLink.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .where(
            Domain.name == name.domain,
            Database.name == name.database,
            ResourceLink.name == name.table,
        )
    ).scalar()


def find_link(session: Session, name: ResourceName) -> ResourceLink | None:
    """The link named ``name`` (a table link, or a database link for a database name)."""
    if name.level == "database":
        return _database_link(session, name.domain, name.database or "")
    if name.level == "table":
        return _table_link(session, name)
    return None


def _exists(session: Session, name: ResourceName) -> bool:
    try:
        if name.level == "database":
            get_database_row(session, name.domain, name.database or "")
        else:
            get_table_row(session, name)
    except NotFoundError:
        return False
    return True


def _status(session: Session, row: ResourceLink) -> tuple[str, str | None]:
    name, target = link_name(row), parse_resource(row.target)
    if not _exists(session, target):
        return BROKEN, f"Link {name} is broken: its target {target} does not exist any more"
    share = (
        session.execute(
            select(Share).where(Share.id == row.share_id).execution_options(populate_existing=True)
        ).scalar()
        if row.share_id is not None
        else None
    )
    if share is None or (share.grant_id is not None and share.status != DECLINED):
        return OK, None
    if covering_shares(session, consumer=name.domain, target=target):
        return OK, None  # shared again since: the link works again
    what = "declined" if share.grant_id is not None else "revoked"
    return BROKEN, (
        f"Link {name} is broken: its target {target} is no longer shared with {name.domain} "
        f"(share #{share.grant_ref} of {share.resource} was {what})"
    )


def describe(session: Session, row: ResourceLink) -> LinkView:
    """A link with its current status."""
    status, message = _status(session, row)
    share = session.get(Share, row.share_id) if row.share_id is not None else None
    return LinkView(
        name=str(link_name(row)),
        target=row.target,
        kind="database" if row.name == DATABASE_LINK else "table",
        status=status,
        message=message,
        share=share.grant_ref if share is not None else None,
        created_by=row.created_by,
        created_at=row.created_at.isoformat(),
    )


def _parse_pair(name: str, target: str) -> tuple[ResourceName, ResourceName]:
    link, points_to = parse_resource(name), parse_resource(target)
    if link.level not in ("database", "table"):
        raise InvalidInputError(
            f"A link is named DOMAIN.DATABASE.TABLE or DOMAIN.DATABASE, got {link}",
            details={"link": name},
        )
    if points_to.level != link.level:
        raise InvalidInputError(
            f"A {link.level} link points to a {link.level}, got {points_to.level} {points_to}",
            details={"link": name, "target": target},
        )
    if link.domain == points_to.domain:
        raise InvalidInputError(
            f"A link points to another domain's {link.level}: {link} and {points_to} are both "
            f"in {link.domain}",
            details={"link": name, "target": target},
        )
    return link, points_to


def _same(session: Session, row: ResourceLink, target: ResourceName) -> LinkView:
    if parse_resource(row.target) != target:
        raise AlreadyExistsError(
            f"Link already exists: {link_name(row)} -> {row.target}",
            details={"link": str(link_name(row)), "target": row.target},
        )
    return describe(session, row)


def _prepare_database(session: Session, *, actor: Actor, link: ResourceName) -> Database | None:
    """The consumer database a table link goes in (None: create it); refuse name clashes."""
    domain, database = link.domain, link.database or ""
    if link.level == "database":
        if _exists(session, link):
            raise AlreadyExistsError(
                f"Database already exists: {link}", details={"database": str(link)}
            )
        return None
    check_identifier(link.table or "", "table name")
    if _database_link(session, domain, database) is not None:
        raise ConflictError(
            f"Database {domain}.{database} is a link itself: a table link cannot go inside it",
            details={"link": str(link)},
        )
    if _exists(session, link):
        raise AlreadyExistsError(f"Table already exists: {link}", details={"table": str(link)})
    try:
        return get_database_row(session, domain, database)
    except NotFoundError:
        return create_database(session, actor=actor, domain=domain, name=database)


def create_link(session: Session, *, actor: Actor, name: str, target: str) -> LinkView:
    """Create a table or database link in a domain ``actor`` administers (idempotent).

    Raises:
        InvalidInputError: the names are not a table and a table (or two databases) of two
            domains.
        AccessDeniedError: the actor does not administer the link's domain or may not DESCRIBE
            the target.
        NotFoundError: the target does not exist.
        AlreadyExistsError: the name is taken by a table, a database or a link elsewhere.
    """
    link, points_to = _parse_pair(name, target)
    actor.require_domain_admin(link.domain, action=Action.LINK_CREATE, resource=str(link))
    existing = find_link(session, link)
    if existing is not None:
        return _same(session, existing, points_to)
    # Visibility first: a target the actor may not see reads as one that does not exist.
    require_visible(session, actor, points_to, action=Action.LINK_CREATE)
    if not _exists(session, points_to):
        what = "Table" if points_to.level == "table" else "Database"
        raise NotFoundError(
            f"{what} does not exist: {points_to}", details={"target": str(points_to)}
        )
    database = _prepare_database(session, actor=actor, link=link)
    if database is None:
        database = create_database(
            session,
            actor=actor,
            domain=link.domain,
            name=link.database or "",
            description=f"Resource link to {points_to}",
        )
    shares = covering_shares(session, consumer=link.domain, target=points_to)
    share = share_record(session, shares[0]) if shares else None
    row = ResourceLink(
        database_id=database.id,
        name=link.table or DATABASE_LINK,
        target=str(points_to),
        share_id=share.id if share is not None else None,
        created_by=actor.ref,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.LINK_CREATE,
        resource=str(link),
        details={"target": str(points_to), "share": share.grant_ref if share else None},
    )
    return describe(session, row)


def _visible(session: Session, actor: Actor, row: ResourceLink) -> bool:
    name = link_name(row)
    if visible(session, actor, ResourceName(name.domain, name.database)):
        return True
    if row.name == DATABASE_LINK:
        return False
    return _reads_target_from_home(session, actor, name, parse_resource(row.target))


def _reads_target_from_home(
    session: Session, actor: Actor, link: ResourceName, target: ResourceName
) -> bool:
    """Whether ``actor`` may use ``link`` without DESCRIBE on it: the link is in its own
    domain's catalog and ``actor`` may read the table it points to."""
    if actor.domain != link.domain:
        return False
    try:
        decision = decide(session, actor=actor, permission=Permission.SELECT, resource=target)
    except NotFoundError:
        return False
    return decision.allowed


def list_links(session: Session, *, actor: Actor, domain: str | None = None) -> list[LinkView]:
    """The links ``actor`` may DESCRIBE (optionally of one domain), broken ones included."""
    query = (
        select(ResourceLink)
        .join(Database, Database.id == ResourceLink.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .order_by(Domain.name, Database.name, ResourceLink.name)
    )
    if domain is not None:
        get_domain_row(session, domain)
        query = query.where(Domain.name == domain)
    rows = session.execute(query).scalars()
    return [describe(session, row) for row in rows if _visible(session, actor, row)]


def _get_link(session: Session, *, actor: Actor, name: str, action: Action) -> ResourceLink:
    link = parse_resource(name)
    row = find_link(session, link)
    if row is None or not _visible(session, actor, row):
        missing = NotFoundError(f"Link does not exist: {link}", details={"link": str(link)})
        if row is None:
            raise missing
        raise actor.conceal(
            missing,
            reason=f"{actor.ref} lacks DESCRIBE on {link.domain}.{link.database}",
            action=action,
            resource=str(link),
        )
    return row


def show_link(session: Session, *, actor: Actor, name: str) -> LinkView:
    """One link ``actor`` may DESCRIBE."""
    return describe(session, _get_link(session, actor=actor, name=name, action=Action.LINK_SHOW))


def drop_link(session: Session, *, actor: Actor, name: str) -> None:
    """Remove a link (a database link's database goes with it; the target stays)."""
    row = _get_link(session, actor=actor, name=name, action=Action.LINK_DROP)
    link = link_name(row)
    actor.require_domain_admin(link.domain, action=Action.LINK_DROP, resource=str(link))
    is_database_link = row.name == DATABASE_LINK
    if is_database_link and list_tables(session, domain=link.domain, database=link.database):
        raise ConflictError(
            f"Database {link} holds tables besides being a link; drop them first",
            details={"link": str(link)},
        )
    target = row.target
    session.delete(row)
    session.flush()
    if is_database_link:
        drop_database(session, actor=actor, domain=link.domain, name=link.database or "")
    audit.record(
        session,
        actor=actor.ref,
        action=Action.LINK_DROP,
        resource=str(link),
        details={"target": target},
    )


def resolve_link(session: Session, name: ResourceName) -> ResourceName | None:
    """The table ``name`` stands for through a link, or None when no link is involved.

    A table link maps its own name; a database link maps every table name inside it.
    """
    if name.level != "table":
        return None
    row = _table_link(session, name)
    if row is not None:
        return parse_resource(row.target)
    row = _database_link(session, name.domain, name.database or "")
    if row is not None:
        target = parse_resource(row.target)
        return ResourceName(target.domain, target.database, name.table)
    return None


def broken_link_error(actor: Actor, row: ResourceLink, message: str) -> AccessDeniedError:
    """The denial for reading through a broken link: the message names target and share."""
    return AccessDeniedError(
        message,
        details={
            "principal": actor.ref,
            "action": Action.QUERY,
            "resource": str(link_name(row)),
            "link": str(link_name(row)),
            "target": row.target,
        },
    )


def follow_link(session: Session, *, actor: Actor, name: ResourceName) -> ResourceName:
    """The table a name of a query stands for (the query service's hook).

    A catalog table of that name wins; a link is followed only for ``actor`` with DESCRIBE on
    it or, in the link's own domain, with SELECT on its target, and only while it is not broken.
    The caller then checks the permission on the target.

    Raises:
        AccessDeniedError: no DESCRIBE on the link, or the link is broken.
    """
    if name.level != "table" or _exists(session, name):
        return name
    target = resolve_link(session, name)
    if target is None:
        return name
    row = _table_link(session, name) or _database_link(session, name.domain, name.database or "")
    assert row is not None
    if not (
        visible(session, actor, ResourceName(name.domain, name.database))
        or _reads_target_from_home(session, actor, name, target)
    ):
        raise actor.deny(
            f"{actor.ref} lacks DESCRIBE on {name}", action=Action.QUERY, resource=str(name)
        )
    status, message = _status(session, row)
    if status == BROKEN:
        raise broken_link_error(actor, row, message or f"Link {name} is broken")
    return target


def explain_access(
    session: Session, *, actor: Actor, principal: str, permission: Permission, resource: str
) -> Decision:
    """:func:`lakemesh.governance.decisions.explain`, through a resource link when ``resource``
    names one: the target's decision, with the reasons the link may (or may not) be used."""
    name = None if "://" in resource or resource.startswith("tag:") else parse_resource(resource)
    target = None
    if name is not None and name.level == "table" and not _exists(session, name):
        target = resolve_link(session, name)
    if name is None or target is None:
        return explanations.explain(
            session, actor=actor, principal=principal, permission=permission, resource=resource
        )
    decision = explanations.explain(
        session, actor=actor, principal=principal, permission=permission, resource=str(target)
    )
    subject = load_actor(session, get_principal(session, principal))
    link_line = f"{name} is a resource link to {target}"
    if visible(session, subject, ResourceName(name.domain, name.database)):
        usable = f"{subject.ref} may use the link (DESCRIBE on {name.domain}.{name.database})"
    elif _reads_target_from_home(session, subject, name, target):
        usable = (
            f"{subject.ref} may use the link: it is in {subject.ref}'s own domain's catalog and "
            f"{subject.ref} may read {target} (no DESCRIBE on the link needed)"
        )
    else:
        usable = f"{subject.ref} may not use the link: it lacks DESCRIBE on {name}"
        return replace(decision, allowed=False, reasons=[link_line, usable, *decision.reasons])
    return replace(decision, reasons=[link_line, usable, *decision.reasons])
