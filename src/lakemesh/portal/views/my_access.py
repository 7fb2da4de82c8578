"""The "My access" page: my subscriptions, the grants that reach me and how, my tokens.

Everything is read through the services the REST API calls (``/subscriptions``, ``/grants``,
``/tokens``), as the viewer: the page shows no more than those answers would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lakemesh.authz import CatalogNames, subject_of
from lakemesh.governance import grant_listing
from lakemesh.identity import tokens
from lakemesh.model.actors import Actor
from lakemesh.sharing import subscriptions
from lakemesh.sharing.subscriptions import SubscriptionRecord
from lakemesh.store.schema import ApiToken, Grant

TARGET_KINDS = {
    "resource": "named resource",
    "tag": "tag expression",
    "filter": "data filter",
    "location": "location",
    "tag_values": "tag values (ASSOCIATE)",
}


@dataclass(frozen=True)
class ReachingGrant:
    """A grant that reaches the viewer, and the way it does."""

    id: int
    permissions: tuple[str, ...]
    target: str
    kind: str
    grantee: str
    via: str
    granted_by: str
    with_grant_option: bool
    created_at: datetime


@dataclass(frozen=True)
class TokenLine:
    """One of my tokens, without its secret."""

    id: int
    prefix: str
    description: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


@dataclass(frozen=True)
class MyAccess:
    """What the "My access" page shows."""

    principal: str
    groups: tuple[str, ...]
    admin_of: tuple[str, ...]
    subscriptions: list[SubscriptionRecord]
    grants: list[ReachingGrant]
    tokens: list[TokenLine]


def _via(viewer: Actor, row: Grant, shares: set[int]) -> str:
    grantee = row.grantee.ref
    if row.parent_id is not None and row.parent_id in shares:
        way = f"delegated from share #{row.parent_id}"
        return way if grantee == viewer.ref else f"{way}, to {grantee}"
    if grantee == viewer.ref:
        return "direct"
    if grantee.startswith("group:"):
        return f"through group {grantee}"
    if grantee.startswith("domain:"):
        return f"through a share to {grantee}"
    return f"through {grantee}"


def reaching_grants(session: Session, *, viewer: Actor) -> list[ReachingGrant]:
    """The grants ``GET /grants`` shows the viewer that reach it: to itself, its groups
    (transitively) and, for a domain's admins, to the domain (shares), each with its way."""
    reaching = {str(grantee) for grantee in subject_of(session, viewer).grantees}
    rows = grant_listing.list_grants(session, actor=viewer)
    names = CatalogNames(session)
    parents = {row.parent_id for row in rows if row.parent_id is not None}
    # The API shows a grant's parent as derived_from; which of them are shares (grants to a
    # domain) is read from the store, since the share itself may be out of the viewer's sight.
    shares = {
        parent
        for parent in parents
        if (parent_grant := session.get(Grant, parent)) is not None
        and parent_grant.grantee.ref.startswith("domain:")
    }
    found: list[ReachingGrant] = []
    for row in rows:
        if row.grantee.ref not in reaching:
            continue
        found.append(
            ReachingGrant(
                id=row.id,
                permissions=tuple(row.permissions),
                target=grant_listing.target_text(session, row, names),
                kind=TARGET_KINDS.get(row.target_kind, row.target_kind),
                grantee=row.grantee.ref,
                via=_via(viewer, row, shares),
                granted_by=row.granted_by,
                with_grant_option=row.with_grant_option,
                created_at=row.created_at,
            )
        )
    return found


def token_lines(rows: Sequence[ApiToken]) -> list[TokenLine]:
    """Tokens as the page lists them, newest first."""
    return [
        TokenLine(
            id=row.id,
            prefix=row.prefix,
            description=row.description,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            active=tokens.is_active(row),
        )
        for row in sorted(rows, key=lambda row: row.id, reverse=True)
    ]


def my_subscriptions(session: Session, *, viewer: Actor) -> list[SubscriptionRecord]:
    """Subscriptions for the viewer or its groups, or that it requested, newest first."""
    mine = {viewer.ref, *viewer.groups}
    return [
        subscriptions.subscription_record(session, row)
        for row in subscriptions.list_subscriptions(session, actor=viewer)
        if row.principal in mine or row.requested_by == viewer.ref
    ]


def my_access(session: Session, *, viewer: Actor) -> MyAccess:
    """Everything the page shows, read as ``viewer``."""
    return MyAccess(
        principal=viewer.ref,
        groups=tuple(sorted(viewer.groups)),
        admin_of=tuple(sorted(viewer.admin_of)),
        subscriptions=my_subscriptions(session, viewer=viewer),
        grants=reaching_grants(session, viewer=viewer),
        tokens=token_lines(tokens.list_tokens(session, actor=viewer)),
    )
