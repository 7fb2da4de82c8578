"""``/links``: resource links in a consumer's catalog, pointing to shared databases and tables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import LinkCreate, LinkPublic
from lakemesh.sharing import links

router = APIRouter(prefix="/links", tags=["sharing"])


@router.get(
    "",
    summary="Links the caller may DESCRIBE, with their status (ok or broken)",
    response_model=list[LinkPublic],
)
def list_links(
    session: SessionDep, actor: CurrentActor, domain: str | None = None
) -> list[dict[str, Any]]:
    return [view.to_dict() for view in links.list_links(session, actor=actor, domain=domain)]


@router.post(
    "",
    status_code=201,
    summary="Create a table or database link (idempotent)",
    response_model=LinkPublic,
)
def create_link(body: LinkCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return links.create_link(session, actor=actor, name=body.name, target=body.target).to_dict()


@router.get("/{name}", summary="One link (consumer.database[.table])", response_model=LinkPublic)
def show_link(name: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return links.show_link(session, actor=actor, name=name).to_dict()


@router.delete(
    "/{name}", status_code=204, summary="Remove a link (the target stays)", response_model=None
)
def drop_link(name: str, session: SessionDep, actor: CurrentActor) -> Response:
    links.drop_link(session, actor=actor, name=name)
    return Response(status_code=204)
