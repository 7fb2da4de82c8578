"""Accepting or rejecting a breaking schema change that waits as a proposal (see
:mod:`lakemesh.catalog.schema_review`), by the admins of the product's domain.

Accepting serves the proposed schema, publishes the next major version of every product whose
contract it touched (with the contract given, or the current one revised: dropped properties
removed, changed ones retyped, new ones added) and lifts ``contract_violated``. Rejecting keeps
(or, after ``violate``, puts back) the contracted schema: the gateway reads the files through it
until they match it again. Either decision is audited and told to the products' domains, owners
and subscribers.
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.columns import ColumnSpec, current_columns
from lakemesh.catalog.schema_review import ACCEPTED, PENDING, REJECTED, decide, summary
from lakemesh.catalog.tables import alter_table, table_name
from lakemesh.contracts.revision import next_major, revise_contract
from lakemesh.contracts.schema_diff import nullability, same_columns
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.statuses import ProductStatus
from lakemesh.notifications.events import notify_product
from lakemesh.notifications.kinds import EventKind
from lakemesh.sharing import products
from lakemesh.sharing.product_contracts import apply_contract
from lakemesh.sharing.product_lineage import record_declared_lineage
from lakemesh.sharing.product_versions import open_proposals, record_product_version
from lakemesh.store.schema import DataProduct, SchemaProposal, SchemaVersion


def _proposal(
    session: Session, *, actor: Actor, product: str, proposal_id: int, action: Action
) -> tuple[DataProduct, SchemaProposal]:
    row = products.show_product(session, actor=actor, name=product, action=action)
    actor.require_domain_admin(row.domain.name, action=action, resource=products.resource(product))
    proposal = session.get(SchemaProposal, proposal_id)
    if proposal is None or product not in (proposal.products or []):
        raise NotFoundError(
            f"Schema proposal {proposal_id} of data product {product} does not exist",
            details={"product": product, "proposal": proposal_id},
        )
    if proposal.status != PENDING:
        raise ConflictError(
            f"Schema proposal {proposal_id} of data product {product} is {proposal.status}, "
            "not pending",
            details={"product": product, "proposal": proposal_id, "status": proposal.status},
        )
    return row, proposal


def _specs(columns: list[dict[str, Any]]) -> list[ColumnSpec]:
    return [
        ColumnSpec(
            str(c["name"]), str(c["type"]), bool(c.get("partition")), nullable=nullability(c)
        )
        for c in columns
    ]


def _affected(session: Session, proposal: SchemaProposal) -> list[DataProduct]:
    found = []
    for name in proposal.products or []:
        try:
            found.append(products.get_product(session, name))
        except NotFoundError:
            continue  # deleted since
    return found


def _lift_violation(session: Session, row: DataProduct) -> None:
    if row.status == ProductStatus.CONTRACT_VIOLATED and not open_proposals(session, row):
        row.status = ProductStatus.PUBLISHED


def accept_schema_change(
    session: Session,
    *,
    actor: Actor,
    product: str,
    proposal_id: int,
    contract: str | None = None,
    version: str | None = None,
    comment: str = "",
) -> SchemaProposal:
    """Accept a pending proposal: the table serves the proposed schema and each product it
    touched is published at its next major version (``version`` for ``product``, whose
    contract is ``contract`` when given, else the current one revised).

    Raises:
        AccessDeniedError: the actor does not administer the product's domain (audited).
        NotFoundError: no such proposal for that product.
        ConflictError: the proposal was decided already.
        InvalidInputError: the (revised) contract does not describe the new tables (named), or
            the current version cannot be bumped (give ``version``).
    """
    row, proposal = _proposal(
        session, actor=actor, product=product, proposal_id=proposal_id, action=Action.SCHEMA_ACCEPT
    )
    table = proposal.table
    name = table_name(table)
    if not same_columns([c.to_dict() for c in current_columns(table)], proposal.columns):
        alter_table(session, actor=actor, name=name, columns=_specs(proposal.columns))
    table.file_columns = None
    decide(proposal, ACCEPTED, by=actor.ref, comment=comment)
    proposal.schema_version = table.schema_version
    session.flush()
    published: dict[str, str] = {}
    for affected in _affected(session, proposal):
        given = affected.name == row.name
        new_version = (version if given and version else None) or next_major(affected.version)
        if given and contract is not None:
            text = contract
        else:
            document = revise_contract(
                affected.contract or {},
                table_names=[f"{name.database}.{name.table}", str(name.table)],
                changes=proposal.changes,
                version=new_version,
            )
            text = yaml.safe_dump(document, sort_keys=False)
        try:
            contract_version, _ = apply_contract(
                session,
                actor=actor,
                row=affected,
                text=text,
                tables=[item.table for item in affected.tables],
            )
        except InvalidInputError as e:
            raise InvalidInputError(
                f"Cannot accept schema proposal {proposal_id}: the contract of {affected.name} "
                f"does not fit the new schema of {name} ({e.message}); accept it with a "
                "revised contract (--contract FILE)",
                details={**e.details, "product": affected.name, "proposal": proposal_id},
            ) from e
        record_declared_lineage(
            session,
            actor=actor,
            row=affected,
            tables=[item.table for item in affected.tables],
            can_see=products.can_see,
        )
        affected.version = (version if given and version else None) or contract_version
        affected.updated_at = clock.now()
        _lift_violation(session, affected)
        record_product_version(
            session, affected, actor=actor, reason="schema_change", proposal_id=proposal_id
        )
        published[affected.name] = affected.version
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SCHEMA_ACCEPT,
        resource=str(name),
        details={
            "proposal": proposal_id,
            "schema_version": table.schema_version,
            "products": published,
            "changes": summary(proposal.changes),
        },
    )
    for affected in _affected(session, proposal):
        notify_product(
            session,
            kind=EventKind.SCHEMA_CHANGE_ACCEPTED,
            product=affected,
            actor=actor.ref,
            subject=f"Schema change to {name} accepted: data product {affected.name} is now "
            f"version {affected.version} ({summary(proposal.changes)})",
            details={
                "proposal": proposal_id,
                "table": str(name),
                "version": affected.version,
                "schema_version": table.schema_version,
                "comment": proposal.comment,
            },
        )
    return proposal


def reject_schema_change(
    session: Session, *, actor: Actor, product: str, proposal_id: int, comment: str = ""
) -> SchemaProposal:
    """Reject a pending proposal: the table serves (again) the contracted schema, read from
    the files as they are, until a crawl finds them back in it.

    Raises:
        AccessDeniedError, NotFoundError, ConflictError: as :func:`accept_schema_change`.
    """
    _, proposal = _proposal(
        session, actor=actor, product=product, proposal_id=proposal_id, action=Action.SCHEMA_REJECT
    )
    table = proposal.table
    name = table_name(table)
    if table.schema_version != proposal.base_version:
        # ``violate`` served the change: go back to the contracted columns.
        base = session.execute(
            select(SchemaVersion).where(
                SchemaVersion.table_id == table.id,
                SchemaVersion.version == proposal.base_version,
            )
        ).scalar()
        if base is not None:
            alter_table(session, actor=actor, name=name, columns=_specs(list(base.columns)))
    table.file_columns = list(proposal.columns)
    decide(proposal, REJECTED, by=actor.ref, comment=comment)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SCHEMA_REJECT,
        resource=str(name),
        details={"proposal": proposal_id, "comment": proposal.comment},
    )
    for affected in _affected(session, proposal):
        _lift_violation(session, affected)
        notify_product(
            session,
            kind=EventKind.SCHEMA_CHANGE_REJECTED,
            product=affected,
            actor=actor.ref,
            subject=f"Schema change to {name} rejected: data product {affected.name} keeps "
            f"serving version {affected.version}",
            details={"proposal": proposal_id, "table": str(name), "comment": proposal.comment},
        )
    return proposal
