"""The table page: a table the viewer may DESCRIBE, its schema and history, the products it
belongs to, and why the viewer may (or may not) read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.catalog import tables
from lakemesh.catalog.columns import schema_history
from lakemesh.catalog.snapshots import list_snapshots
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.model.table_snapshots import snapshot_fields
from lakemesh.portal.views.access import TableView, table_view
from lakemesh.sharing import products


@dataclass(frozen=True)
class TablePage:
    """Everything the table page shows; ``location`` only for admins of the table's domain."""

    table: TableView
    domain: str
    format: str
    location: str | None
    partition_columns: list[str]
    schema_version: int
    history: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    products: list[dict[str, Any]]


def table_page(session: Session, *, viewer: Actor, name: str) -> TablePage:
    """The table ``name`` (``domain.database.table``) as ``viewer`` sees it.

    Raises:
        NotFoundError: no such table, or one ``viewer`` may not DESCRIBE (audited as a denial).
    """
    row = tables.show_table(session, actor=viewer, name=parse_resource(name, level="table"))
    view = table_view(session, viewer=viewer, row=row)
    domain = row.database.domain.name
    holding = [
        products.describe_product(product)
        for product in products.list_products(session, actor=viewer)
        if any(item.table_id == row.id for item in product.tables)
    ]
    return TablePage(
        table=view,
        domain=domain,
        format=row.format,
        location=row.location if viewer.administers(domain) else None,
        partition_columns=[c.name for c in row.columns if c.is_partition],
        schema_version=row.schema_version,
        history=list(reversed(schema_history(session, row))),
        snapshots=[snapshot_fields(s) for s in list_snapshots(session, row) or []],
        products=holding,
    )
