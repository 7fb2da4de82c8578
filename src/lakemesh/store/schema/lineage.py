"""Lineage: which datasets a table is derived from, as producers' OpenLineage run events say."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lakemesh.store.schema.base import Base
from lakemesh.store.types import UTCDateTime


class LineageEdge(Base):
    """One input dataset of one output dataset, through one job. Each side is a catalog table
    (its id) when lakemesh knows the location, else the dataset's OpenLineage name."""

    __tablename__ = "lineage_edges"
    __table_args__ = (UniqueConstraint("source", "target", "job"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(1000))  # "table:<id>" or "dataset:<ns>/<name>"
    target: Mapped[str] = mapped_column(String(1000), index=True)
    job: Mapped[str] = mapped_column(String(500))  # namespace/name of the OpenLineage job
    run_id: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))  # openlineage
    recorded_by: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
