"""``/groups/{ref}/members``: group membership (groups may nest, never in a cycle)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import GroupMemberCreate, PrincipalPublic
from lakemesh.identity import principals
from lakemesh.store.schema import Principal


def _public(session: Session, row: Principal) -> PrincipalPublic:
    return PrincipalPublic.from_row(row, principals.relations(session, row))


router = APIRouter(prefix="/groups", tags=["principals"])


@router.post(
    "/{ref}/members",
    summary="Add a member to a group; returns the group",
    response_model=PrincipalPublic,
)
def add_member(
    ref: str, body: GroupMemberCreate, session: SessionDep, actor: CurrentActor
) -> PrincipalPublic:
    principals.add_member(session, actor=actor, group=ref, member=body.member)
    return _public(session, principals.get_principal(session, ref))


@router.delete(
    "/{ref}/members/{member}",
    summary="Remove a member from a group; returns the group",
    response_model=PrincipalPublic,
)
def remove_member(
    ref: str, member: str, session: SessionDep, actor: CurrentActor
) -> PrincipalPublic:
    principals.remove_member(session, actor=actor, group=ref, member=member)
    return _public(session, principals.get_principal(session, ref))
