"""The history of a product's contract checks: runs and their results as the API shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh.store.schema import QualityResult, QualityRun

PASSED, FAILED, ERROR = "passed", "failed", "error"


def run_status(statuses: Iterable[str]) -> str:
    """A run's outcome: ``error`` when a rule could not be measured, else ``failed`` when one
    failed, else ``passed``."""
    found = set(statuses)
    if ERROR in found:
        return ERROR
    return FAILED if FAILED in found else PASSED


def describe_result(row: QualityResult, *, samples: bool) -> dict[str, Any]:
    """One rule's result; ``samples`` shows the failing keys (for the product's admins)."""
    return {
        "rule": row.rule,
        "table": row.table,
        "column": row.column,
        "kind": row.kind,
        "metric": row.metric,
        "dimension": row.dimension,
        "threshold": row.threshold,
        "unit": row.unit,
        "value": row.value,
        "status": row.status,
        "rows_scanned": row.rows_scanned,
        "duration_ms": row.duration_ms,
        "sample": row.sample if samples else None,
        "message": row.message,
        "details": dict(row.details or {}),
    }


def describe_run(row: QualityRun, *, product: str, samples: bool) -> dict[str, Any]:
    """A run with its results."""
    return {
        "id": row.id,
        "product": product,
        "status": row.status,
        "trigger": row.trigger,
        "principal": row.principal,
        "requested_by": row.requested_by,
        "contract_version": row.contract_version,
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat(),
        "rules_total": row.rules_total,
        "rules_passed": row.rules_passed,
        "results": [describe_result(result, samples=samples) for result in row.results],
    }


def product_runs(session: Session, product_id: int, *, limit: int = 20) -> list[QualityRun]:
    """The product's latest runs, newest first."""
    return list(
        session.execute(
            select(QualityRun)
            .where(QualityRun.product_id == product_id)
            .order_by(QualityRun.id.desc())
            .limit(limit)
        ).scalars()
    )


def latest_runs(session: Session, product_ids: Iterable[int]) -> dict[int, QualityRun]:
    """Each product's newest run (products never checked are left out), in one query."""
    ids = list(product_ids)
    if not ids:
        return {}
    newest = (
        select(func.max(QualityRun.id))
        .where(QualityRun.product_id.in_(ids))
        .group_by(QualityRun.product_id)
    )
    rows = session.execute(select(QualityRun).where(QualityRun.id.in_(newest))).scalars()
    return {row.product_id: row for row in rows}
