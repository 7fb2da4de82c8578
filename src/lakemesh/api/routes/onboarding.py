"""``/onboarding``: a producer or consumer domain in one step.

Onboarding a producer crawls, which runs transactions of its own: this router authenticates
outside the request's transaction, as ``/crawls`` does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lakemesh.api.deps import HubDep, StandaloneActor
from lakemesh.api.schemas import ConsumerOnboarding, OnboardingPublic, ProducerOnboarding
from lakemesh.sharing import onboarding

router = APIRouter(prefix="/onboarding", tags=["sharing"])


@router.post(
    "/producers",
    summary="Onboard a producer: domain, admin, location, crawl, tags",
    response_model=OnboardingPublic,
)
def onboard_producer(
    body: ProducerOnboarding, hub: HubDep, actor: StandaloneActor
) -> dict[str, Any]:
    return onboarding.onboard_producer(
        hub,
        actor=actor,
        name=body.name,
        location=body.location,
        admin=body.admin,
        tags=body.tags,
        database=body.database,
        description=body.description,
    ).to_dict()


@router.post(
    "/consumers", summary="Onboard a consumer: domain and admin", response_model=OnboardingPublic
)
def onboard_consumer(
    body: ConsumerOnboarding, hub: HubDep, actor: StandaloneActor
) -> dict[str, Any]:
    return onboarding.onboard_consumer(
        hub, actor=actor, name=body.name, admin=body.admin, description=body.description
    ).to_dict()
