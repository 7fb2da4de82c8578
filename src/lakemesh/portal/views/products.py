"""The product page: a data product as the REST API shows it, its contract, each table as the
viewer gets it, a governed sample, the viewer's requests, and requesting access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.errors import NotFoundError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.portal.views.access import Sample, TableView, sample_rows, table_view
from lakemesh.sharing import products, subscriptions
from lakemesh.store.schema import Subscription

SCHEMA_FIELDS = ("name", "physicalType", "description")
PROPERTY_FIELDS = (
    "name",
    "logicalType",
    "physicalType",
    "required",
    "primaryKey",
    "unique",
    "classification",
    "description",
)


@dataclass(frozen=True)
class ProductPage:
    """Everything the product page shows."""

    product: dict[str, Any]
    contract: dict[str, Any] | None
    tables: list[TableView]
    samples: dict[str, Sample]
    requests: list[Subscription]
    request_for: list[str]
    """Who the viewer may request access for: itself, then its groups."""
    column_names: list[str]
    """Every column name of the product's tables (what a request may leave out)."""
    requestable: str | None
    """None when the viewer may ask for access here, else why not (in words)."""


def contract_view(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """An ODCS contract split for display: its facts, its schema objects with their properties
    as rows, and the remaining sections (rendered generically)."""
    if not document:
        return None
    facts = {
        key: document[key]
        for key in ("id", "name", "version", "status", "domain", "dataProduct", "apiVersion")
        if key in document
    }
    objects = []
    for item in document.get("schema") or []:
        if not isinstance(item, dict):
            continue
        properties = [p for p in item.get("properties") or [] if isinstance(p, dict)]
        objects.append(
            {
                "fields": {k: item[k] for k in SCHEMA_FIELDS if k in item},
                "properties": properties,
                "quality": item.get("quality") or [],
            }
        )
    handled = {*facts, "schema", "kind"}
    rest = {key: value for key, value in document.items() if key not in handled}
    return {"facts": facts, "objects": objects, "sections": rest, "columns": PROPERTY_FIELDS}


def _requestable(viewer: Actor, product: dict[str, Any]) -> str | None:
    """Why the viewer cannot ask for the product from this page, or None (the service checks
    again when it is asked; this only spares a form that would be refused)."""
    if product["status"] != products.PUBLISHED:
        return product["warning"] or f"Data product {product['name']} is a {product['status']}"
    if viewer.domain == product["domain"]:
        return (
            f"{viewer.ref} is in domain {product['domain']}, which produces {product['name']}: "
            "its admins grant access directly"
        )
    return None


def product_page(
    session: Session, hub: Hub, *, viewer: Actor, name: str, samples: bool = False
) -> ProductPage:
    """The product ``name`` as ``viewer`` sees it (a draft it may not see: NotFoundError).

    With ``samples``, each table's sample rows are read too; the page loads them apart
    (:func:`product_sample`), so it shows without waiting for the query engine.
    """
    row = products.show_product(session, actor=viewer, name=name)
    product = products.view_product(session, row, detail=True)
    tables = [table_view(session, viewer=viewer, row=item.table) for item in row.tables]
    mine = {viewer.ref, *viewer.groups}
    requests = [
        sub
        for sub in subscriptions.list_subscriptions(session, actor=viewer, product=name)
        if sub.principal in mine
    ]
    return ProductPage(
        product=product,
        contract=contract_view(row.contract),
        tables=tables,
        samples=(
            {table.name: sample_rows(hub, viewer=viewer, table=table) for table in tables}
            if samples
            else {}
        ),
        requests=requests,
        request_for=[viewer.ref, *sorted(viewer.groups)],
        column_names=_column_names(tables),
        requestable=_requestable(viewer, product),
    )


@dataclass(frozen=True)
class ProductSample:
    """The sample of one table of a product, and that table's position in it (1-based)."""

    product: str
    position: int
    table: TableView
    sample: Sample


def product_sample(
    session: Session, hub: Hub, *, viewer: Actor, name: str, table: str
) -> ProductSample:
    """Sample rows of the product's ``table`` read as ``viewer`` through the query gateway.

    Raises:
        NotFoundError: no such product (or a draft ``viewer`` may not see), or no such table
            in it.
    """
    row = products.show_product(session, actor=viewer, name=name)
    for position, item in enumerate(row.tables, start=1):
        view = table_view(session, viewer=viewer, row=item.table)
        if view.name == table:
            return ProductSample(name, position, view, sample_rows(hub, viewer=viewer, table=view))
    raise NotFoundError(
        f"Data product {name} has no table {table}", details={"product": name, "table": table}
    )


def _column_names(tables: Sequence[TableView]) -> list[str]:
    names: dict[str, None] = {}
    for table in tables:
        names.update((column.name, None) for column in table.columns)
    return list(names)


def request_access(
    session: Session,
    *,
    viewer: Actor,
    name: str,
    principal: str,
    reason: str,
    exclude_columns: Sequence[str],
) -> Subscription:
    """Ask for access to the product ``name`` for ``principal`` (the viewer or one of its
    groups), leaving out ``exclude_columns``: the same service as ``POST /subscriptions``."""
    return subscriptions.request_subscription(
        session,
        actor=viewer,
        product=name,
        principal=principal,
        reason=reason,
        exclude_columns=exclude_columns,
    )
