"""Contract checks of data products: runs and the result of each rule."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lakemesh.api.schemas.base import ResponseModel, Timestamp


class QualityResultPublic(ResponseModel):
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


class QualityRunPublic(ResponseModel):
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
