"""Portal sign-in with an OpenID Connect provider: the authorization code flow with PKCE (S256).

Authlib's OAuth 2 client builds the authorization request and redeems the code; the ID token is
verified with joserfc (Authlib's JOSE library) against the provider's published keys. The
``[oidc]`` settings of ``config.toml`` (:mod:`lakemesh.portal.oidc_settings`) turn it on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lakemesh import clock
from lakemesh.errors import AuthenticationError
from lakemesh.hub import Hub
from lakemesh.portal.oidc_settings import OidcSettings, oidc_settings, principal_from_claim

with warnings.catch_warnings():
    # Authlib 1.9 would rather use the httpx2 fork; plain httpx (the hub's client) still works.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import OAuth2Client

CACHE_KEY = "portal.oidc"
PENDING_SECONDS = 600
"""How long a sign-in started at the provider may take to come back."""
METADATA_SECONDS = 3600
"""How long the provider's discovery document and keys are kept before they are read again."""
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in sent to the provider and not back yet: kept by the browser in a signed cookie
    (so any hub replica can finish it), read back only by :meth:`unseal`."""

    state: str
    nonce: str
    code_verifier: str
    started: float
    next: str = "/"

    def seal(self, secret: bytes) -> str:
        """The cookie value: the fields and an HMAC-SHA256 of them under ``secret``."""
        # Unpadded: a cookie value with "=" would travel quoted.
        body = base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode().rstrip("=")
        return f"{body}.{_signature(body, secret)}"

    @classmethod
    def unseal(cls, value: str | None, secret: bytes) -> PendingSignIn:
        """The pending sign-in of a cookie value made by :meth:`seal`.

        Raises:
            AuthenticationError: no cookie, a forged or altered one, or one older than
                ``PENDING_SECONDS``.
        """
        body, _, signature = (value or "").partition(".")
        if not body or not hmac.compare_digest(signature, _signature(body, secret)):
            raise AuthenticationError(
                "No sign-in with the identity provider is under way in this browser "
                "(start again from the sign-in page)"
            )
        pending = cls(**json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
        if clock.now().timestamp() - pending.started > PENDING_SECONDS:
            raise AuthenticationError(
                "The sign-in with the identity provider took too long (start again)"
            )
        return pending


def _signature(body: str, secret: bytes) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider vouched for: the verified ID token's subject, principal and groups."""

    issuer: str
    subject: str
    principal: str
    groups: tuple[str, ...]
    claims: dict[str, Any]


