"""Resource link rows: their names, the links a name finds, and whether a link still works
(broken once its target is gone, or no accepted share covers the target any more)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz.share_status import DECLINED
from lakemesh.catalog.databases import get_database_row
from lakemesh.catalog.tables import get_table_row
from lakemesh.errors import NotFoundError
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.sharing.shares import covering_shares
from lakemesh.store.schema import Database, Domain, ResourceLink, Share

OK, BROKEN = "ok", "broken"
DATABASE_LINK = ""
"""The ``name`` of a database link's row: the consumer database itself is the link."""


def link_name(row: ResourceLink) -> ResourceName:
    """The name the link has in the consumer's catalog."""
    database = row.database
    if row.name == DATABASE_LINK:
        return ResourceName(database.domain.name, database.name)
    return ResourceName(database.domain.name, database.name, row.name)


def database_link(session: Session, domain: str, database: str) -> ResourceLink | None:
    return session.execute(
        select(ResourceLink)
        .join(Database, Database.id == ResourceLink.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .where(Domain.name == domain, Database.name == database, ResourceLink.name == "")
    ).scalar()


def table_link(session: Session, name: ResourceName) -> ResourceLink | None:
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
        return database_link(session, name.domain, name.database or "")
    if name.level == "table":
        return table_link(session, name)
    return None


def catalog_object_exists(session: Session, name: ResourceName) -> bool:
    """Whether the catalog has a database or table of that name (a link is neither)."""
    try:
        if name.level == "database":
            get_database_row(session, name.domain, name.database or "")
        else:
            get_table_row(session, name)
    except NotFoundError:
        return False
    return True


def link_status(session: Session, row: ResourceLink) -> tuple[str, str | None]:
    """``(OK, None)``, or ``(BROKEN, a message naming the target and the share lost)``."""
    name, target = link_name(row), parse_resource(row.target)
    if not catalog_object_exists(session, target):
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
