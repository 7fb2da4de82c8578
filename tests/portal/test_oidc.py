"""OpenID Connect sign-in against a provider speaking the real protocol on 127.0.0.1: the hub's
client (authorization request with PKCE, code redemption, ID token verification) and the
federated sign-in it leads to (principal, groups, token)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from lakemesh.errors import AccessDeniedError, AuthenticationError, InvalidInputError
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
from lakemesh.identity.federation import federated_principal
from lakemesh.portal.oidc import OidcClient, PendingSignIn
from lakemesh.portal.oidc_settings import OidcSettings, oidc_settings
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.portal.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, serve_provider

REDIRECT = "http://127.0.0.1:9/login/oidc/callback"  # never called: the test reads the redirect
GROUP_MAP = {"nimbus-analysts": "group:analysts@marketing", "nimbus-admins": "group:ops@marketing"}


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with serve_provider(OidcProvider()) as served:
        served.allow_redirect(REDIRECT)
        yield served


@pytest.fixture
def client(provider: OidcProvider) -> OidcClient:
    return OidcClient(
        OidcSettings(
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            groups_claim="groups",
            groups=GROUP_MAP,
        )
    )


def authorize(url: str) -> dict[str, str]:
    """What the browser does at the provider: follow the authorization URL to the redirect."""
    response = httpx.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_sign_in_yields_the_verified_identity(provider: OidcProvider, client: OidcClient) -> None:
    provider.sign_in("u-1", preferred_username="mia@marketing", groups=["nimbus-analysts"])
    url, pending = client.begin(redirect_uri=REDIRECT, next_path="/search")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [pending.state]
    assert query["nonce"] == [pending.nonce]
    assert pending.code_verifier not in url  # only its S256 challenge travels
    callback = authorize(url)
    identity = client.finish(pending, redirect_uri=REDIRECT, **callback)
    assert identity.principal == "user:mia@marketing"
    assert identity.subject == "u-1"
    assert identity.groups == ("nimbus-analysts",)
    assert identity.claims["aud"] in (CLIENT_ID, [CLIENT_ID])


def test_a_wrong_state_is_refused_before_the_code_is_redeemed(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.sign_in("u-1", preferred_username="mia@marketing")
    url, pending = client.begin(redirect_uri=REDIRECT)
    callback = authorize(url)
    redeemed_before = provider.token_requests
    with pytest.raises(AuthenticationError, match="state this browser did not send"):
        client.finish(pending, redirect_uri=REDIRECT, state="forged", code=callback["code"])
    assert provider.token_requests == redeemed_before


def test_a_pkce_verifier_that_does_not_match_is_refused_by_the_provider(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.sign_in("u-1", preferred_username="mia@marketing")
    url, pending = client.begin(redirect_uri=REDIRECT)
    callback = authorize(url)
    other = replace(pending, code_verifier=client.begin(redirect_uri=REDIRECT)[1].code_verifier)
    with pytest.raises(AuthenticationError, match="invalid_grant.*Code challenge failed"):
        client.finish(other, redirect_uri=REDIRECT, **callback)
    # A code is good once: the provider forgot it after the failed redemption or keeps refusing.


def test_the_provider_refusing_is_reported(client: OidcClient) -> None:
    _, pending = client.begin(redirect_uri=REDIRECT)
    with pytest.raises(AuthenticationError, match="refused the sign-in: access_denied"):
        client.finish(
            pending, redirect_uri=REDIRECT, state=pending.state, code=None, error="access_denied"
        )


def test_an_id_token_for_another_nonce_is_refused(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.sign_in("u-1", preferred_username="mia@marketing")
    url, pending = client.begin(redirect_uri=REDIRECT)
    callback = authorize(url)
    with pytest.raises(AuthenticationError, match="ID token is not valid.*nonce"):
        client.finish(replace(pending, nonce="another"), redirect_uri=REDIRECT, **callback)


def test_the_pending_sign_in_cookie_is_sealed() -> None:
    pending = PendingSignIn("s", "n", "v" * 43, started=__import__("time").time(), next="/x")
    sealed = pending.seal(b"k" * 32)
    assert PendingSignIn.unseal(sealed, b"k" * 32) == pending
    with pytest.raises(AuthenticationError, match="No sign-in with the identity provider"):
        PendingSignIn.unseal(sealed, b"other" * 8)
    body, _, signature = sealed.partition(".")
    with pytest.raises(AuthenticationError, match="No sign-in with the identity provider"):
        PendingSignIn.unseal(body[:-2] + "AA." + signature, b"k" * 32)
    with pytest.raises(AuthenticationError, match="No sign-in with the identity provider"):
        PendingSignIn.unseal(None, b"k" * 32)


def test_settings_are_off_unless_configured_and_checked() -> None:
    assert oidc_settings({"database_url": "sqlite://"}) is None
    with pytest.raises(InvalidInputError, match=r"oidc.client_id takes a non-empty text"):
        oidc_settings({"oidc": {"issuer": "https://idp", "client_secret": "s"}})
    with pytest.raises(InvalidInputError, match=r"\[oidc.groups\] maps provider groups"):
        oidc_settings(
            {"oidc": {"issuer": "i", "client_id": "c", "client_secret": "s", "groups": {"a": "b"}}}
        )
    with pytest.raises(InvalidInputError, match='includes "openid"'):
        oidc_settings(
            {"oidc": {"issuer": "i", "client_id": "c", "client_secret": "s", "scopes": []}}
        )


def _events(env: HubEnv, action: str) -> list[AuditEvent]:
    with env.hub.read() as session:
        return list(
            session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def _mesh(env: HubEnv) -> None:
    from lakemesh.catalog import domains

    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="marketing", consumer=True)
        for ref in ("user:mia@marketing", "group:analysts@marketing", "group:ops@marketing"):
            principals.create_principal(session, actor=env.admin, principal=ref)
        principals.add_member(
            session, actor=env.admin, group="group:ops@marketing", member="user:mia@marketing"
        )


def test_federated_principal_maps_groups(sqlite_env: HubEnv) -> None:
    _mesh(sqlite_env)
    with sqlite_env.hub.transaction() as session:
        row = federated_principal(
            session,
            issuer="http://idp",
            subject="u-1",
            principal="user:mia@marketing",
            provider_groups=["nimbus-analysts", "unmapped"],
            group_map=GROUP_MAP,
        )
        actor = load_actor(session, row)
    # The provider's word replaces the mapped memberships: analysts joined, ops left.
    assert actor.ref == "user:mia@marketing"
    assert actor.groups == {"group:analysts@marketing"}
    changes = {(e.action, e.resource) for e in _events(sqlite_env, "group.add_member")} | {
        (e.action, e.resource) for e in _events(sqlite_env, "group.remove_member")
    }
    assert ("group.add_member", "group:analysts@marketing") in changes
    assert ("group.remove_member", "group:ops@marketing") in changes
    (signed_in,) = _events(sqlite_env, "oidc.sign_in")
    assert signed_in.actor == "user:mia@marketing"
    assert signed_in.resource == "http://idp"
    assert signed_in.details["groups"] == ["group:analysts@marketing"]


@pytest.mark.parametrize("named", ["user:nobody@marketing", "group:analysts@marketing", "mia"])
def test_federated_principal_refuses_an_unknown_principal(sqlite_env: HubEnv, named: str) -> None:
    _mesh(sqlite_env)
    refused = pytest.raises(AccessDeniedError, match="Sign-in refused: .* is not a user or service")
    with refused, sqlite_env.hub.transaction() as session:
        federated_principal(
            session,
            issuer="http://idp",
            subject="u-2",
            principal=named,
            provider_groups=["nimbus-analysts"],
            group_map=GROUP_MAP,
        )
    (denied,) = _events(sqlite_env, "oidc.sign_in")
    assert denied.outcome == "denied"
    assert denied.resource == "http://idp"
    assert not _events(sqlite_env, "group.add_member")[1:]  # only the setup's own
