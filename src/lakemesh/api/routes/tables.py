"""``/tables``: tables of the catalog (``domain.database.table``) and their schema history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import (
    ColumnCreate,
    SchemaVersionPublic,
    TableChanged,
    TableCreate,
    TablePublic,
    TableUpdate,
)
from lakemesh.api.schemas.tables import TableDiffPublic
from lakemesh.catalog import tables
from lakemesh.catalog.table_diff import diff_table
from lakemesh.governance import tag_assignments
from lakemesh.model.names import ResourceName, parse_resource

router = APIRouter(prefix="/tables", tags=["catalog"])


def _table_name(name: str) -> ResourceName:
    return parse_resource(name, level="table")


def _column_specs(columns: list[ColumnCreate]) -> list[tables.ColumnSpec]:
    return [
        tables.ColumnSpec(
            c.name,
            c.type,
            is_partition=c.partition,
            description=c.description or "",
            nullable=c.nullable,
        )
        for c in columns
    ]


@router.get("", summary="Tables the caller may see", response_model=list[TablePublic])
def list_tables(
    session: SessionDep,
    actor: CurrentActor,
    domain: str | None = None,
    database: str | None = None,
) -> list[dict[str, Any]]:
    # The same shape as one table's (tags included), so a client reads both alike.
    return [
        tag_assignments.describe_tagged_table(session, row)
        for row in tables.visible_tables(session, actor=actor, domain=domain, database=database)
    ]


@router.post(
    "",
    status_code=201,
    summary="Register a table whose files lie in a location",
    response_model=TablePublic,
)
def create_table(body: TableCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = tables.create_table(
        session,
        actor=actor,
        name=_table_name(body.name),
        location=body.location,
        format=body.format,
        columns=_column_specs(body.columns),
        description=body.description or "",
        properties=body.properties,
    )
    return tag_assignments.describe_tagged_table(session, row)


@router.get("/{name}", summary="One table (domain.database.table)", response_model=TablePublic)
def show_table(name: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = tables.show_table(session, actor=actor, name=_table_name(name))
    return tag_assignments.describe_tagged_table(session, row)


@router.patch(
    "/{name}",
    summary="Change a table's description, properties or schema",
    response_model=TableChanged,
)
def update_table(
    name: str, body: TableUpdate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    resource = _table_name(name)
    changes = tables.alter_table(
        session,
        actor=actor,
        name=resource,
        description=body.description,
        properties=body.properties,
        columns=_column_specs(body.columns) if body.columns is not None else None,
    )
    return {
        "table": tag_assignments.describe_tagged_table(
            session, tables.get_table_row(session, resource)
        ),
        "changes": changes,
    }


@router.delete(
    "/{name}",
    status_code=204,
    summary="Remove a table from the catalog (files stay)",
    response_model=None,
)
def drop_table(name: str, session: SessionDep, actor: CurrentActor) -> Response:
    tables.drop_table(session, actor=actor, name=_table_name(name))
    return Response(status_code=204)


@router.get(
    "/{name}/history",
    summary="The table's schema versions, oldest first",
    response_model=list[SchemaVersionPublic],
)
def table_history(name: str, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    row = tables.show_table(session, actor=actor, name=_table_name(name))
    return tables.schema_history(session, row)


@router.get(
    "/{name}/diff",
    summary="Two schema versions compared (default: the current one and the one before)",
    response_model=TableDiffPublic,
)
def table_diff(
    name: str,
    session: SessionDep,
    actor: CurrentActor,
    from_version: Annotated[int | None, Query(alias="from", ge=1, le=2**31)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=2**31)] = None,
    proposal: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    return diff_table(
        session,
        actor=actor,
        name=_table_name(name),
        from_version=from_version,
        to_version=to_version,
        proposal=proposal,
    )
