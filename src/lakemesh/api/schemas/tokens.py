"""API tokens (the secret is shown once, when issued)."""

from __future__ import annotations

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class TokenCreate(RequestBody):
    principal: str
    expires_in: str | None = None
    description: str | None = None


class TokenPublic(ResponseModel):
    id: int
    principal: str
    prefix: str
    description: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    active: bool


class TokenIssued(ResponseModel):
    id: int
    token: str
    principal: str
    expires_at: Timestamp | None
