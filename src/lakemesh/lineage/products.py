"""A product's lineage: the data products its tables derive from, each with its health, so a
consumer sees that a late or failing upstream makes this product late or wrong.

Built on :func:`~lakemesh.lineage.graph.table_lineage` (declared, OpenLineage): an upstream
table the caller may not DESCRIBE is only counted (``hidden``), never named, and neither is the
product holding it; draft products the caller may not see are left out the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import visible
from lakemesh.catalog.tables import get_table_row, table_name
from lakemesh.contracts.health import LATE, matches
from lakemesh.lineage.graph import DEFAULT_DEPTH, table_lineage
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.sharing.products import can_see, show_product, view_products
from lakemesh.store.schema import DataProduct, DataProductTable


def product_lineage(
    session: Session, *, actor: Actor, product: str, depth: int = DEFAULT_DEPTH
) -> dict[str, Any]:
    """``{"product", "health", "upstream": [{"product", "domain", "status", "depth",
    "tables", "health"}], "upstream_tables": [names], "hidden": N, "late_upstream": [names]}``.

    Raises:
        NotFoundError: no such product, or a draft ``actor`` may not see.
    """
    row = show_product(session, actor=actor, name=product)
    nearest: dict[str, int] = {}
    hidden = 0
    for item in row.tables:
        own_table = table_name(item.table)
        if not visible(session, actor, own_table):
            continue
        found = table_lineage(session, actor=actor, table=str(own_table), depth=depth)
        for step in found.upstream:
            node = step.node
            if node.get("hidden"):
                hidden += 1  # per table of the product: what is hidden cannot be told apart
            elif node["kind"] == "table":
                nearest[node["name"]] = min(step.depth, nearest.get(node["name"], step.depth))
    own = {str(table_name(item.table)) for item in row.tables}
    by_product: dict[str, dict[str, Any]] = {}
    rows: dict[str, DataProduct] = {}
    for name in sorted(set(nearest) - own):
        table = get_table_row(session, parse_resource(name, level="table"))
        holders = session.execute(
            select(DataProduct)
            .join(DataProductTable, DataProductTable.product_id == DataProduct.id)
            .where(DataProductTable.table_id == table.id)
            .order_by(DataProduct.name)
        ).scalars()
        for holder in holders:
            if holder.id == row.id or not can_see(actor, holder):
                continue
            rows[holder.name] = holder
            entry = by_product.setdefault(holder.name, {"depth": nearest[name], "tables": []})
            entry["depth"] = min(entry["depth"], nearest[name])
            entry["tables"].append(name)
    viewed = {view["name"]: view for view in view_products(session, [row, *rows.values()])}
    upstream = [
        {
            "product": name,
            "domain": viewed[name]["domain"],
            "status": viewed[name]["status"],
            "depth": entry["depth"],
            "tables": entry["tables"],
            "health": viewed[name]["health"],
        }
        for name, entry in sorted(by_product.items(), key=lambda pair: (pair[1]["depth"], pair[0]))
    ]
    return {
        "product": row.name,
        "health": viewed[row.name]["health"],
        "upstream": upstream,
        "upstream_tables": sorted(set(nearest) - own),
        "hidden": hidden,
        "late_upstream": [item["product"] for item in upstream if matches(item["health"], LATE)],
    }
