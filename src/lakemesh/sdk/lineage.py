"""SDK methods of lineage: OpenLineage events in, tables' lineage out.

>>> client.send_lineage_event(event)  # doctest: +SKIP
>>> client.lineage("sales.crm.orders").upstream  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakemesh.api.schemas.lineage import (
    LineageRecorded,
    OpenLineageEvent,
    ProductLineage,
    TableLineage,
)
from lakemesh.sdk.base import ApiBase, parsed, parsed_list, segment


class LineageMethods(ApiBase):
    """Lineage of tables."""

    def send_lineage_event(self, event: Mapping[str, Any]) -> LineageRecorded:
        """Record an OpenLineage RunEvent (INSERT on each output table): its ``run_id``,
        ``job`` and the new ``edges``."""
        return parsed(LineageRecorded, self.request("POST", "/lineage", json=dict(event)))

    def lineage(self, table: str, *, depth: int = 5) -> TableLineage:
        """The ``upstream`` and ``downstream`` steps of ``table``, each its ``depth``, ``node``
        and ``via``; tables the caller may not DESCRIBE are ``{"kind": "table", "hidden":
        true}``."""
        return parsed(TableLineage, self._get(f"/lineage/{segment(table)}", depth=depth))

    def lineage_events(self, table: str) -> list[OpenLineageEvent]:
        """The table's lineage as OpenLineage RunEvents, one per job that wrote it."""
        found = self._get(f"/lineage/{segment(table)}/openlineage")
        return parsed_list(OpenLineageEvent, found)

    def product_lineage(self, product: str, *, depth: int = 5) -> ProductLineage:
        """The products ``product`` derives from, each with its health: ``product``,
        ``health``, ``upstream``, ``upstream_tables``, ``hidden`` and ``late_upstream``."""
        found = self._get(f"/lineage/products/{segment(product)}", depth=depth)
        return parsed(ProductLineage, found)
