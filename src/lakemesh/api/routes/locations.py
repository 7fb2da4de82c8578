"""``/locations``: storage URIs a domain registers for its tables."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import LocationCreate, LocationPublic
from lakemesh.catalog import locations

router = APIRouter(prefix="/locations", tags=["locations"])


@router.get(
    "", summary="Registered locations the caller may see", response_model=list[LocationPublic]
)
def list_locations(
    session: SessionDep, actor: CurrentActor, domain: str | None = None
) -> list[LocationPublic]:
    return [
        LocationPublic.from_row(row)
        for row in locations.visible_locations(session, actor=actor, domain=domain)
    ]


@router.post(
    "", status_code=201, summary="Register a location for a domain", response_model=LocationPublic
)
def register_location(
    body: LocationCreate, session: SessionDep, actor: CurrentActor
) -> LocationPublic:
    row = locations.register_location(session, actor=actor, uri=body.uri, domain=body.domain)
    return LocationPublic.from_row(row)


@router.delete(
    "", status_code=204, summary="Deregister a location no table uses", response_model=None
)
def deregister_location(uri: str, session: SessionDep, actor: CurrentActor) -> Response:
    locations.deregister_location(session, actor=actor, uri=uri)
    return Response(status_code=204)
