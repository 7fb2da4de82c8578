"""API tokens: shown once, stored only as a SHA-256 hash (and a SCRAM-SHA-256 verifier for
PostgreSQL clients, :mod:`lakemesh.identity.scram`), with expiry and revocation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz.guardrail_checks import check_token_lifetime
from lakemesh.errors import AuthenticationError, InvalidInputError, NotFoundError
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import administered_principal, get_principal
from lakemesh.identity.scram import make_verifier, principal_salt
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


MIN_NAMED_SECRET_LENGTH = 32
"""The shortest secret a named token may be made from (a random token is 46 characters)."""


def issue_token(
    session: Session,
    principal: Principal,
    *,
    expires_in: timedelta | None,
    description: str = "",
    secret: str | None = None,
    secret_name: str | None = None,
) -> IssuedToken:
    """Create a token for ``principal`` without authorization or audit (callers do both): a new
    random one, or the given ``secret`` (a named secret of the mesh files)."""
    secret = secret if secret is not None else TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(
        principal_id=principal.id,
        token_hash=hash_token(secret),
        prefix=secret[:10] if secret_name is None else TOKEN_PREFIX + "named",
        scram_verifier=make_verifier(secret, principal_salt(principal.id)),
        description=description,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
        secret_name=secret_name,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row.id, secret, principal.ref, row.expires_at)


def revoke_named_token(session: Session, *, actor: Actor, principal: str, secret_name: str) -> None:
    """Revoke the live tokens of ``principal`` made from the secret ``secret_name``."""
    row = get_principal(session, principal)
    for token in named_tokens(session, principal_id=row.id, secret_name=secret_name):
        revoke_token(session, actor=actor, token_id=token.id)


def _token_holder(session: Session, *, actor: Actor, principal: str) -> Principal:
    row = get_principal(session, principal)
    if row.kind == "group":
        raise InvalidInputError(f"Groups cannot hold tokens: {row.ref}")
    if row.id != actor.id:
        actor.require_domain_admin(row.domain.name, action=Action.TOKEN_CREATE, resource=row.ref)
    return row


def _record_created(session: Session, actor: Actor, issued: IssuedToken, **details: Any) -> None:
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TOKEN_CREATE,
        resource=issued.principal,
        details={
            "token_id": issued.id,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
            **details,
        },
    )


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
    row = _token_holder(session, actor=actor, principal=principal)
    check_token_lifetime(session, actor=actor, principal=row.ref, expires_in=expires_in)
    issued = issue_token(session, row, expires_in=expires_in, description=description)
    _record_created(session, actor, issued)
    return issued


def register_named_token(
    session: Session,
    *,
    actor: Actor,
    principal: str,
    secret_name: str,
    secret: str | None,
    expires_at: datetime | None = None,
    description: str = "",
) -> IssuedToken:
    """Make the secret named ``secret_name`` (given by the caller, from its environment or a
    secrets file) a token of ``principal``, replacing a live token of that name: what the mesh
    files' ``tokens: [{secret_env: NAME}]`` say. Only its hash and its name are kept. Without
    ``secret``, the live token of that name keeps its secret and takes the description and expiry.

    Checked as :func:`create_token` (the domain's admins; the ``max-token-lifetime`` guardrail).

    Raises:
        InvalidInputError: a secret shorter than 32 characters, or one another token already is.
        NotFoundError: no ``secret`` and no live token of that name.
    """
    row = _token_holder(session, actor=actor, principal=principal)
    if secret is None:
        live = named_tokens(session, principal_id=row.id, secret_name=secret_name)
        if not live:
            raise NotFoundError(
                f"Token does not exist: {secret_name} of {row.ref}",
                details={"secret": secret_name, "principal": row.ref},
            )
        wanted_hash = live[-1].token_hash
    elif len(secret) < MIN_NAMED_SECRET_LENGTH:
        raise InvalidInputError(
            f"Secret {secret_name} is too short for a token of {row.ref}: "
            f"at least {MIN_NAMED_SECRET_LENGTH} characters",
            details={"secret": secret_name, "principal": row.ref},
        )
    else:
        wanted_hash = hash_token(secret)
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInputError(
            f"Token {secret_name} of {row.ref} expired already: {expires_at.isoformat()}",
            details={"secret": secret_name, "principal": row.ref},
        )
    expires_in = expires_at - now if expires_at is not None else None
    check_token_lifetime(session, actor=actor, principal=row.ref, expires_in=expires_in)
    for old in named_tokens(session, principal_id=row.id, secret_name=secret_name):
        if old.token_hash == wanted_hash:  # the same secret: its description or expiry changes
            old.description, old.expires_at = description, expires_at
            same = IssuedToken(old.id, "", row.ref, expires_at)
            _record_created(session, actor, same, secret_name=secret_name, updated=True)
            return same
        old.revoked_at = now
        audit.record(
            session,
            actor=actor.ref,
            action=Action.TOKEN_REVOKE,
            resource=row.ref,
            details={"token_id": old.id, "secret_name": secret_name},
        )
    assert secret is not None  # without one, the live token of that name was found above
    taken = session.execute(select(ApiToken.id).where(ApiToken.token_hash == wanted_hash)).scalar()
    if taken is not None:
        raise InvalidInputError(
            f"Secret {secret_name} is or was another token: give each token a secret of its own",
            details={"secret": secret_name, "principal": row.ref},
        )
    issued = issue_token(
        session,
        row,
        expires_in=expires_in,
        description=description,
        secret=secret,
        secret_name=secret_name,
    )
    if expires_at is not None:
        # Exactly as the files say (not now + the lifetime): the next export is the same.
        session.get_one(ApiToken, issued.id).expires_at = expires_at
        issued = IssuedToken(issued.id, "", issued.principal, expires_at)
    _record_created(session, actor, issued, secret_name=secret_name)
    return IssuedToken(issued.id, "", issued.principal, issued.expires_at)


def named_tokens(
    session: Session, *, principal_id: int | None = None, secret_name: str | None = None
) -> Sequence[ApiToken]:
    """Live (not revoked) tokens made from named secrets, of one principal or name if given."""
    query = select(ApiToken).where(ApiToken.secret_name.is_not(None), ApiToken.revoked_at.is_(None))
    if principal_id is not None:
        query = query.where(ApiToken.principal_id == principal_id)
    if secret_name is not None:
        query = query.where(ApiToken.secret_name == secret_name)
    return session.execute(query.order_by(ApiToken.id)).scalars().all()


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
    return _actor_of(session, row)


def token_actor(session: Session, token_id: int) -> Actor:
    """The actor of the token ``token_id``, which a client proved it holds (over SCRAM).

    Raises:
        AuthenticationError: the token does not exist, is expired or revoked.
    """
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AuthenticationError("Invalid API token")
    return _actor_of(session, row)


def _actor_of(session: Session, row: ApiToken) -> Actor:
    if row.revoked_at is not None:
        raise AuthenticationError(f"API token was revoked: {row.prefix}...")
    if row.expires_at is not None and row.expires_at <= clock.now():
        raise AuthenticationError(f"API token expired: {row.prefix}...")
    return load_actor(session, row.principal)


def scram_tokens(session: Session, principal: str) -> tuple[bytes, list[ApiToken]]:
    """The SCRAM salt of ``principal`` and its tokens that have a verifier (active or not: a
    proof of a revoked token is refused as revoked). An unknown principal gets a salt of its
    name and no token, so the exchange does not tell who exists."""
    row = session.execute(select(Principal).where(Principal.ref == principal)).scalar()
    if row is None:
        return principal_salt(principal), []
    tokens = session.execute(
        select(ApiToken).where(
            ApiToken.principal_id == row.id, ApiToken.scram_verifier.is_not(None)
        )
    ).scalars()
    return principal_salt(row.id), list(tokens)


def record_refused_token(session: Session, *, token: str, reason: str, client: str) -> None:
    """Audit a presented token that was refused (``api.authenticate``, denied), as refused
    PostgreSQL connections are: by the principal it belongs to when it is known (a revoked or
    expired token), else by ``anonymous``; never the token, only its prefix when known."""
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar()
    details = {"message": reason, "client": client}
    if row is not None:
        details["token"] = f"{row.prefix}..."
    audit.record(
        session,
        actor=row.principal.ref if row is not None else "anonymous",
        action=Action.API_AUTHENTICATE,
        resource="api",
        outcome="denied",
        details=details,
    )


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
