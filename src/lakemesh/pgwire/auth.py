"""Who connects: the user name is a principal, the password one of its lakemesh tokens.

A wrong pair is refused like a wrong token over HTTP (the same check, ``authenticate``), and
audited; a successful connection is audited too (``audit search --action pgwire``).

>>> principal_of("mia@marketing"), principal_of("service:etl@sales")
('user:mia@marketing', 'service:etl@sales')
"""

from __future__ import annotations

from lakemesh import audit
from lakemesh.errors import AuthenticationError, InvalidInputError
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_principal

RESOURCE = "pgwire"


def principal_of(user: str) -> str:
    """The principal a user name stands for: ``kind:name@domain``, or a user's short form."""
    return user if ":" in user else f"user:{user}"


def authenticate_connection(hub: Hub, *, user: str, password: str, client: str) -> Actor:
    """The actor of a connection whose user name is ``user`` and password ``password``.

    Raises:
        AuthenticationError: the token is missing, unknown, expired or revoked, or it belongs to
            another principal (the message does not say whose).
    """
    principal = principal_of(user.strip())
    try:
        try:
            principal = str(parse_principal(principal))
        except InvalidInputError as e:
            raise AuthenticationError(e.message) from None
        with hub.read() as session:
            actor = authenticate(session, password)
        if actor.ref != principal:
            raise AuthenticationError("Invalid API token")
    except AuthenticationError as e:
        refused = AuthenticationError(
            f'password authentication failed for user "{user}": {e.message} (the password is '
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
                details={"message": refused.message, "client": client},
            )
        raise refused from None
    with hub.transaction() as session:
        audit.record(
            session,
            actor=actor.ref,
            action=Action.PGWIRE_CONNECT,
            resource=RESOURCE,
            details={"client": client},
        )
    return actor
