"""``/products/{name}/versions`` and ``/products/{name}/proposals``: a product's versions and the
schema changes of its tables waiting for (or past) review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.paths import Id
from lakemesh.api.schemas.notifications import (
    ProductVersions,
    ProposalDecision,
    ProposalReject,
    SchemaProposalPublic,
)
from lakemesh.sharing import products
from lakemesh.sharing.product_versions import describe_proposal, product_versions
from lakemesh.sharing.schema_changes import accept_schema_change, reject_schema_change

router = APIRouter(prefix="/products", tags=["products"])


@router.get(
    "/{name}/versions",
    summary="The product's versions and its tables' schema proposals",
    response_model=ProductVersions,
)
def list_versions(name: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = products.show_product(session, actor=actor, name=name)
    return product_versions(session, row)


@router.post(
    "/{name}/proposals/{proposal_id}/accept",
    summary="Accept a breaking schema change: serve it, publish the next major version",
    response_model=SchemaProposalPublic,
)
def accept_proposal(
    name: str, proposal_id: Id, body: ProposalDecision, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    proposal = accept_schema_change(
        session,
        actor=actor,
        product=name,
        proposal_id=proposal_id,
        contract=body.contract,
        version=body.version,
        comment=body.comment,
    )
    return describe_proposal(proposal)


@router.post(
    "/{name}/proposals/{proposal_id}/reject",
    summary="Reject a breaking schema change: keep serving the contracted schema",
    response_model=SchemaProposalPublic,
)
def reject_proposal(
    name: str, proposal_id: Id, body: ProposalReject, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    proposal = reject_schema_change(
        session, actor=actor, product=name, proposal_id=proposal_id, comment=body.comment
    )
    return describe_proposal(proposal)
