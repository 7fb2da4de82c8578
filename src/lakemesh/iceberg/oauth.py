"""OAuth2 client credentials for Iceberg clients: a lakemesh API token exchanged for itself.

pyiceberg and DuckDB's iceberg extension fall back to ``POST /v1/oauth/tokens`` with
``grant_type=client_credentials``; the client secret is a lakemesh API token (the client id is
free text, for the client's own bookkeeping). The answer is that token as a bearer access
token, with its remaining lifetime, so every later request authenticates as usual.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.errors import AuthenticationError, InvalidInputError
from lakemesh.identity.tokens import authenticate, token_expiry

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def exchange_token(
    session: Session, *, grant_type: str | None, client_secret: str | None
) -> dict[str, Any]:
    """The OAuth2 token response for a client-credentials grant whose secret is an API token.

    Raises:
        InvalidInputError: another grant type (``unsupported_grant_type``).
        AuthenticationError: the secret is not a valid, unexpired, unrevoked API token.
    """
    if grant_type != "client_credentials":
        raise InvalidInputError(
            f"Unsupported grant type: {grant_type!r} (use client_credentials with an API token "
            "as the client secret)",
            details={"oauth_error": "unsupported_grant_type"},
        )
    if not client_secret:
        raise AuthenticationError("Missing client secret (an API token of the hub)")
    authenticate(session, client_secret)
    response: dict[str, Any] = {
        "access_token": client_secret,
        "token_type": "bearer",
        "issued_token_type": ACCESS_TOKEN_TYPE,
    }
    expires = token_expiry(session, client_secret)
    if expires is not None:
        response["expires_in"] = max(0, int((expires - clock.now()).total_seconds()))
    return response
