"""Attribute keys: the principal attributes row filters read, their values and their delegates."""

from __future__ import annotations

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class AttributeKeyCreate(RequestBody):
    key: str
    values: list[str]
    description: str | None = None


class AttributeKeyUpdate(RequestBody):
    values: list[str] | None = None
    description: str | None = None


class AttributeDelegation(RequestBody):
    principal: str


class AttributeKeyPublic(ResponseModel):
    key: str
    values: list[str]
    description: str | None
    delegates: list[str]
    created_at: Timestamp
