"""Quality checks of data products: each run and the result of each rule, kept as history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.types import UTCDateTime


class QualityRun(Base):
    """One run of a product's contract checks (quality rules and SLAs), by whom and why."""

    __tablename__ = "quality_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("data_products.id", ondelete="CASCADE"), index=True
    )
    contract_version: Mapped[str] = mapped_column(String(50))
    principal: Mapped[str] = mapped_column(String(300))
    requested_by: Mapped[str] = mapped_column(String(300))
    trigger: Mapped[str] = mapped_column(String(20))  # manual | schedule | crawl
    status: Mapped[str] = mapped_column(String(20), index=True)  # passed | failed | error
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rules_total: Mapped[int] = mapped_column(Integer)
    rules_passed: Mapped[int] = mapped_column(Integer)
    results: Mapped[list[QualityResult]] = relationship(
        order_by="QualityResult.id", cascade="all, delete-orphan", lazy="selectin"
    )


class QualityResult(Base):
    """What one rule (or SLA) measured in a run, against what it promised.

    ``sample`` holds a few keys of failing rows, PII columns left out; ``details`` what an SLA
    measured (last update, how late).
    """

    __tablename__ = "quality_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("quality_runs.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(300))
    table: Mapped[str] = mapped_column(String(400))
    column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # library | sql | sla
    metric: Mapped[str | None] = mapped_column(String(50), nullable=True)
    dimension: Mapped[str | None] = mapped_column(String(50), nullable=True)
    threshold: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # passed | failed | error
    rows_scanned: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    sample: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
