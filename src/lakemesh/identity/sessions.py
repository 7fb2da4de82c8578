"""Portal sessions: a browser signed in with a token (or another sign-in), kept server-side.

The browser holds only a random secret (its cookie); the store keeps its SHA-256 hash, the
principal, the token it was signed in with and a per-session CSRF token. Every request resumes
the session from the store, so signing out, an expiry, a revoked sign-in token or a removed
principal ends it at once, on every hub replica.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import AuthenticationError
from lakemesh.identity.actors import load_actor
from lakemesh.identity.tokens import hash_token, is_active
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import ApiToken, PortalSession, Principal

SESSION_PREFIX = "ps_"
SESSION_LIFETIME = timedelta(hours=12)
"""How long a session lasts at most (never longer than the token it was signed in with)."""
KEEP_FINISHED = timedelta(days=1)
"""How long an ended or expired session's row is kept (the audit trail keeps its events)."""


@dataclass(frozen=True)
class StartedSession:
    """A session as started: its secret (the cookie's value) is available only here, once."""

    secret: str
    csrf_token: str
    actor: Actor
    expires_at: datetime


@dataclass(frozen=True)
class ResumedSession:
    """The actor of a live session and the CSRF token its forms must carry."""

    id: int
    actor: Actor
    csrf_token: str
    expires_at: datetime


def start_session(
    session: Session, *, token: str, lifetime: timedelta = SESSION_LIFETIME
) -> StartedSession:
    """Sign in with an API token: a new session for the token's principal (audited).

    Raises:
        AuthenticationError: the token is missing, unknown, expired or revoked.
    """
    if not token.strip():
        raise AuthenticationError("Missing API token")
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    ).scalar()
    if row is None:
        raise AuthenticationError("Invalid API token")
    if not is_active(row):
        raise AuthenticationError(f"API token was revoked or has expired: {row.prefix}...")
    expires_at = clock.now() + lifetime
    if row.expires_at is not None:
        expires_at = min(expires_at, row.expires_at)
    return _start(session, row.principal, token=row, expires_at=expires_at, via="token")


def start_principal_session(
    session: Session,
    *,
    principal: Principal,
    via: str,
    lifetime: timedelta = SESSION_LIFETIME,
) -> StartedSession:
    """A new session for ``principal`` signed in by other means than a token (``via`` names
    them in the audit trail, e.g. ``oidc``); the caller has verified who it is."""
    return _start(session, principal, token=None, expires_at=clock.now() + lifetime, via=via)


def _start(
    session: Session,
    principal: Principal,
    *,
    token: ApiToken | None,
    expires_at: datetime,
    via: str,
) -> StartedSession:
    _forget_finished(session)
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = PortalSession(
        session_hash=hash_token(secret),
        principal_id=principal.id,
        token_id=token.id if token is not None else None,
        csrf_token=secrets.token_urlsafe(32),
        created_at=clock.now(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.ref,
        action=Action.SESSION_START,
        resource=principal.ref,
        details={
            "session_id": row.id,
            "via": via,
            "token_id": row.token_id,
            "expires_at": expires_at.isoformat(),
        },
    )
    return StartedSession(secret, row.csrf_token, load_actor(session, principal), expires_at)


def _forget_finished(session: Session) -> None:
    """Delete the rows of sessions that ended or expired more than :data:`KEEP_FINISHED` ago
    (each sign-in does it, so the table holds about a day of sign-ins)."""
    before = clock.now() - KEEP_FINISHED
    session.execute(
        delete(PortalSession).where(
            or_(PortalSession.expires_at < before, PortalSession.ended_at < before)
        )
    )


def _session_row(session: Session, secret: str | None) -> PortalSession | None:
    if not secret:
        return None
    return session.execute(
        select(PortalSession).where(PortalSession.session_hash == hash_token(secret))
    ).scalar()


def resume_session(session: Session, secret: str | None) -> ResumedSession:
    """The live session whose cookie is ``secret`` (reads only).

    Raises:
        AuthenticationError: no such session, or it ended, expired, or its sign-in token was
            revoked or expired.
    """
    row = _session_row(session, secret)
    if row is None:
        raise AuthenticationError("Not signed in")
    if row.ended_at is not None:
        raise AuthenticationError("The session has ended: sign in again")
    if row.expires_at <= clock.now():
        raise AuthenticationError("The session has expired: sign in again")
    if row.token_id is not None and (row.token is None or not is_active(row.token)):
        raise AuthenticationError("The token of the session was revoked or expired: sign in again")
    return ResumedSession(
        row.id, load_actor(session, row.principal), row.csrf_token, row.expires_at
    )


def end_session(session: Session, secret: str | None) -> None:
    """Sign out: the session's cookie no longer authenticates (audited; a no-op for a session
    that does not exist or has ended)."""
    row = _session_row(session, secret)
    if row is None or row.ended_at is not None:
        return
    row.ended_at = clock.now()
    audit.record(
        session,
        actor=row.principal.ref,
        action=Action.SESSION_END,
        resource=row.principal.ref,
        details={"session_id": row.id},
    )
