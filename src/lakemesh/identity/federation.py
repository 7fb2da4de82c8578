"""Sign-in of a person an identity provider vouched for (OpenID Connect): the principal it names
must exist already, the groups the provider says it belongs to are mirrored onto the lakemesh
groups they map to; the portal then starts its session for that principal. Nothing about the
provider's protocol is here: the portal verifies the ID token and passes what it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.errors import AccessDeniedError, InvalidInputError
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import find_principal
from lakemesh.model.actions import Action
from lakemesh.store.schema import GroupMember, Principal

SIGN_IN_KINDS = frozenset({"user", "service"})


def federated_principal(
    session: Session,
    *,
    issuer: str,
    subject: str,
    principal: str,
    provider_groups: Iterable[str],
    group_map: Mapping[str, str],
) -> Principal:
    """The principal ``issuer`` vouched for, its mapped groups synced with the provider's word.

    ``group_map`` maps provider groups to lakemesh groups. For every lakemesh group it names,
    the principal is made a member when one of ``provider_groups`` maps to it and removed when
    none does (the provider owns those memberships); other groups are left alone. Every change
    and the sign-in itself are audited; the caller starts the portal session.

    Raises:
        AccessDeniedError: no user or service of that name exists (the hub creates no
            principal on a provider's word); audited by the hub's transaction.
    """
    try:
        row = find_principal(session, principal)
    except InvalidInputError:  # the claim holds no principal name at all
        row = None
    if row is None or row.kind not in SIGN_IN_KINDS:
        raise AccessDeniedError(
            f"Sign-in refused: {principal} (named by {issuer}) is not a user or service of "
            "this mesh",
            principal=principal,
            resource=issuer,
            details={"action": Action.OIDC_SIGN_IN, "subject": subject},
        )
    claimed = set(provider_groups)
    wanted = {group for provider, group in group_map.items() if provider in claimed}
    changes = _sync_groups(session, row, managed=set(group_map.values()), wanted=wanted)
    for action, group in changes:
        audit.record(
            session,
            actor=row.ref,
            action=action,
            resource=group,
            details={"member": row.ref, "source": "oidc", "issuer": issuer},
        )
    audit.record(
        session,
        actor=row.ref,
        action=Action.OIDC_SIGN_IN,
        resource=issuer,
        details={"subject": subject, "groups": sorted(load_actor(session, row).groups)},
    )
    return row


def _sync_groups(
    session: Session, row: Principal, *, managed: set[str], wanted: set[str]
) -> list[tuple[Action, str]]:
    """Make ``row`` a member of exactly the ``wanted`` groups among the ``managed`` ones (those
    that exist); the changes made."""
    groups = {
        group.ref: group
        for group in session.execute(
            select(Principal).where(Principal.ref.in_(managed), Principal.kind == "group")
        ).scalars()
    }
    member_of = set(
        session.execute(
            select(GroupMember.group_id).where(
                GroupMember.member_id == row.id,
                GroupMember.group_id.in_([group.id for group in groups.values()]),
            )
        ).scalars()
    )
    changes: list[tuple[Action, str]] = []
    for ref, group in sorted(groups.items()):
        if ref in wanted and group.id not in member_of:
            session.add(GroupMember(group_id=group.id, member_id=row.id))
            changes.append((Action.GROUP_ADD_MEMBER, ref))
        elif ref not in wanted and group.id in member_of:
            link = session.get(GroupMember, (group.id, row.id))
            session.delete(link)
            changes.append((Action.GROUP_REMOVE_MEMBER, ref))
    session.flush()
    return changes
