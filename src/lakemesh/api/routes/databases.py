"""``/databases``: the databases of each domain's catalog (``domain.database``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import DatabaseCreate, DatabasePublic, DatabaseUpdate
from lakemesh.catalog import databases
from lakemesh.model.names import ResourceName, parse_resource

router = APIRouter(prefix="/databases", tags=["catalog"])


def _database_name(name: str) -> ResourceName:
    return parse_resource(name, level="database")


@router.get("", summary="Databases the caller may see", response_model=list[DatabasePublic])
def list_databases(
    session: SessionDep, actor: CurrentActor, domain: str | None = None
) -> list[DatabasePublic]:
    return [
        DatabasePublic.from_row(row)
        for row in databases.visible_databases(session, actor=actor, domain=domain)
    ]


@router.post(
    "", status_code=201, summary="Create a database in a domain", response_model=DatabasePublic
)
def create_database(
    body: DatabaseCreate, session: SessionDep, actor: CurrentActor
) -> DatabasePublic:
    row = databases.create_database(
        session,
        actor=actor,
        domain=body.domain,
        name=body.name,
        description=body.description or "",
        location=body.location,
    )
    return DatabasePublic.from_row(row)


@router.get("/{name}", summary="One database (domain.database)", response_model=DatabasePublic)
def show_database(name: str, session: SessionDep, actor: CurrentActor) -> DatabasePublic:
    row = databases.show_database(session, actor=actor, name=_database_name(name))
    return DatabasePublic.from_row(row)


@router.patch("/{name}", summary="Change a database's description", response_model=DatabasePublic)
def update_database(
    name: str, body: DatabaseUpdate, session: SessionDep, actor: CurrentActor
) -> DatabasePublic:
    resource = _database_name(name)
    row = databases.alter_database(
        session,
        actor=actor,
        domain=resource.domain,
        name=resource.database or "",
        description=body.description,
    )
    return DatabasePublic.from_row(row)


@router.delete(
    "/{name}",
    status_code=204,
    summary="Drop a database (with its tables: cascade)",
    response_model=None,
)
def drop_database(
    name: str, session: SessionDep, actor: CurrentActor, cascade: bool = False
) -> Response:
    resource = _database_name(name)
    databases.drop_database(
        session, actor=actor, domain=resource.domain, name=resource.database or "", cascade=cascade
    )
    return Response(status_code=204)
