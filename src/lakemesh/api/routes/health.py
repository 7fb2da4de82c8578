"""``/health`` (no token needed) and ``/whoami``."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh._version import __version__
from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import Health, WhoAmI
from lakemesh.identity.principals import get_principal, relations

router = APIRouter(tags=["hub"])


@router.get("/health", summary="Is the hub up? (no token needed)", response_model=Health)
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/whoami", summary="The principal the token stands for", response_model=WhoAmI)
def whoami(session: SessionDep, actor: CurrentActor) -> WhoAmI:
    row = get_principal(session, actor.ref)
    return WhoAmI.of(row, relations(session, row), is_mesh_admin=actor.is_mesh_admin)
