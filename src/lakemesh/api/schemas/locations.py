"""Registered storage locations."""

from __future__ import annotations

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class LocationCreate(RequestBody):
    uri: str
    domain: str


class LocationPublic(ResponseModel):
    uri: str
    domain: str
    created_at: Timestamp
