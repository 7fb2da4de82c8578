"""Lineage a producer declares in its product's ODCS contract, recorded when it is published.

ODCS v3 has no lineage field; a contract names its inputs in a top-level custom property::

    customProperties:
      - property: inputs
        vendor: lakemesh        # optional (ODCS v3.2); another vendor's ``inputs`` is ignored
        value: [crm_customers, sales.raw.orders]

Each input is a data product (its tables) or a catalog table ``domain.database.table``; the
publisher must see it (a draft it may not see, a table it may not DESCRIBE: refused as missing,
never confirmed). Every input table becomes an edge to every table of the product, through the
job ``contract/PRODUCT`` (origin ``declared``); publishing the contract again replaces them. They
are shown with the rest of the lineage, to each principal as far as it may DESCRIBE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.authz import visible
from lakemesh.catalog.tables import get_table_row, table_name
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.store.schema import DataProduct, LineageEdge, Table

PROPERTY, VENDOR = "inputs", "lakemesh"
DECLARED = "declared"
CanSee = Callable[[Actor, DataProduct], bool]


def declared_inputs(document: Mapping[str, Any] | None) -> list[str]:
    """The inputs a contract document declares (``customProperties`` ``inputs``).

    >>> declared_inputs({"customProperties": [{"property": "inputs", "value": ["a", "d.b", "a"]}]})
    ['a', 'd.b']
    >>> declared_inputs({"customProperties": [{"property": "inputs", "vendor": "x", "value": 1}]})
    []
    """
    found: list[str] = []
    for item in (document or {}).get("customProperties") or []:
        if not isinstance(item, dict) or item.get("property") != PROPERTY:
            continue
        if item.get("vendor", VENDOR) != VENDOR:
            continue
        value = item.get("value")
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, str) or not entry.strip():
                raise InvalidInputError(
                    "Invalid ODCS v3 contract: customProperties inputs must be product names or "
                    "tables DOMAIN.DATABASE.TABLE",
                    details={"inputs": value},
                )
            if entry.strip() not in found:
                found.append(entry.strip())
    return found


def job(product: str) -> str:
    """The lineage job of a product's declared inputs."""
    return f"contract/{product}"


def _input_tables(session: Session, actor: Actor, entry: str, can_see: CanSee) -> list[Table]:
    if "." not in entry:
        product = session.execute(select(DataProduct).where(DataProduct.name == entry)).scalar()
        if product is None or not can_see(actor, product):
            raise InvalidInputError(
                f"Declared input does not exist: data product {entry}", details={"input": entry}
            )
        return [item.table for item in product.tables]
    try:
        name = parse_resource(entry, level="table")
        if not visible(session, actor, name):
            raise NotFoundError(entry)
        return [get_table_row(session, name)]
    except (NotFoundError, InvalidInputError):
        raise InvalidInputError(
            f"Declared input does not exist: table {entry} (a product name or "
            "DOMAIN.DATABASE.TABLE the publisher may see)",
            details={"input": entry},
        ) from None


def record_declared_lineage(
    session: Session, *, actor: Actor, row: DataProduct, tables: Sequence[Table], can_see: CanSee
) -> int:
    """Replace the edges ``row``'s contract declares by those it declares now; their count.
    ``can_see`` says whether the publisher may see an input product (drafts are hidden).

    Raises:
        InvalidInputError: an input that is no product or table ``actor`` may see, or one of the
            product's own tables.
    """
    own = {table.id for table in tables}
    sources: list[Table] = []
    for entry in declared_inputs(row.contract):
        for table in _input_tables(session, actor, entry, can_see):
            if table.id in own:
                raise InvalidInputError(
                    f"Declared input {entry} is the product's own table {table_name(table)}",
                    details={"input": entry},
                )
            if all(table.id != other.id for other in sources):
                sources.append(table)
    session.execute(
        delete(LineageEdge).where(LineageEdge.job == job(row.name), LineageEdge.origin == DECLARED)
    )
    now = clock.now()
    version = str((row.contract or {}).get("version") or row.version)
    for target in tables:
        for source in sources:
            session.add(
                LineageEdge(
                    source=f"table:{source.id}",
                    target=f"table:{target.id}",
                    job=job(row.name),
                    run_id=version,
                    origin=DECLARED,
                    recorded_by=actor.ref,
                    recorded_at=now,
                )
            )
    session.flush()
    return len(sources) * len(tables)


def declared_edges(session: Session, product: str) -> list[LineageEdge]:
    """The edges ``product``'s contract declares."""
    return list(
        session.execute(
            select(LineageEdge)
            .where(LineageEdge.job == job(product), LineageEdge.origin == DECLARED)
            .order_by(LineageEdge.id)
        ).scalars()
    )
