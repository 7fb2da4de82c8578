"""Reviewed schema changes: what a crawl does when a table of a contracted product changes.

A table belongs to a *contracted* product when a published (or ``contract_violated``) product
with a contract holds it. For such a table a crawl compares the files' schema with the one the
catalog serves (:func:`~lakemesh.contracts.schema_diff.diff_schemas`):

- no change: nothing happens (a held change whose files went back is ``withdrawn``);
- a compatible change (a new column, a widened type) applies, recorded as an ``applied`` proposal;
- a breaking change (a column dropped or renamed, a type narrowed, nullability tightened, a
  column a contract requires become nullable, a partition change) becomes a
  ``pending`` proposal that the domain's admins accept or reject, and the products' domains,
  owners and subscribers are told. Meanwhile, as the domain's ``schema_changes`` setting says,
  the table keeps serving the contracted schema (``hold``: the gateway reads the files through
  it, see ``Table.file_columns``), or serves the new one and the products are marked
  ``contract_violated`` (``violate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.columns import ColumnSpec, current_columns
from lakemesh.catalog.domains import SCHEMA_CHANGE_MODES
from lakemesh.catalog.tables import table_name
from lakemesh.contracts.schema_diff import contract_required, diff_schemas, same_columns
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.column_changes import change_text
from lakemesh.model.statuses import ProductStatus
from lakemesh.notifications.events import notify_product
from lakemesh.notifications.kinds import EventKind
from lakemesh.store.schema import DataProduct, DataProductTable, SchemaProposal, Table

HOLD, VIOLATE = SCHEMA_CHANGE_MODES
PENDING, APPLIED, ACCEPTED, REJECTED = "pending", "applied", "accepted", "rejected"
WITHDRAWN, SUPERSEDED = "withdrawn", "superseded"
CONTRACTED_STATUSES = (ProductStatus.PUBLISHED, ProductStatus.CONTRACT_VIOLATED)


@dataclass
class Review:
    """What the crawl should do with a table's new schema.

    ``apply``: alter the table as usual (``record`` says to record a compatible change);
    ``held``: leave the served schema alone; ``violated``: apply it, the products are violated.
    """

    action: str
    proposal: SchemaProposal | None = None
    record: bool = False
    products: tuple[DataProduct, ...] = ()


def contracted_products(session: Session, table: Table) -> list[DataProduct]:
    """The published (or violated) products with a contract that hold ``table``, by name."""
    rows = session.execute(
        select(DataProduct)
        .join(DataProductTable, DataProductTable.product_id == DataProduct.id)
        .where(
            DataProductTable.table_id == table.id,
            DataProduct.status.in_([str(status) for status in CONTRACTED_STATUSES]),
        )
        .order_by(DataProduct.name)
    ).scalars()
    return [row for row in rows if row.contract]


def open_proposal(session: Session, table: Table) -> SchemaProposal | None:
    """The table's pending proposal, if any."""
    return session.execute(
        select(SchemaProposal)
        .where(SchemaProposal.table_id == table.id, SchemaProposal.status == PENDING)
        .order_by(SchemaProposal.id.desc())
    ).scalar()


def _last_decided(session: Session, table: Table) -> SchemaProposal | None:
    return session.execute(
        select(SchemaProposal)
        .where(SchemaProposal.table_id == table.id, SchemaProposal.breaking.is_(True))
        .order_by(SchemaProposal.id.desc())
    ).scalar()


def required_columns(table: Table, products: Sequence[DataProduct]) -> set[str]:
    """The columns of ``table`` that the products' contracts require a value in."""
    names = [f"{table.database.name}.{table.name}", table.name]
    return set().union(*(contract_required(row.contract or {}, names) for row in products))


def summary(changes: dict[str, Any]) -> str:
    """One line about a schema diff: ``dropped email; amount BIGINT -> INTEGER``."""
    parts = [f"dropped {c['name']}" for c in changes.get("removed", [])]
    parts += [
        f"{c['name']} {change_text(c)}"
        + (" (partition change)" if any("partition" in r for r in c.get("reasons", [])) else "")
        for c in changes.get("changed", [])
        if c.get("breaking")
    ]
    parts += [f"added {c['name']}" for c in changes.get("added", [])]
    return "; ".join(parts) or "no change"


