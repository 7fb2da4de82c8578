"""API tokens: shown once, stored only as a SHA-256 hash, with expiry and revocation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz.guardrail_checks import check_token_lifetime
from lakemesh.errors import AuthenticationError, InvalidInputError, NotFoundError
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import administered_principal, get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import ApiToken, Principal

TOKEN_PREFIX = "lm_"


def hash_token(token: str) -> str:
    """The stored form of a token. Tokens are 256-bit random, so a plain SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token as created: the secret is available only here, once."""

    id: int
    token: str
    principal: str
    expires_at: datetime | None


def issue_token(
    session: Session, principal: Principal, *, expires_in: timedelta | None, description: str = ""
) -> IssuedToken:
    """Create a token for ``principal`` without authorization or audit (callers do both)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(
        principal_id=principal.id,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        description=description,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row.id, secret, principal.ref, row.expires_at)


def create_token(
    session: Session,
    *,
    actor: Actor,
    principal: str,
    expires_in: timedelta | None = None,
    description: str = "",
) -> IssuedToken:
    """Create a token for a principal of a domain the actor administers (or for the actor).

    A ``max-token-lifetime`` guardrail refuses tokens without expiry or living longer.
    """
    row = get_principal(session, principal)
    if row.kind == "group":
        raise InvalidInputError(f"Groups cannot hold tokens: {row.ref}")
    if row.id != actor.id:
        actor.require_domain_admin(row.domain.name, action=Action.TOKEN_CREATE, resource=row.ref)
    check_token_lifetime(session, actor=actor, principal=row.ref, expires_in=expires_in)
    issued = issue_token(session, row, expires_in=expires_in, description=description)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TOKEN_CREATE,
        resource=row.ref,
        details={
            "token_id": issued.id,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
        },
    )
    return issued


def authenticate(session: Session, token: str | None) -> Actor:
    """The actor a bearer token stands for.

    Raises:
        AuthenticationError: the token is missing, unknown, expired or revoked.
    """
    if not token:
        raise AuthenticationError("Missing API token (send 'Authorization: Bearer <token>')")
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar()
    if row is None:
        raise AuthenticationError("Invalid API token")
    if row.revoked_at is not None:
        raise AuthenticationError(f"API token was revoked: {row.prefix}...")
    if row.expires_at is not None and row.expires_at <= clock.now():
        raise AuthenticationError(f"API token expired: {row.prefix}...")
    return load_actor(session, row.principal)


def token_expiry(session: Session, token: str) -> datetime | None:
    """When a valid token (see :func:`authenticate`) expires; None when it never does."""
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar()
    return row.expires_at if row is not None else None


def _token_row(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"Token does not exist: {token_id}", details={"token_id": token_id})
    return row


def revoke_token(session: Session, *, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token: the next request that presents it gets 401."""
    row = _token_row(session, token_id)
    if row.principal_id != actor.id and not actor.administers(row.principal.domain.name):
        # Someone else's token reads as one that does not exist (its owner stays unnamed).
        raise actor.conceal(
            NotFoundError(f"Token does not exist: {token_id}", details={"token_id": token_id}),
            reason=f"{actor.ref} may not revoke token {token_id} of {row.principal.ref}",
            action=Action.TOKEN_REVOKE,
            resource=f"token {token_id}",
        )
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TOKEN_REVOKE,
        resource=row.principal.ref,
        details={"token_id": row.id},
    )
    return row


def list_tokens(
    session: Session, *, actor: Actor, principal: str | None = None
) -> Sequence[ApiToken]:
    """Tokens of a principal (without secrets): one's own, or any in a domain one administers."""
    row = (
        administered_principal(
            session, actor=actor, principal=principal, action=Action.TOKEN_LIST, itself=True
        )
        if principal
        else None
    )
    target_id = row.id if row is not None else actor.id
    return (
        session.execute(
            select(ApiToken).where(ApiToken.principal_id == target_id).order_by(ApiToken.id)
        )
        .scalars()
        .all()
    )


def is_active(row: ApiToken) -> bool:
    """Whether the token still authenticates: not revoked, not expired."""
    expired = row.expires_at is not None and row.expires_at <= clock.now()
    return row.revoked_at is None and not expired
