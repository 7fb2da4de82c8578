"""``/tables``: tables of the catalog (``domain.database.table``) and their schema history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

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
from lakemesh.catalog.columns import ColumnSpec, schema_history
from lakemesh.catalog.snapshots import list_snapshots
from lakemesh.governance.tag_assignments import table_tags
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.store.schema import Table

router = APIRouter(prefix="/tables", tags=["catalog"])


def table_public(session: Session, row: Table) -> TablePublic:
    """``row`` as every route answers it: with its tags, and its snapshots when it has any."""
    return TablePublic.from_row(
        row, tags=table_tags(session, row), snapshots=list_snapshots(session, row)
    )


def _table_name(name: str) -> ResourceName:
    return parse_resource(name, level="table")


def _column_specs(columns: list[ColumnCreate]) -> list[ColumnSpec]:
    return [
        ColumnSpec(
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
) -> list[TablePublic]:
    # The same shape as one table's (tags included), so a client reads both alike.
    return [
        table_public(session, row)
        for row in tables.visible_tables(session, actor=actor, domain=domain, database=database)
    ]


@router.post(
    "",
    status_code=201,
    summary="Register a table whose files lie in a location",
    response_model=TablePublic,
)
def create_table(body: TableCreate, session: SessionDep, actor: CurrentActor) -> TablePublic:
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
    return table_public(session, row)


@router.get("/{name}", summary="One table (domain.database.table)", response_model=TablePublic)
def show_table(name: str, session: SessionDep, actor: CurrentActor) -> TablePublic:
    row = tables.show_table(session, actor=actor, name=_table_name(name))
    return table_public(session, row)


@router.patch(
    "/{name}",
    summary="Change a table's description, properties or schema",
    response_model=TableChanged,
)
def update_table(
    name: str, body: TableUpdate, session: SessionDep, actor: CurrentActor
) -> TableChanged:
    resource = _table_name(name)
    changes = tables.alter_table(
        session,
        actor=actor,
        name=resource,
        description=body.description,
        properties=body.properties,
        columns=_column_specs(body.columns) if body.columns is not None else None,
    )
    return TableChanged(
        table=table_public(session, tables.get_table_row(session, resource)), changes=changes
    )


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
    return schema_history(session, row)


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
    # Imported here for the CLI's startup time: the schema review behind a diff loads the
    # contracts (YAML, sqlglot), which an embedded `table list` or `table show` never needs.
    from lakemesh.catalog.table_diff import diff_table

    return diff_table(
        session,
        actor=actor,
        name=_table_name(name),
        from_version=from_version,
        to_version=to_version,
        proposal=proposal,
    )
