"""``/masks``: masking functions applied to columns matching a tag expression."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import MaskCreate, MaskPublic
from lakemesh.governance import masks

router = APIRouter(prefix="/masks", tags=["governance"])


@router.get("", summary="Every mask", response_model=list[MaskPublic])
def list_masks(session: SessionDep, actor: CurrentActor) -> list[MaskPublic]:
    return [MaskPublic.from_row(row) for row in masks.list_masks(session)]


@router.post(
    "",
    status_code=201,
    summary="Create a mask on a tag expression (mesh admins)",
    response_model=MaskPublic,
)
def create_mask(body: MaskCreate, session: SessionDep, actor: CurrentActor) -> MaskPublic:
    row = masks.create_mask(
        session,
        actor=actor,
        name=body.name,
        tag_expression=body.tag_expression,
        function=body.function,
    )
    return MaskPublic.from_row(row)


@router.get("/{name}", summary="One mask", response_model=MaskPublic)
def show_mask(name: str, session: SessionDep, actor: CurrentActor) -> MaskPublic:
    return MaskPublic.from_row(masks.get_mask(session, name))


@router.delete(
    "/{name}", status_code=204, summary="Delete a mask (mesh admins)", response_model=None
)
def delete_mask(name: str, session: SessionDep, actor: CurrentActor) -> Response:
    masks.delete_mask(session, actor=actor, name=name)
    return Response(status_code=204)
