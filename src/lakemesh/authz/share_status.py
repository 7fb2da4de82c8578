"""Which grants are shares, and whether their consumer accepted them (DESIGN §3 share).

A share is a grant to ``domain:X`` of objects outside X: a named resource or a data filter of
another domain, or a tag expression not scoped inside X. It takes effect once accepted: by X's
admins (``lakemesh share accept``), by a subscription X asked for, or by the mesh setting
``auto_accept_shares`` while nobody has answered it. The policy loader skips shares that are
pending or declined, so this module reads the store only and imports no service.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.model.names import parse_resource
from lakemesh.model.statuses import ShareStatus
from lakemesh.settings import get_setting
from lakemesh.store.schema import Domain, Grant, Share

PENDING, ACCEPTED, DECLINED, REVOKED = (
    ShareStatus.PENDING,
    ShareStatus.ACCEPTED,
    ShareStatus.DECLINED,
    ShareStatus.REVOKED,
)
SHARE_TARGETS = ("resource", "filter", "tag")
"""Grant targets that give catalog objects; location and tag-value grants to a domain are not
shares (they delegate administration inside the mesh and need no acceptance)."""

ANY_DOMAIN = "*"
"""The ``from_domain`` of a share of a tag expression that spans domains."""


def shared_domain(row: Grant, domains: dict[int, str]) -> str:
    """The domain whose objects ``row`` gives (``*`` for a tag expression across domains)."""
    if row.target_kind == "filter" and row.data_filter is not None:
        return row.data_filter.table.database.domain.name
    if row.target_kind == "tag":
        return parse_resource(row.tag_scope).domain if row.tag_scope else ANY_DOMAIN
    return domains.get(row.domain_id or 0, ANY_DOMAIN)


def is_share(row: Grant, domains: dict[int, str]) -> bool:
    """Whether ``row`` is a share: to a domain principal, of objects outside that domain."""
    grantee = row.grantee
    return (
        grantee.kind == "domain"
        and row.target_kind in SHARE_TARGETS
        and shared_domain(row, domains) != grantee.domain.name
    )


def domain_names(session: Session) -> dict[int, str]:
    """Every domain's name by id."""
    return {i: n for i, n in session.execute(select(Domain.id, Domain.name))}


def share_statuses(session: Session, grants: Iterable[Grant] | None = None) -> dict[int, str]:
    """``{grant id: status}`` of every share among ``grants`` (every grant when None).

    A recorded answer wins; otherwise a share is accepted while ``auto_accept_shares`` is on and
    pending when it is off.
    """
    domains = domain_names(session)
    rows = grants if grants is not None else session.execute(select(Grant)).scalars()
    share_ids = [row.id for row in rows if is_share(row, domains)]
    if not share_ids:
        return {}
    answered = {
        grant_id: status
        for grant_id, status in session.execute(
            select(Share.grant_id, Share.status).where(Share.grant_id.in_(share_ids))
        )
        if grant_id is not None
    }
    unanswered = ACCEPTED if get_setting(session, "auto_accept_shares") else PENDING
    return {grant_id: answered.get(grant_id, unanswered) for grant_id in share_ids}


def inactive_shares(session: Session, grants: Iterable[Grant]) -> set[int]:
    """The ids of the shares among ``grants`` that do not take effect (pending or declined)."""
    return {
        grant_id
        for grant_id, status in share_statuses(session, grants).items()
        if status != ACCEPTED
    }
