"""Who connects: the user name is a principal, the password one of its lakemesh tokens.

Clients prove the token with SCRAM-SHA-256 (:mod:`lakemesh.identity.scram`), so it never
crosses the wire; with ``pgwire.tls_cleartext_password`` a TLS connection may send it in clear
instead (for tokens issued before verifiers existed). A wrong pair is refused like a wrong token
over HTTP (the same checks: unknown, expired, revoked, another principal's), and audited; a
successful connection is audited too (``audit search --action pgwire``).

>>> principal_of("mia@marketing"), principal_of("service:etl@sales")
('user:mia@marketing', 'service:etl@sales')
"""

from __future__ import annotations

from dataclasses import dataclass

from lakemesh import audit
from lakemesh.errors import AuthenticationError, InvalidInputError
from lakemesh.hub import Hub
from lakemesh.identity.scram import MECHANISM, principal_salt
from lakemesh.identity.tokens import authenticate, scram_tokens, token_actor
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_principal

RESOURCE = "pgwire"


def principal_of(user: str) -> str:
    """The principal a user name stands for: ``kind:name@domain``, or a user's short form."""
    return user if ":" in user else f"user:{user}"


def authenticate_connection(hub: Hub, *, user: str, password: str, client: str) -> Actor:
    """The actor of a connection whose user name is ``user`` and password ``password`` (sent
    in clear, over TLS).

    Raises:
        AuthenticationError: the token is missing, unknown, expired or revoked, or it belongs to
            another principal (the message does not say whose).
    """
    principal = principal_of(user.strip())
    try:
        principal = _parsed(principal)
        with hub.read() as session:
            actor = authenticate(session, password)
        if actor.ref != principal:
            raise AuthenticationError("Invalid API token")
    except AuthenticationError as e:
        raise refused(
            hub, user=user, principal=principal, reason=e.message, client=client
        ) from None
    return admitted(hub, actor, client=client, method="password")


@dataclass(frozen=True)
class ScramCandidates:
    """What a SCRAM exchange for one user name checks the client's proof against."""

    principal: str
    salt: bytes
    verifiers: list[str]
    token_ids: list[int]


def scram_candidates(hub: Hub, *, user: str) -> ScramCandidates:
    """The salt and token verifiers of the principal ``user`` names (none when it names no
    principal: the exchange then fails at its end, as with a wrong token)."""
    principal = principal_of(user.strip())
    try:
        principal = _parsed(principal)
    except AuthenticationError:
        return ScramCandidates(principal, principal_salt(principal), [], [])
    with hub.read() as session:
        salt, tokens = scram_tokens(session, principal)
        return ScramCandidates(
            principal,
            salt,
            [str(token.scram_verifier) for token in tokens],
            [token.id for token in tokens],
        )


def scram_authenticated(hub: Hub, *, user: str, token_id: int, client: str) -> Actor:
    """The actor of a connection whose SCRAM proof matched the token ``token_id``.

    Raises:
        AuthenticationError: the token is expired or revoked.
    """
    principal = principal_of(user.strip())
    try:
        with hub.read() as session:
            actor = token_actor(session, token_id)
    except AuthenticationError as e:
        raise refused(
            hub, user=user, principal=principal, reason=e.message, client=client
        ) from None
    return admitted(hub, actor, client=client, method=MECHANISM)


def _parsed(principal: str) -> str:
    try:
        return str(parse_principal(principal))
    except InvalidInputError as e:
        raise AuthenticationError(e.message) from None


def refused(
    hub: Hub, *, user: str, principal: str, reason: str, client: str
) -> AuthenticationError:
    """Audit a refused connection; returns the error to answer it with."""
    error = AuthenticationError(
        f'password authentication failed for user "{user}": {reason} (the password is '
        "a lakemesh token of that principal)",
        details={"user": user},
    )
    with hub.transaction() as session:
        audit.record(
            session,
            actor=principal,
            action=Action.PGWIRE_CONNECT,
            resource=RESOURCE,
            outcome="denied",
            details={"message": error.message, "client": client},
        )
    return error


def admitted(hub: Hub, actor: Actor, *, client: str, method: str) -> Actor:
    """Audit an authenticated connection (``method``: ``SCRAM-SHA-256`` or ``password``)."""
    with hub.transaction() as session:
        audit.record(
            session,
            actor=actor.ref,
            action=Action.PGWIRE_CONNECT,
            resource=RESOURCE,
            details={"client": client, "method": method},
        )
    return actor
