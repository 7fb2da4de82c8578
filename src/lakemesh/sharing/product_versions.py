"""A data product's versions (each contract version as published, with its tables' schema
versions) and its tables' schema proposals: what ``lakemesh product versions`` shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.catalog.schema_review import PENDING, summary
from lakemesh.catalog.tables import table_name
from lakemesh.model.actors import Actor
from lakemesh.store.schema import DataProduct, ProductVersion, SchemaProposal


def record_product_version(
    session: Session,
    row: DataProduct,
    *,
    actor: Actor,
    reason: str,
    proposal_id: int | None = None,
) -> ProductVersion | None:
    """Record the product as it stands when its version or contract changed since the last
    recorded one (re-publishing the same version records nothing)."""
    last = session.execute(
        select(ProductVersion)
        .where(ProductVersion.product_id == row.id)
        .order_by(ProductVersion.id.desc())
    ).scalar()
    if last is not None and last.version == row.version and last.contract == row.contract:
        return None
    version = ProductVersion(
        product_id=row.id,
        version=row.version,
        contract=row.contract,
        schemas={str(table_name(item.table)): item.table.schema_version for item in row.tables},
        reason=reason,
        proposal_id=proposal_id,
        actor=actor.ref,
        created_at=clock.now(),
    )
    session.add(version)
    return version


def product_proposals(session: Session, row: DataProduct) -> list[SchemaProposal]:
    """The schema proposals of the product's tables that named it, newest first."""
    table_ids = [item.table_id for item in row.tables]
    found = session.execute(
        select(SchemaProposal)
        .where(SchemaProposal.table_id.in_(table_ids))
        .order_by(SchemaProposal.id.desc())
    ).scalars()
    return [proposal for proposal in found if row.name in (proposal.products or [])]


def open_proposals(session: Session, row: DataProduct) -> int:
    """How many of the product's schema proposals wait for review."""
    return pending_proposals(session, [row.name])[row.name]


def pending_proposals(session: Session, names: list[str]) -> dict[str, int]:
    """How many schema proposals wait for review, per product name (one query for all)."""
    counts = dict.fromkeys(names, 0)
    if not names:
        return counts
    found = session.execute(
        select(SchemaProposal.products).where(SchemaProposal.status == PENDING)
    ).scalars()
    for named in found:
        for name in named or []:
            if name in counts:
                counts[name] += 1
    return counts


def describe_proposal(row: SchemaProposal) -> dict[str, Any]:
    """A schema proposal as the API shows it."""
    return {
        "id": row.id,
        "table": str(table_name(row.table)),
        "status": row.status,
        "mode": row.mode,
        "breaking": row.breaking,
        "base_version": row.base_version,
        "schema_version": row.schema_version,
        "summary": summary(row.changes),
        "changes": {key: row.changes.get(key, []) for key in ("added", "removed", "changed")},
        "columns": list(row.columns),
        "products": list(row.products or []),
        "proposed_by": row.proposed_by,
        "created_at": row.created_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "comment": row.comment,
    }


def describe_version(row: ProductVersion) -> dict[str, Any]:
    """A recorded product version."""
    return {
        "version": row.version,
        "contract_version": (row.contract or {}).get("version"),
        "reason": row.reason,
        "proposal": row.proposal_id,
        "schemas": dict(row.schemas or {}),
        "actor": row.actor,
        "created_at": row.created_at.isoformat(),
    }


def product_versions(session: Session, row: DataProduct) -> dict[str, Any]:
    """The product's versions, oldest first, and its schema proposals, newest first."""
    versions = session.execute(
        select(ProductVersion)
        .where(ProductVersion.product_id == row.id)
        .order_by(ProductVersion.id)
    ).scalars()
    return {
        "product": row.name,
        "version": row.version,
        "status": row.status,
        "versions": [describe_version(version) for version in versions],
        "proposals": [describe_proposal(p) for p in product_proposals(session, row)],
    }
