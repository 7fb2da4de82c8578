"""``/groups/{ref}/members``: group membership (groups may nest, never in a cycle)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import GroupMemberCreate, PrincipalPublic
from lakemesh.identity import principals

router = APIRouter(prefix="/groups", tags=["principals"])


@router.post(
    "/{ref}/members",
    summary="Add a member to a group; returns the group",
    response_model=PrincipalPublic,
)
def add_member(
    ref: str, body: GroupMemberCreate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    principals.add_member(session, actor=actor, group=ref, member=body.member)
    return principals.describe_principal(session, principals.get_principal(session, ref))


@router.delete(
    "/{ref}/members/{member}",
    summary="Remove a member from a group; returns the group",
    response_model=PrincipalPublic,
)
def remove_member(
    ref: str, member: str, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    principals.remove_member(session, actor=actor, group=ref, member=member)
    return principals.describe_principal(session, principals.get_principal(session, ref))
