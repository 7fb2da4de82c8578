"""``/lineage``: OpenLineage run events from producers' engines, and tables' lineage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from lakemesh import lineage
from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas.lineage import (
    LineageRecorded,
    OpenLineageEvent,
    ProductLineage,
    TableLineage,
)

router = APIRouter(prefix="/lineage", tags=["lineage"])

Depth = Annotated[
    int, Query(ge=1, le=lineage.MAX_DEPTH, description="How many steps to follow each way")
]


@router.post(
    "",
    summary="Accept an OpenLineage RunEvent: its inputs become the lineage of its outputs "
    "(INSERT on each output table)",
    response_model=LineageRecorded,
)
def record_event(
    event: Annotated[dict[str, Any], Body(description="An OpenLineage RunEvent")],
    session: SessionDep,
    actor: CurrentActor,
) -> LineageRecorded:
    return LineageRecorded.from_row(lineage.record_event(session, actor=actor, event=event))


@router.get(
    "/products/{product}",
    summary="The data products a product derives from, each with its health",
    response_model=ProductLineage,
)
def product_lineage(
    product: str,
    session: SessionDep,
    actor: CurrentActor,
    depth: Depth = lineage.DEFAULT_DEPTH,
) -> dict[str, Any]:
    return lineage.product_lineage(session, actor=actor, product=product, depth=depth)


@router.get(
    "/{table}",
    summary="What a table derives from and what derives from it (hidden where the caller may "
    "not DESCRIBE)",
    response_model=TableLineage,
)
def table_lineage(
    table: str,
    session: SessionDep,
    actor: CurrentActor,
    depth: Depth = lineage.DEFAULT_DEPTH,
) -> TableLineage:
    return TableLineage.from_row(
        lineage.table_lineage(session, actor=actor, table=table, depth=depth)
    )


@router.get(
    "/{table}/openlineage",
    summary="The table's lineage as OpenLineage RunEvents (one per job that wrote it)",
    response_model=list[OpenLineageEvent],
)
def export_events(table: str, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return lineage.export_events(session, actor=actor, table=table)
