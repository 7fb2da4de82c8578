"""``/attribute-keys``: the principal attributes row filters read, their allowed values and who
may set them (mesh admins define keys and delegate them; see :mod:`lakemesh.identity.attributes`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import (
    AttributeDelegation,
    AttributeKeyCreate,
    AttributeKeyPublic,
    AttributeKeyUpdate,
)
from lakemesh.identity import attributes

router = APIRouter(prefix="/attribute-keys", tags=["identity"])


@router.get(
    "",
    summary="Every attribute key with its allowed values and delegates",
    response_model=list[AttributeKeyPublic],
)
def list_attribute_keys(session: SessionDep, actor: CurrentActor) -> list[AttributeKeyPublic]:
    return [AttributeKeyPublic.from_row(r) for r in attributes.list_attribute_keys(session)]


@router.post(
    "",
    status_code=201,
    summary="Define an attribute key and its values (mesh admins)",
    response_model=AttributeKeyPublic,
)
def create_attribute_key(
    body: AttributeKeyCreate, session: SessionDep, actor: CurrentActor
) -> AttributeKeyPublic:
    row = attributes.create_attribute_key(
        session, actor=actor, key=body.key, values=body.values, description=body.description or ""
    )
    return AttributeKeyPublic.from_row(row)


@router.get("/{key}", summary="One attribute key", response_model=AttributeKeyPublic)
def show_attribute_key(key: str, session: SessionDep, actor: CurrentActor) -> AttributeKeyPublic:
    return AttributeKeyPublic.from_row(attributes.get_attribute_key(session, key))


@router.patch(
    "/{key}",
    summary="Replace the allowed values or the description (mesh admins)",
    response_model=AttributeKeyPublic,
)
def update_attribute_key(
    key: str, body: AttributeKeyUpdate, session: SessionDep, actor: CurrentActor
) -> AttributeKeyPublic:
    row = attributes.update_attribute_key(
        session, actor=actor, key=key, values=body.values, description=body.description
    )
    return AttributeKeyPublic.from_row(row)


@router.delete(
    "/{key}",
    status_code=204,
    summary="Delete a key no principal holds (mesh admins)",
    response_model=None,
)
def delete_attribute_key(key: str, session: SessionDep, actor: CurrentActor) -> Response:
    attributes.delete_attribute_key(session, actor=actor, key=key)
    return Response(status_code=204)


@router.post(
    "/{key}/delegates",
    status_code=201,
    summary="Let a principal set this key's values",
    response_model=AttributeKeyPublic,
)
def delegate_attribute(
    key: str, body: AttributeDelegation, session: SessionDep, actor: CurrentActor
) -> AttributeKeyPublic:
    attributes.delegate_attribute(session, actor=actor, key=key, principal=body.principal)
    return AttributeKeyPublic.from_row(attributes.get_attribute_key(session, key))


@router.delete(
    "/{key}/delegates/{principal}",
    summary="Take back a delegation",
    response_model=AttributeKeyPublic,
)
def undelegate_attribute(
    key: str, principal: str, session: SessionDep, actor: CurrentActor
) -> AttributeKeyPublic:
    attributes.undelegate_attribute(session, actor=actor, key=key, principal=principal)
    return AttributeKeyPublic.from_row(attributes.get_attribute_key(session, key))
