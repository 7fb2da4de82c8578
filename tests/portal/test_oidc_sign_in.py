"""Signing in to the portal with an OpenID Connect provider, over real HTTP: the hub served by
uvicorn, the provider (Authlib's server, ``oidc_provider.py``) on another 127.0.0.1 port, and a
client that carries cookies and follows the redirects a browser would."""

from __future__ import annotations

from dataclasses import replace

import httpx

from lakemesh.portal.oidc import PendingSignIn, oidc_client
from lakemesh.portal.routes.oidc import PENDING_COOKIE
from lakemesh.portal.security import SESSION_COOKIE
from tests.portal.conftest import Browser, PortalServer
from tests.portal.oidc_hub import MIA, OidcHub, oidc_hub

__all__ = ["oidc_hub"]  # the fixture


def _start(browser: Browser, next_path: str = "/") -> str:
    """Press the provider's button on the sign-in page; the provider's authorization URL."""
    page = browser.get("/login", next=next_path)
    assert 'id="login-oidc"' in page.text
    assert "Sign in with NimbusCart SSO" in page.text
    started = browser.client.get("/login/oidc", params={"next": next_path})
    assert started.status_code == 303
    cookie = next(h for h in started.headers.get_list("set-cookie") if PENDING_COOKIE in h)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie  # the provider's redirect back is a cross-site navigation
    return started.headers["location"]


def _at_provider(url: str) -> str:
    """What the provider answers the browser: the redirect to the hub's callback."""
    answered = httpx.get(url)
    assert answered.status_code == 302, answered.text
    return answered.headers["location"]


def test_signing_in_with_the_provider_starts_a_session_with_mapped_groups(
    oidc_hub: OidcHub,
) -> None:
    oidc_hub.provider.sign_in("u-1", preferred_username="mia@marketing", groups=["nimbus-analysts"])
    browser = Browser(oidc_hub.url)
    callback = _at_provider(_start(browser, "/?from=sso"))
    assert callback.startswith(f"{oidc_hub.url}/login/oidc/callback?")
    landed = browser.client.get(callback)
    assert landed.status_code == 200, landed.text
    assert '<meta http-equiv="refresh" content="0; url=/?from=sso">' in landed.text
    session_cookie = next(
        h for h in landed.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")
    )
    assert "HttpOnly" in session_cookie
    assert "SameSite=strict" in session_cookie
    home = browser.get("/")
    assert home.status_code == 200
    assert f'<span id="viewer-name">{MIA}</span>' in home.text
    with oidc_hub.api() as api:
        group = api.get("/principals/group:analysts@marketing").json()
        events = api.get("/audit/events", params={"action": "oidc.sign_in"}).json()
    assert MIA in group["members"]
    assert any(e["actor"] == MIA and e["outcome"] == "success" for e in events)
    browser.close()


def test_a_callback_with_another_state_is_refused(oidc_hub: OidcHub) -> None:
    oidc_hub.provider.sign_in("u-1", preferred_username="mia@marketing")
    browser = Browser(oidc_hub.url)
    callback = _at_provider(_start(browser))
    forged = callback.replace("state=", "state=forged")
    refused = browser.client.get(forged)
    assert refused.status_code == 401
    assert "state this browser did not send" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    browser.close()


def test_a_callback_without_the_browsers_pending_sign_in_is_refused(oidc_hub: OidcHub) -> None:
    oidc_hub.provider.sign_in("u-1", preferred_username="mia@marketing")
    started_elsewhere = Browser(oidc_hub.url)
    callback = _at_provider(_start(started_elsewhere))
    victim = Browser(oidc_hub.url)  # login CSRF: another browser gets the attacker's code
    refused = victim.client.get(callback)
    assert refused.status_code == 401
    assert "No sign-in with the identity provider is under way" in refused.text
    started_elsewhere.close()
    victim.close()


def test_a_pkce_verifier_other_than_the_challenges_is_refused(oidc_hub: OidcHub) -> None:
    oidc_hub.provider.sign_in("u-1", preferred_username="mia@marketing")
    browser = Browser(oidc_hub.url)
    callback = _at_provider(_start(browser))
    client = oidc_client(oidc_hub.hub)
    assert client is not None
    pending = PendingSignIn.unseal(browser.client.cookies[PENDING_COOKIE], client.pending_key)
    other = replace(pending, code_verifier="v" * 64).seal(client.pending_key)
    browser.client.cookies.set(PENDING_COOKIE, other, path="/login/oidc")
    refused = browser.client.get(callback)
    assert refused.status_code == 401
    assert "invalid_grant" in refused.text
    assert "Code challenge failed" in refused.text
    browser.close()


def test_a_principal_the_mesh_does_not_know_is_refused(oidc_hub: OidcHub) -> None:
    oidc_hub.provider.sign_in("u-9", preferred_username="nobody@marketing")
    browser = Browser(oidc_hub.url)
    refused = browser.client.get(_at_provider(_start(browser)))
    assert refused.status_code == 403
    assert "Sign-in refused: user:nobody@marketing" in refused.text
    assert browser.get("/").status_code == 303  # not signed in
    with oidc_hub.api() as api:
        events = api.get("/audit/events", params={"action": "oidc.sign_in"}).json()
    assert any(e["actor"] == "user:nobody@marketing" and e["outcome"] == "denied" for e in events)
    browser.close()


def test_sign_in_with_a_provider_is_off_unless_configured(
    portal_server: PortalServer, browser: Browser
) -> None:
    page = browser.get("/login")
    assert page.status_code == 200
    assert "login-oidc" not in page.text
    assert browser.get("/login/oidc").status_code == 404
    assert browser.get("/login/oidc/callback", state="x", code="y").status_code == 404
