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

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import require_visible, visible
from lakemesh.catalog.databases import create_database, drop_database, get_database_row
from lakemesh.catalog.tables import list_tables
from lakemesh.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier, parse_resource
from lakemesh.sharing.link_access import reads_target_from_home
from lakemesh.sharing.link_status import (
    DATABASE_LINK,
    catalog_object_exists,
    database_link,
    find_link,
    link_name,
    link_status,
)
from lakemesh.sharing.shares import covering_shares, share_record
from lakemesh.store.schema import Database, Domain, ResourceLink, Share


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


def describe(session: Session, row: ResourceLink) -> LinkView:
    """A link with its current status."""
    status, message = link_status(session, row)
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
        if catalog_object_exists(session, link):
            raise AlreadyExistsError(
                f"Database already exists: {link}", details={"database": str(link)}
            )
        return None
    check_identifier(link.table or "", "table name")
    if database_link(session, domain, database) is not None:
        raise ConflictError(
            f"Database {domain}.{database} is a link itself: a table link cannot go inside it",
            details={"link": str(link)},
        )
    if catalog_object_exists(session, link):
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
    if not catalog_object_exists(session, points_to):
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
    return reads_target_from_home(session, actor, name, parse_resource(row.target))


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
