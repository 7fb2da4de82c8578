"""``/filters``: data cells filters (a row predicate and column lists on one table)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import FilterCreate, FilterDeletion, FilterPublic, FilterUpdate
from lakemesh.governance import filters
from lakemesh.store.schema import DataFilterRow


def _public(session: Session, row: DataFilterRow) -> FilterPublic:
    return FilterPublic.from_row(row, filters.filter_grants(session, row))


router = APIRouter(prefix="/filters", tags=["governance"])


@router.get(
    "",
    summary="Filters on tables of the domains the caller administers",
    response_model=list[FilterPublic],
)
def list_filters(
    session: SessionDep, actor: CurrentActor, table: str | None = None
) -> list[FilterPublic]:
    rows = filters.list_filters(session, actor=actor, table=table)
    return [_public(session, row) for row in rows]


@router.post(
    "", status_code=201, summary="Create a data filter on a table", response_model=FilterPublic
)
def create_filter(body: FilterCreate, session: SessionDep, actor: CurrentActor) -> FilterPublic:
    row = filters.create_filter(
        session,
        actor=actor,
        name=body.name,
        table=body.table,
        rows=body.rows,
        columns=body.columns,
        excluded_columns=body.excluded_columns,
    )
    return _public(session, row)


@router.get(
    "/{name}",
    summary="One filter (table= when the name is used on several tables)",
    response_model=FilterPublic,
)
def show_filter(
    name: str, session: SessionDep, actor: CurrentActor, table: str | None = None
) -> FilterPublic:
    row = filters.show_filter(session, actor=actor, name=name, table=table)
    return _public(session, row)


@router.patch(
    "/{name}",
    summary="Change a filter's rows or columns (and so its grants)",
    response_model=FilterPublic,
)
def update_filter(
    name: str,
    body: FilterUpdate,
    session: SessionDep,
    actor: CurrentActor,
    table: str | None = None,
) -> FilterPublic:
    row = filters.update_filter(
        session,
        actor=actor,
        name=name,
        table=table,
        rows=body.rows,
        all_rows=body.all_rows,
        columns=body.columns,
        excluded_columns=body.excluded_columns,
        all_columns=body.all_columns,
    )
    return _public(session, row)


@router.delete(
    "/{name}",
    summary="Delete a filter; force=true also revokes the grants using it",
    response_model=FilterDeletion,
)
def delete_filter(
    name: str,
    session: SessionDep,
    actor: CurrentActor,
    table: str | None = None,
    force: bool = False,
) -> FilterDeletion:
    deleted = filters.delete_filter(session, actor=actor, name=name, table=table, force=force)
    return FilterDeletion.of(deleted)
