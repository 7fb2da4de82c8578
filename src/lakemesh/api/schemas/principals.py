"""Principals (users, groups, services, domains), group members, and the hub's own status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.identity.principals import Relations
    from lakemesh.store.schema import Principal


class PrincipalCreate(RequestBody):
    name: str
    attributes: dict[str, str] = Field(default_factory=dict)


class PrincipalUpdate(RequestBody):
    set: dict[str, str] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class GroupMemberCreate(RequestBody):
    member: str


class PrincipalPublic(RowModel):
    name: str = Field(description="The principal's reference, e.g. user:alice@marketing")
    kind: str = Field(description="user, group, service or domain")
    domain: str
    attributes: dict[str, str]
    admin_of: list[str]
    groups: list[str]
    created_at: Timestamp
    members: list[str] | None = Field(default=None, description="A group's direct members")

    @classmethod
    def from_row(cls, row: Principal, relations: Relations) -> PrincipalPublic:
        return cls(**_principal_fields(row, relations))


class WhoAmI(PrincipalPublic):
    is_mesh_admin: bool

    @classmethod
    def of(cls, row: Principal, relations: Relations, *, is_mesh_admin: bool) -> WhoAmI:
        return cls(**_principal_fields(row, relations), is_mesh_admin=is_mesh_admin)


def _principal_fields(row: Principal, relations: Relations) -> dict[str, Any]:
    return {
        "name": row.ref,
        "kind": row.kind,
        "domain": row.domain.name,
        "attributes": dict(row.attributes or {}),
        "admin_of": relations.admin_of,
        "groups": relations.groups,
        "created_at": row.created_at.isoformat(),
        "members": relations.members,
    }


class Health(ResponseModel):
    status: str
    version: str
