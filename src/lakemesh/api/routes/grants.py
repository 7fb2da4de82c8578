"""``/grants``: grant and revoke permissions (DESIGN §4), list grants by principal or resource."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import Id, RequestBody
from lakemesh.governance import grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.permissions import parse_permissions

router = APIRouter(prefix="/grants", tags=["governance"])


class GrantCreate(RequestBody):
    """What to grant (or revoke) to whom: exactly one of ``on``, ``on_tags``, ``location``,
    ``tag_values``."""

    grantee: str
    permissions: list[str] = Field(min_length=1)
    on: str | None = None
    columns: list[str] | None = None
    exclude_columns: list[str] = Field(default_factory=list)
    filter: str | None = None
    on_tags: str | None = None
    resource_type: Literal["table", "database"] = "table"
    location: str | None = None
    tag_values: str | None = None
    with_grant_option: bool = False

    def request(self) -> GrantRequest:
        return GrantRequest(
            permissions=parse_permissions(",".join(self.permissions)),
            on=self.on,
            columns=tuple(self.columns) if self.columns is not None else None,
            exclude_columns=tuple(self.exclude_columns),
            filter=self.filter,
            on_tags=self.on_tags,
            tag_resource_type=self.resource_type,
            location=self.location,
            tag_values=self.tag_values,
            with_grant_option=self.with_grant_option,
        )


@router.get("", summary="Grants to a principal and/or on a resource, as far as the caller sees")
def list_grants(
    session: SessionDep,
    actor: CurrentActor,
    principal: str | None = None,
    resource: str | None = None,
) -> list[dict[str, Any]]:
    rows = grants.list_grants(session, actor=actor, principal=principal, resource=resource)
    return [grants.describe_grant(session, row) for row in rows]


@router.post("", status_code=201, summary="Grant permissions to a principal")
def create_grant(body: GrantCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = grants.grant(session, actor=actor, grantee=body.grantee, request=body.request())
    return grants.describe_grant(session, row)


@router.post(
    "/revoke",
    summary="Take permissions back (mirrors a grant); derived grants go too. Returns the ids "
    "of the grants revoked or narrowed",
)
def revoke(body: GrantCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    changed = grants.revoke(session, actor=actor, grantee=body.grantee, request=body.request())
    return {"revoked": changed}


@router.delete(
    "/{grant_id}", summary="Revoke one grant and every grant derived from it; returns their ids"
)
def revoke_grant(grant_id: Id, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return {"revoked": grants.revoke_grant(session, actor=actor, grant_id=grant_id)}
