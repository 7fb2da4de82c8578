"""``/shares``: grants to ``domain:X`` of another domain's objects; X's admins accept or decline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.paths import Id
from lakemesh.api.schemas import SharePublic
from lakemesh.sharing import shares

router = APIRouter(prefix="/shares", tags=["sharing"])


@router.get(
    "",
    summary="Shares the caller may see (incoming, outgoing), revoked ones last",
    response_model=list[SharePublic],
)
def list_shares(
    session: SessionDep,
    actor: CurrentActor,
    direction: str | None = None,
    domain: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    views = shares.list_shares(
        session, actor=actor, direction=direction, domain=domain, status=status
    )
    return [view.to_dict() for view in views]


@router.get(
    "/{share_id}", summary="One share (named by its grant's number)", response_model=SharePublic
)
def show_share(share_id: Id, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return shares.show_share(session, actor=actor, share_id=share_id).to_dict()


@router.post(
    "/{share_id}/accept",
    summary="Accept a share to a domain the caller administers",
    response_model=SharePublic,
)
def accept_share(share_id: Id, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return shares.accept_share(session, actor=actor, share_id=share_id).to_dict()


@router.post(
    "/{share_id}/decline",
    summary="Decline a share (refused while it is delegated)",
    response_model=SharePublic,
)
def decline_share(share_id: Id, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return shares.decline_share(session, actor=actor, share_id=share_id).to_dict()
