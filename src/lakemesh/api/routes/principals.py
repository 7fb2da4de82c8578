"""``/principals``: users, groups and services of a domain, and their attributes."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import PrincipalCreate, PrincipalPublic, PrincipalUpdate
from lakemesh.identity import principals
from lakemesh.store.schema import Principal


def _public(session: Session, row: Principal) -> PrincipalPublic:
    return PrincipalPublic.from_row(row, principals.relations(session, row))


router = APIRouter(prefix="/principals", tags=["principals"])


@router.get(
    "",
    summary="Principals of a domain (or of every domain the caller administers)",
    response_model=list[PrincipalPublic],
)
def list_principals(
    session: SessionDep,
    actor: CurrentActor,
    domain: str | None = None,
    kind: str | None = None,
) -> list[PrincipalPublic]:
    rows = principals.list_principals(session, actor=actor, domain=domain, kind=kind)
    return [_public(session, row) for row in rows]


@router.post(
    "", status_code=201, summary="Create a user, group or service", response_model=PrincipalPublic
)
def create_principal(
    body: PrincipalCreate, session: SessionDep, actor: CurrentActor
) -> PrincipalPublic:
    row = principals.create_principal(
        session, actor=actor, principal=body.name, attributes=body.attributes
    )
    return _public(session, row)


@router.get(
    "/{ref}", summary="One principal (e.g. user:alice@marketing)", response_model=PrincipalPublic
)
def show_principal(ref: str, session: SessionDep, actor: CurrentActor) -> PrincipalPublic:
    row = principals.show_principal(session, actor=actor, principal=ref)
    return _public(session, row)


@router.patch(
    "/{ref}",
    summary="Set and unset attributes of a user or service (mesh admins and each key's delegates)",
    response_model=PrincipalPublic,
)
def update_principal(
    ref: str, body: PrincipalUpdate, session: SessionDep, actor: CurrentActor
) -> PrincipalPublic:
    row = principals.update_attributes(
        session, actor=actor, principal=ref, set_=body.set, unset=body.unset
    )
    return _public(session, row)


@router.delete(
    "/{ref}", status_code=204, summary="Delete a user, group or service", response_model=None
)
def delete_principal(ref: str, session: SessionDep, actor: CurrentActor) -> Response:
    principals.delete_principal(session, actor=actor, principal=ref)
    return Response(status_code=204)
