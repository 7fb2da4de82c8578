"""``/grants``: grant and revoke permissions (DESIGN §4), list grants by principal or resource."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.paths import Id
from lakemesh.api.schemas import GrantCreate, GrantPublic, Revoked
from lakemesh.governance import grants
from lakemesh.store.schema import Grant


def _public(session: Session, row: Grant) -> GrantPublic:
    return GrantPublic.from_row(row, target=grants.target_text(session, row))


router = APIRouter(prefix="/grants", tags=["governance"])


@router.get(
    "",
    summary="Grants to a principal and/or on a resource, as far as the caller sees",
    response_model=list[GrantPublic],
)
def list_grants(
    session: SessionDep,
    actor: CurrentActor,
    principal: str | None = None,
    resource: str | None = None,
) -> list[GrantPublic]:
    rows = grants.list_grants(session, actor=actor, principal=principal, resource=resource)
    return [_public(session, row) for row in rows]


@router.post(
    "", status_code=201, summary="Grant permissions to a principal", response_model=GrantPublic
)
def create_grant(body: GrantCreate, session: SessionDep, actor: CurrentActor) -> GrantPublic:
    row = grants.grant(session, actor=actor, grantee=body.grantee, request=body.request())
    return _public(session, row)


@router.post(
    "/revoke",
    summary="Take permissions back (mirrors a grant); derived grants go too. Returns the ids "
    "of the grants revoked or narrowed",
    response_model=Revoked,
)
def revoke(body: GrantCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    changed = grants.revoke(session, actor=actor, grantee=body.grantee, request=body.request())
    return {"revoked": changed}


@router.delete(
    "/{grant_id}",
    summary="Revoke one grant and every grant derived from it; returns their ids",
    response_model=Revoked,
)
def revoke_grant(grant_id: Id, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return {"revoked": grants.revoke_grant(session, actor=actor, grant_id=grant_id)}
