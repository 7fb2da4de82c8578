"""The history of a product's contract checks: runs and their outcome."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh.store.schema import QualityRun

PASSED, FAILED, ERROR = "passed", "failed", "error"


def run_status(statuses: Iterable[str]) -> str:
    """A run's outcome: ``error`` when a rule could not be measured, else ``failed`` when one
    failed, else ``passed``."""
    found = set(statuses)
    if ERROR in found:
        return ERROR
    return FAILED if FAILED in found else PASSED


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
