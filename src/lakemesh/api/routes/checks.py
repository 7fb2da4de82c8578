"""``/products/{name}/checks``: running a product's contract checks and their history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lakemesh import quality
from lakemesh.api.deps import CurrentActor, HubDep, SessionDep, StandaloneActor
from lakemesh.api.schemas.quality import QualityRunPublic

router = APIRouter(prefix="/products", tags=["products"])


@router.post(
    "/{name}/checks",
    summary="Run the product's contract checks now (its domain's admins)",
    response_model=QualityRunPublic,
)
def run_checks(name: str, hub: HubDep, actor: StandaloneActor) -> QualityRunPublic:
    return QualityRunPublic.from_run(quality.run_checks(hub, actor=actor, product=name))


@router.get(
    "/{name}/checks",
    summary="The product's latest check runs, newest first",
    response_model=list[QualityRunPublic],
)
def list_checks(
    name: str,
    session: SessionDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[QualityRunPublic]:
    runs = quality.check_history(session, actor=actor, product=name, limit=limit)
    return [QualityRunPublic.from_run(run) for run in runs]
