"""API tokens (the secret is shown once, when issued)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp, stamp

if TYPE_CHECKING:
    from lakemesh.identity.tokens import IssuedToken
    from lakemesh.store.schema import ApiToken


class TokenCreate(RequestBody):
    principal: str
    expires_in: str | None = None
    description: str | None = None


class TokenPublic(RowModel):
    """A token as the API shows it (never the secret)."""

    id: int
    principal: str
    prefix: str
    description: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    active: bool

    @classmethod
    def from_row(cls, row: ApiToken) -> TokenPublic:
        # Here, not at the top: the SDK (and so the CLI at startup) imports this module, and
        # the service layer must not load with it.
        from lakemesh.identity.tokens import is_active

        return cls(
            id=row.id,
            principal=row.principal.ref,
            prefix=row.prefix,
            description=row.description,
            created_at=row.created_at.isoformat(),
            expires_at=stamp(row.expires_at),
            revoked_at=stamp(row.revoked_at),
            active=is_active(row),
        )


class TokenIssued(RowModel):
    """A token as created: the only time its secret (``token``) is shown."""

    id: int
    token: str
    principal: str
    expires_at: Timestamp | None

    @classmethod
    def of(cls, issued: IssuedToken) -> TokenIssued:
        return cls(
            id=issued.id,
            token=issued.token,
            principal=issued.principal,
            expires_at=stamp(issued.expires_at),
        )