class OidcClient:
    """The hub as a client of one provider: starts sign-ins and finishes them.

    The provider's discovery document and keys are read once per ``METADATA_SECONDS`` (and the
    keys again when an ID token names a key the hub has not seen: the provider rotated them).
    """

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    @property
    def pending_key(self) -> bytes:
        """The key that signs pending sign-ins: derived from the client secret, so every hub
        replica configured for this provider shares it and nobody else can make one."""
        return hashlib.sha256(
            b"lakemesh oidc pending sign-in\0" + self.settings.client_secret.encode()
        ).digest()

    def begin(self, *, redirect_uri: str, next_path: str = "/") -> tuple[str, PendingSignIn]:
        """The provider's authorization URL to send the browser to, and what to keep meanwhile."""
        pending = PendingSignIn(
            state=generate_token(32),
            nonce=generate_token(32),
            code_verifier=generate_token(64),
            started=clock.now().timestamp(),
            next=next_path,
        )
        with self._oauth_client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self._endpoint("authorization_endpoint"),
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.code_verifier,
            )
        return str(url), pending

    def finish(
        self,
        pending: PendingSignIn,
        *,
        redirect_uri: str,
        state: str | None,
        code: str | None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> ProviderIdentity:
        """Check the callback's state, redeem its code (with the PKCE verifier) and verify the
        ID token; the identity it names.

        Raises:
            AuthenticationError: the provider refused, the state differs from the one sent, the
                code or verifier is refused, or the ID token does not verify.
        """
        if error:
            reason = f" ({error_description})" if error_description else ""
            raise AuthenticationError(f"The identity provider refused the sign-in: {error}{reason}")
        if not state or not secrets.compare_digest(state, pending.state):
            raise AuthenticationError(
                "The sign-in came back with a state this browser did not send (start again)"
            )
        if not code:
            raise AuthenticationError("The identity provider sent no authorization code")
        with self._oauth_client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    self._endpoint("token_endpoint"),
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                )
            except OAuthError as e:
                detail = f" ({e.description})" if e.description else ""
                raise AuthenticationError(
                    f"The identity provider refused the authorization code: {e.error}{detail}"
                ) from e
            except httpx.HTTPError as e:
                raise AuthenticationError(f"The identity provider cannot be reached: {e}") from e
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise AuthenticationError("The identity provider sent no ID token")
        claims = self._verified_claims(id_token, nonce=pending.nonce)
        return self._identity(claims)

    def _identity(self, claims: dict[str, Any]) -> ProviderIdentity:
        settings = self.settings
        named = claims.get(settings.principal_claim)
        if not isinstance(named, str) or not named:
            raise AuthenticationError(
                f"The ID token has no claim {settings.principal_claim} naming a principal"
            )
        groups: tuple[str, ...] = ()
        if settings.groups_claim:
            claimed = claims.get(settings.groups_claim, [])
            claimed = [claimed] if isinstance(claimed, str) else claimed
            if not isinstance(claimed, list):
                raise AuthenticationError(
                    f"The ID token's claim {settings.groups_claim} is not a list of groups"
                )
            groups = tuple(str(group) for group in claimed)
        return ProviderIdentity(
            issuer=settings.issuer,
            subject=str(claims["sub"]),
            principal=principal_from_claim(named),
            groups=groups,
            claims=claims,
        )

    def _verified_claims(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        algorithms = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in algorithms if alg != "none"]
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=algorithms)
            except JoseError:
                # A key the hub has not seen yet: the provider may have rotated its keys.
                decoded = jwt.decode(id_token, self._key_set(refresh=True), algorithms=algorithms)
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(clock.now().timestamp()),
                leeway=CLOCK_LEEWAY_SECONDS,
                iss={"essential": True, "value": self.settings.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.settings.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as e:
            raise AuthenticationError(f"The identity provider's ID token is not valid: {e}") from e
        claims = dict(decoded.claims)
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.settings.client_id:
            raise AuthenticationError(
                "The identity provider's ID token is not valid: it was issued to "
                f"{claims.get('azp')!r}, not {self.settings.client_id!r}"
            )
        return claims

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (``/.well-known/openid-configuration``).

        Raises:
            AuthenticationError: the provider cannot be reached, or names another issuer.
        """
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata[0] < (
                METADATA_SECONDS
            ):
                return self._metadata[1]
        url = f"{self.settings.issuer}/.well-known/openid-configuration"
        document = _get_json(url)
        if str(document.get("issuer", "")).rstrip("/") != self.settings.issuer:
            raise AuthenticationError(
                f"The identity provider at {url} names another issuer: {document.get('issuer')}"
            )
        with self._lock:
            self._metadata = (time.monotonic(), document)
        return document

    def _endpoint(self, name: str) -> str:
        value = self.metadata().get(name)
        if not isinstance(value, str):
            raise AuthenticationError(f"The identity provider publishes no {name}")
        return value

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if (
                not refresh
                and self._keys is not None
                and time.monotonic() - self._keys[0] < METADATA_SECONDS
            ):
                return self._keys[1]
        keys = KeySet.import_key_set(_get_json(self._endpoint("jwks_uri")))  # type: ignore[arg-type]
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def _oauth_client(self, redirect_uri: str) -> OAuth2Client:
        settings = self.settings
        return OAuth2Client(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scope=" ".join(settings.scopes),
            redirect_uri=settings.redirect_uri or redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT_SECONDS,
        )


def oidc_client(hub: Hub) -> OidcClient | None:
    """The hub's client of the provider its ``config.toml`` names; None when none is configured.

    One client per hub (it keeps the provider's metadata and keys), made anew when the settings
    change.

    Raises:
        InvalidInputError: the ``[oidc]`` settings are invalid.
    """
    settings = oidc_settings(hub.home.config())
    if settings is None:
        return None
    cached = hub.caches.get(CACHE_KEY)
    if isinstance(cached, OidcClient) and cached.settings == settings:
        return cached
    client = OidcClient(settings)
    hub.caches[CACHE_KEY] = client
    return client


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise AuthenticationError(f"The identity provider cannot be reached: {url}: {e}") from e
    if not isinstance(document, dict):
        raise AuthenticationError(f"The identity provider sent no JSON object from {url}")
    return document
