"""``/onboarding``: a producer or consumer domain in one step.

Onboarding a producer crawls, which runs transactions of its own: this router authenticates
outside the request's transaction, as ``/crawls`` does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from lakemesh.api.deps import HubDep, StandaloneActor
from lakemesh.api.schemas import RequestBody
from lakemesh.sharing import onboarding

router = APIRouter(prefix="/onboarding", tags=["sharing"])


class ProducerOnboarding(RequestBody):
    name: str
    location: str
    admin: str
    tags: dict[str, str] = Field(default_factory=dict)
    database: str | None = Field(
        default=None, description="Register the location's tables in this one database."
    )
    description: str = ""


class ConsumerOnboarding(RequestBody):
    name: str
    admin: str
    description: str = ""


@router.post("/producers", summary="Onboard a producer: domain, admin, location, crawl, tags")
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


@router.post("/consumers", summary="Onboard a consumer: domain and admin")
def onboard_consumer(
    body: ConsumerOnboarding, hub: HubDep, actor: StandaloneActor
) -> dict[str, Any]:
    return onboarding.onboard_consumer(
        hub, actor=actor, name=body.name, admin=body.admin, description=body.description
    ).to_dict()
