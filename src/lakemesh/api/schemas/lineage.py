"""Lineage: OpenLineage events recorded, and a table's lineage graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import ResponseModel, RowModel

if TYPE_CHECKING:
    from lakemesh.lineage.events import RecordedRun
    from lakemesh.lineage.graph import LineageStep as LineageStepRecord
    from lakemesh.lineage.graph import TableLineage as TableLineageRecord


class LineageRecorded(RowModel):
    run_id: str
    job: str = Field(description="namespace/name of the event's job")
    edges: int = Field(description="New input-to-output edges recorded")

    @classmethod
    def from_row(cls, row: RecordedRun) -> LineageRecorded:
        return cls(run_id=row.run_id, job=row.job, edges=row.edges)


class LineageStep(ResponseModel):
    depth: int
    node: dict[str, Any] = Field(
        description='{"kind": "table"|"dataset", "name"} or {"kind", "hidden": true}'
    )
    via: str | None = Field(description="The job, when both ends are visible")

    @classmethod
    def from_row(cls, row: LineageStepRecord) -> LineageStep:
        return cls(depth=row.depth, node=dict(row.node), via=row.via)


class TableLineage(ResponseModel):
    table: str
    upstream: list[LineageStep]
    downstream: list[LineageStep]

    @classmethod
    def from_row(cls, row: TableLineageRecord) -> TableLineage:
        return cls(
            table=row.table,
            upstream=[LineageStep.from_row(step) for step in row.upstream],
            downstream=[LineageStep.from_row(step) for step in row.downstream],
        )


class OpenLineageEvent(ResponseModel):
    """A RunEvent of the OpenLineage spec (its own camelCase field names)."""

    eventType: str
    eventTime: str
    producer: str
    schemaURL: str
    run: dict[str, Any] = Field(description="runId and facets (lakemesh_hidden_inputs.count)")
    job: dict[str, Any] = Field(description="namespace and name")
    inputs: list[dict[str, Any]] = Field(description="namespace and name of each visible input")
    outputs: list[dict[str, Any]]


class UpstreamProduct(ResponseModel):
    product: str
    domain: str
    status: str
    depth: int = Field(description="Steps from the nearest of the product's tables")
    tables: list[str] = Field(description="Its tables the product derives from")
    health: dict[str, Any] = Field(description="As product show gives it")


class ProductLineage(ResponseModel):
    product: str
    health: dict[str, Any]
    upstream: list[UpstreamProduct]
    upstream_tables: list[str] = Field(description="Every upstream table the caller may see")
    hidden: int = Field(description="Upstream steps the caller may not see (not named), per table")
    late_upstream: list[str] = Field(description="Upstream products late against their SLA")
