"""Databases of a domain's catalog (``domain.database``)."""

from __future__ import annotations

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class DatabaseCreate(RequestBody):
    domain: str
    name: str
    description: str | None = None
    location: str | None = None


class DatabaseUpdate(RequestBody):
    description: str


class DatabasePublic(ResponseModel):
    name: str
    domain: str
    database: str
    description: str | None
    location: str | None
    created_at: Timestamp