def decide(proposal: SchemaProposal, status: str, *, by: str, comment: str = "") -> None:
    """Close a pending proposal as ``status`` (accepted, rejected, withdrawn, superseded), now,
    by ``by`` (a principal, or ``crawl``)."""
    proposal.status, proposal.decided_by, proposal.decided_at = status, by, clock.now()
    if comment.strip():
        proposal.comment = comment.strip()


def _close_pending(session: Session, table: Table, status: str) -> None:
    pending = open_proposal(session, table)
    if pending is not None:
        decide(pending, status, by="crawl")


def review_schema(
    session: Session, *, actor: Actor, table: Table, columns: Sequence[ColumnSpec]
) -> Review:
    """Decide what a crawl that found ``columns`` for ``table`` does (see the module)."""
    products = contracted_products(session, table)
    if not products:
        table.file_columns = None
        return Review("apply")
    served = [column.to_dict() for column in current_columns(table)]
    found = [column.to_dict() for column in columns]
    diff = diff_schemas(served, found, required=required_columns(table, products))
    if not (diff["added"] or diff["removed"] or diff["changed"]):
        if table.file_columns is not None:  # the files went back to the contracted schema
            table.file_columns = None
            _close_pending(session, table, WITHDRAWN)
        return Review("apply", products=tuple(products))
    if not diff["breaking"]:
        if table.file_columns is not None:
            table.file_columns = None
            _close_pending(session, table, WITHDRAWN)
        return Review("apply", record=True, products=tuple(products))
    mode = table.database.domain.schema_changes or HOLD
    pending = open_proposal(session, table)
    if pending is not None and same_columns(pending.columns, found):
        return _keep(table, pending, found, products)
    last = _last_decided(session, table)
    if (
        pending is None
        and last is not None
        and last.status == REJECTED
        and same_columns(last.columns, found)
    ):
        table.file_columns = found  # rejected already: keep serving the contracted schema
        return Review("held", proposal=last, products=tuple(products))
    if pending is not None:
        decide(pending, SUPERSEDED, by="crawl")
    proposal = SchemaProposal(
        table_id=table.id,
        status=PENDING,
        mode=mode,
        base_version=table.schema_version,
        columns=found,
        changes=diff,
        breaking=True,
        products=[row.name for row in products],
        proposed_by=actor.ref,
        created_at=clock.now(),
    )
    session.add(proposal)
    session.flush()
    name = str(table_name(table))
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SCHEMA_PROPOSE,
        resource=name,
        details={
            "proposal": proposal.id,
            "mode": mode,
            "products": proposal.products,
            "changes": summary(diff),
        },
    )
    for product in products:
        facts = {"proposal": proposal.id, "table": name, "mode": mode, "changes": diff}
        notify_product(
            session,
            kind=EventKind.SCHEMA_CHANGE_PROPOSED,
            product=product,
            actor=actor.ref,
            subject=f"Breaking schema change to {name} waits for review (proposal "
            f"{proposal.id} of product {product.name}): {summary(diff)}",
            details=facts,
        )
        if mode == VIOLATE:
            product.status = ProductStatus.CONTRACT_VIOLATED
            notify_product(
                session,
                kind=EventKind.CONTRACT_VIOLATED,
                product=product,
                actor=actor.ref,
                subject=f"Data product {product.name} violates its contract "
                f"{product.version}: {name} now serves {summary(diff)}",
                details=facts,
            )
    return _keep(table, proposal, found, products)


def _keep(
    table: Table, proposal: SchemaProposal, found: list[dict[str, Any]], products: list[DataProduct]
) -> Review:
    if proposal.mode == VIOLATE:
        table.file_columns = None
        return Review("violated", proposal=proposal, products=tuple(products))
    table.file_columns = found
    return Review("held", proposal=proposal, products=tuple(products))


def record_applied(
    session: Session,
    *,
    actor: Actor,
    table: Table,
    review: Review,
    base_version: int,
    changes: dict[str, Any],
) -> None:
    """Record a compatible change a crawl applied to a contracted product's table."""
    if not review.record or table.schema_version == base_version:
        return
    now = clock.now()
    session.add(
        SchemaProposal(
            table_id=table.id,
            status=APPLIED,
            mode=table.database.domain.schema_changes or HOLD,
            base_version=base_version,
            columns=[column.to_dict() for column in current_columns(table)],
            changes={**changes, "breaking": False},
            breaking=False,
            products=[row.name for row in review.products],
            proposed_by=actor.ref,
            created_at=now,
            decided_by=actor.ref,
            decided_at=now,
            schema_version=table.schema_version,
        )
    )
