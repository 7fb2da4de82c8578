"""SDK methods of lineage: OpenLineage events in, tables' lineage out.

>>> client.send_lineage_event(event)  # doctest: +SKIP
>>> client.lineage("sales.crm.orders")["upstream"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakemesh.sdk.base import ApiBase, segment


class LineageMethods(ApiBase):
    """Lineage of tables."""

    def send_lineage_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Record an OpenLineage RunEvent (INSERT on each output table): ``{"run_id", "job",
        "edges"}``."""
        result: dict[str, Any] = self.request("POST", "/lineage", json=dict(event))
        return result

    def lineage(self, table: str, *, depth: int = 5) -> dict[str, Any]:
        """``{"table", "upstream", "downstream"}``, each step ``{"depth", "node", "via"}``;
        tables the caller may not DESCRIBE are ``{"kind": "table", "hidden": true}``."""
        result: dict[str, Any] = self._get(f"/lineage/{segment(table)}", depth=depth)
        return result

    def lineage_events(self, table: str) -> list[dict[str, Any]]:
        """The table's lineage as OpenLineage RunEvents, one per job that wrote it."""
        result: list[dict[str, Any]] = self._get(f"/lineage/{segment(table)}/openlineage")
        return result

    def product_lineage(self, product: str, *, depth: int = 5) -> dict[str, Any]:
        """The products ``product`` derives from, each with its health: ``{"product",
        "health", "upstream", "upstream_tables", "hidden", "late_upstream"}``."""
        result: dict[str, Any] = self._get(f"/lineage/products/{segment(product)}", depth=depth)
        return result
