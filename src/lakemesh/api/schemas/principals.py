"""Principals (users, groups, services, domains), group members, and the hub's own status."""

from __future__ import annotations

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class PrincipalCreate(RequestBody):
    name: str
    attributes: dict[str, str] = Field(default_factory=dict)


class PrincipalUpdate(RequestBody):
    set: dict[str, str] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class GroupMemberCreate(RequestBody):
    member: str


class PrincipalPublic(ResponseModel):
    name: str = Field(description="The principal's reference, e.g. user:alice@marketing")
    kind: str = Field(description="user, group, service or domain")
    domain: str
    attributes: dict[str, str]
    admin_of: list[str]
    groups: list[str]
    created_at: Timestamp
    members: list[str] | None = Field(default=None, description="A group's direct members")


class WhoAmI(PrincipalPublic):
    is_mesh_admin: bool


class Health(ResponseModel):
    status: str
    version: str
