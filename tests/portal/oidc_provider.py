"""An OpenID Connect provider for the tests, built on Authlib's authorization server (Flask):
discovery, JWKS, the authorization endpoint and the token endpoint of the authorization code
flow, PKCE (S256) required, ID tokens signed with RS256. Served by werkzeug on 127.0.0.1.

The provider has no login form: the test says who is signed in at the provider
(:meth:`OidcProvider.sign_in`), as a person would have done on the provider's own page.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "lakemesh-portal"
CLIENT_SECRET = "portal-secret-" + "x" * 16


@dataclass
class Account:
    """A person's account at the provider: subject and the claims its ID tokens carry."""

    subject: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """The hub, registered at the provider as a confidential client."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in {"openid", "profile", "email", "groups"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    account: Account
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class OidcProvider:
    """The provider's state: its signing key, registered client, accounts and issued codes."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.client = Client(CLIENT_ID, CLIENT_SECRET, [])
        self.account: Account | None = None
        self.codes: dict[str, AuthorizationCode] = {}
        self.issuer = ""
        self.token_requests = 0

    def sign_in(self, subject: str, **claims: Any) -> None:
        """The person now signed in at the provider (the one the next authorization is for)."""
        self.account = Account(subject, claims)

    def allow_redirect(self, uri: str) -> None:
        self.client.redirect_uris.append(uri)

    def app(self) -> Flask:
        app = Flask(__name__)
        server = AuthorizationServer(app, query_client=self._query_client, save_token=_no_op)
        server.register_grant(
            # Authlib makes a grant per request from the class: one bound to this provider.
            type("CodeGrant", (_CodeGrant,), {"provider": self}),
            [_OpenIDCode(self, require_nonce=True), CodeChallenge(required=True)],
        )

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                jwks_uri=f"{self.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic"],
                scopes_supported=["openid", "profile", "email", "groups"],
            )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize() -> Any:
            if self.account is None:
                return "Nobody is signed in at the provider", 401
            # PKCE is required of every client, confidential ones too (RFC 9700).
            if request.args.get("code_challenge_method") != "S256":
                return "code_challenge with S256 is required", 400
            try:
                grant = server.get_consent_grant(end_user=self.account)
            except OAuth2Error as error:
                return jsonify(dict(error.get_body())), error.status_code
            return server.create_authorization_response(grant_user=self.account, grant=grant)

        @app.post("/token")
        def token() -> Any:
            self.token_requests += 1
            return server.create_token_response()

        return app

    def _query_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None


def _no_op(token: Any, request: Any) -> None:
    """Access tokens are not kept: the hub uses only the ID token."""


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    provider: OidcProvider  # set on the subclass each provider registers

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload
        self.provider.codes[code] = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=payload.redirect_uri,
            scope=payload.scope,
            nonce=payload.data.get("nonce"),
            code_challenge=payload.data.get("code_challenge"),
            code_challenge_method=payload.data.get("code_challenge_method"),
            account=request.user,
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        found = self.provider.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Account:
        return authorization_code.account


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider, *, require_nonce: bool) -> None:
        super().__init__(require_nonce=require_nonce)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return KeySet([self.provider.key])

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": "test-key"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": [client.client_id]}

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return UserInfo(sub=user.subject, **user.claims)


@contextmanager
def serve_provider(provider: OidcProvider) -> Iterator[OidcProvider]:
    """Serve ``provider`` on a free 127.0.0.1 port until the block ends (its issuer is its URL)."""
    server = make_server("127.0.0.1", 0, provider.app(), threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
