"""Lineage of tables: which datasets each is derived from, as OpenLineage run events from
producers' engines (Spark, dbt, Airflow, ...) say, linked to catalog tables by location, and
shown to each principal only as far as it may DESCRIBE."""

from __future__ import annotations

from lakemesh.lineage.events import record_event
from lakemesh.lineage.graph import DEFAULT_DEPTH, MAX_DEPTH, export_events, table_lineage
from lakemesh.lineage.products import product_lineage

__all__ = [
    "DEFAULT_DEPTH",
    "MAX_DEPTH",
    "export_events",
    "product_lineage",
    "record_event",
    "table_lineage",
]
