"""Contract checks of data products: runs and the result of each rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.quality.checks import CheckRun
    from lakemesh.store.schema import QualityResult


class QualityResultPublic(RowModel):
    rule: str = Field(description="The rule's id, or table[.column].metric")
    table: str
    column: str | None
    kind: str = Field(description="library, sql or sla")
    metric: str | None
    dimension: str | None
    threshold: str = Field(description="What the value must be, like '<= 5' or 'between 1 and 9'")
    unit: str
    value: float | None
    status: str = Field(description="passed, failed or error")
    rows_scanned: int | None
    duration_ms: int
    sample: list[dict[str, Any]] | None = Field(
        description="Keys of a few failing rows, PII columns left out (the domain's admins only)"
    )
    message: str | None
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: QualityResult, *, samples: bool) -> QualityResultPublic:
        """One rule's result; ``samples`` shows the failing keys (for the product's admins)."""
        return cls(
            rule=row.rule,
            table=row.table,
            column=row.column,
            kind=row.kind,
            metric=row.metric,
            dimension=row.dimension,
            threshold=row.threshold,
            unit=row.unit,
            value=row.value,
            status=row.status,
            rows_scanned=row.rows_scanned,
            duration_ms=row.duration_ms,
            sample=row.sample if samples else None,
            message=row.message,
            details=dict(row.details or {}),
        )


class QualityRunPublic(RowModel):
    id: int
    product: str
    status: str = Field(description="passed, failed, or error when a rule could not be measured")
    trigger: str
    principal: str = Field(description="Who the checks ran as: service:quality@DOMAIN")
    requested_by: str
    contract_version: str
    started_at: Timestamp
    finished_at: Timestamp
    rules_total: int
    rules_passed: int
    results: list[QualityResultPublic]

    @classmethod
    def from_run(cls, check: CheckRun) -> QualityRunPublic:
        """A run with its results (failure samples only where ``check.samples``)."""
        row = check.row
        return cls(
            id=row.id,
            product=check.product,
            status=row.status,
            trigger=row.trigger,
            principal=row.principal,
            requested_by=row.requested_by,
            contract_version=row.contract_version,
            started_at=row.started_at.isoformat(),
            finished_at=row.finished_at.isoformat(),
            rules_total=row.rules_total,
            rules_passed=row.rules_passed,
            results=[
                QualityResultPublic.from_row(result, samples=check.samples)
                for result in row.results
            ],
        )
