"""``/domains``: units of ownership and their admins."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import DomainAdminCreate, DomainCreate, DomainPublic, DomainUpdate
from lakemesh.catalog import domains
from lakemesh.identity.principals import get_domain_row
from lakemesh.store.schema import Domain


def _public(session: Session, row: Domain) -> DomainPublic:
    return DomainPublic.from_row(row, admins=domains.domain_admins(session, row))


router = APIRouter(prefix="/domains", tags=["domains"])


@router.get("", summary="Every domain", response_model=list[DomainPublic])
def list_domains(session: SessionDep) -> list[DomainPublic]:
    return [_public(session, row) for row in domains.list_domains(session)]


@router.post(
    "", status_code=201, summary="Create a domain (mesh admins)", response_model=DomainPublic
)
def create_domain(body: DomainCreate, session: SessionDep, actor: CurrentActor) -> DomainPublic:
    row = domains.create_domain(
        session,
        actor=actor,
        name=body.name,
        producer=body.producer,
        consumer=body.consumer,
        description=body.description or "",
        admins=body.admins,
    )
    return _public(session, row)


@router.get("/{name}", summary="One domain", response_model=DomainPublic)
def show_domain(name: str, session: SessionDep) -> DomainPublic:
    return _public(session, get_domain_row(session, name))


@router.patch(
    "/{name}",
    summary="Change a domain's flags, description or settings",
    response_model=DomainPublic,
)
def update_domain(
    name: str, body: DomainUpdate, session: SessionDep, actor: CurrentActor
) -> DomainPublic:
    row = domains.update_domain(
        session,
        actor=actor,
        name=name,
        producer=body.producer,
        consumer=body.consumer,
        description=body.description,
        schema_changes=body.schema_changes,
        check_schedule=body.check_schedule,
    )
    return _public(session, row)


@router.delete(
    "/{name}", status_code=204, summary="Delete an empty domain (mesh admins)", response_model=None
)
def delete_domain(name: str, session: SessionDep, actor: CurrentActor) -> Response:
    domains.delete_domain(session, actor=actor, name=name)
    return Response(status_code=204)


@router.post(
    "/{name}/admins", summary="Make a principal an admin of the domain", response_model=DomainPublic
)
def add_admin(
    name: str, body: DomainAdminCreate, session: SessionDep, actor: CurrentActor
) -> DomainPublic:
    domains.add_admin(session, actor=actor, domain=name, principal=body.principal)
    return _public(session, get_domain_row(session, name))


@router.delete(
    "/{name}/admins/{principal}",
    summary="Remove an admin of the domain",
    response_model=DomainPublic,
)
def remove_admin(
    name: str, principal: str, session: SessionDep, actor: CurrentActor
) -> DomainPublic:
    domains.remove_admin(session, actor=actor, domain=name, principal=principal)
    return _public(session, get_domain_row(session, name))
