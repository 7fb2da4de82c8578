"""Signing in and out of the portal with a real token over real HTTP: cookies, CSRF, the
Content-Security-Policy, and sessions that end on sign-out, expiry and token revocation."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from lakemesh.portal.security import SESSION_COOKIE
from lakemesh.store.schema import AuditEvent, PortalSession, Principal
from tests.conftest import FrozenClock
from tests.portal.conftest import Browser, PortalServer

ADMIN = "user:admin@governance"


def _set_cookie(response: httpx.Response, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def _new_user_token(portal_server: PortalServer, name: str) -> tuple[str, int]:
    """A new user of the governance domain and a token of it (its secret and id)."""
    with portal_server.api(portal_server.admin_token) as api:
        created = api.post("/principals", json={"name": f"user:{name}@governance"})
        assert created.status_code == 201, created.text
        issued = api.post("/tokens", json={"principal": f"user:{name}@governance"})
        assert issued.status_code == 201, issued.text
        return issued.json()["token"], issued.json()["id"]


def test_a_page_asks_an_anonymous_visitor_to_sign_in(browser: Browser) -> None:
    response = browser.get("/", section="products")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fsection%3Dproducts"


def test_the_sign_in_form_has_a_labelled_token_field(browser: Browser) -> None:
    page = browser.get("/login")
    assert page.status_code == 200
    assert '<label for="token">' in page.text
    assert re.search(r'<input id="token" name="token" type="password"', page.text)


def test_signing_in_sets_a_strict_http_only_session_cookie_and_lands_home(
    portal_server: PortalServer, browser: Browser
) -> None:
    response = browser.sign_in(portal_server.admin_token)
    assert response.headers["location"] == "/"
    cookie = _set_cookie(response, SESSION_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here; over HTTPS it is Secure
    assert portal_server.admin_token not in cookie  # the cookie is a session, not the token
    home = browser.get("/")
    assert home.status_code == 200
    assert f'<span id="viewer-name">{ADMIN}</span>' in home.text


def test_signing_in_goes_back_to_the_page_asked_for_but_never_to_another_site(
    portal_server: PortalServer, browser: Browser
) -> None:
    browser.get("/login")
    back = browser.post("/login", {"token": portal_server.admin_token, "next": "/search?q=x"})
    assert back.headers["location"] == "/search?q=x"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        browser.get("/login")
        response = browser.post("/login", {"token": portal_server.admin_token, "next": elsewhere})
        assert response.headers["location"] == "/"


@pytest.mark.parametrize("token", ["", "lm_not-a-token"])
def test_a_bad_token_is_refused_on_the_form(browser: Browser, token: str) -> None:
    browser.get("/login")
    response = browser.post("/login", {"token": token, "next": "/"})
    assert response.status_code == 401
    assert 'id="login-error"' in response.text
    assert "Invalid API token" in response.text or "Missing API token" in response.text
    assert not any(
        h.startswith(f"{SESSION_COOKIE}=") for h in response.headers.get_list("set-cookie")
    )


def test_the_sign_in_form_is_refused_without_its_csrf_token(
    portal_server: PortalServer, browser: Browser
) -> None:
    browser.get("/login")
    for sent in ({}, {"csrf_token": "forged"}):
        response = browser.post("/login", {"token": portal_server.admin_token, **sent}, csrf=False)
        assert response.status_code == 403
        assert "CSRF token" in response.text


def test_a_form_without_the_sessions_csrf_token_is_refused(
    portal_server: PortalServer, browser: Browser
) -> None:
    browser.sign_in(portal_server.admin_token)
    browser.get("/")
    for sent in ({}, {"csrf_token": "forged"}):
        refused = browser.post("/logout", sent, csrf=False)
        assert refused.status_code == 403
        assert "CSRF token" in refused.text
    assert browser.get("/").status_code == 200  # still signed in


def test_a_sessions_csrf_token_does_not_serve_another_session(
    portal_server: PortalServer,
) -> None:
    first, second = portal_server.browser(), portal_server.browser()
    first.sign_in(portal_server.admin_token)
    second.sign_in(portal_server.admin_token)
    first.get("/")
    second.get("/")
    assert first.csrf_token != second.csrf_token
    assert second.post("/logout", {"csrf_token": first.csrf_token}, csrf=False).status_code == 403


def test_pages_carry_a_policy_against_inline_script_and_other_origins(
    portal_server: PortalServer, browser: Browser
) -> None:
    browser.sign_in(portal_server.admin_token)
    for path in ("/login", "/"):
        response = browser.get(path)
        policy = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        # and the pages need no more: every script is a file of this origin
        assert re.findall(r"<script(?![^>]*\ssrc=\"/)", response.text) == []
        assert not re.search(r"\son[a-z]+=", response.text)
        assert not re.search(r"(src|href)=\"(https?:)?//", response.text)


def test_assets_are_served_by_the_hub(portal_server: PortalServer) -> None:
    with httpx.Client(base_url=portal_server.url, timeout=60) as client:
        for path in ("/static/portal/portal.css", "/static/portal/portal.js"):
            assert client.get(path).status_code == 200


def test_signing_out_ends_the_session_on_the_server(
    portal_server: PortalServer, browser: Browser
) -> None:
    signed_in = browser.sign_in(portal_server.admin_token)
    secret = _set_cookie(signed_in, SESSION_COOKIE).split(";")[0].split("=", 1)[1]
    browser.get("/")
    response = browser.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Max-Age=0" in _set_cookie(response, SESSION_COOKIE)
    # The old cookie, sent again (say, by a copy kept elsewhere), no longer authenticates.
    with httpx.Client(
        base_url=portal_server.url, cookies={SESSION_COOKIE: secret}, timeout=60
    ) as replay:
        assert replay.get("/").status_code == 303


def test_revoking_the_sign_in_token_ends_its_sessions(portal_server: PortalServer) -> None:
    token, token_id = _new_user_token(portal_server, "revoked_reader")
    browser = portal_server.browser()
    browser.sign_in(token)
    assert browser.get("/").status_code == 200
    with portal_server.api(token) as api:
        assert api.delete(f"/tokens/{token_id}").status_code == 200
    response = browser.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_session_expires(
    portal_server: PortalServer, browser: Browser, frozen_clock: FrozenClock
) -> None:
    browser.sign_in(portal_server.admin_token)
    assert browser.get("/").status_code == 200
    frozen_clock.advance(timedelta(hours=13))
    assert browser.get("/").status_code == 303


def test_signing_in_and_out_is_audited(portal_server: PortalServer) -> None:
    token, _ = _new_user_token(portal_server, "audited_reader")
    browser = portal_server.browser()
    browser.sign_in(token)
    browser.get("/")
    browser.post("/logout")
    with portal_server.hub.read() as session:
        actions = session.execute(
            select(AuditEvent.action)
            .where(AuditEvent.actor == "user:audited_reader@governance")
            .order_by(AuditEvent.seq)
        ).scalars()
        assert list(actions) == ["session.start", "session.end"]


def test_rows_of_finished_sessions_are_forgotten_a_day_later(
    portal_server: PortalServer, frozen_clock: FrozenClock
) -> None:
    token, _ = _new_user_token(portal_server, "forgetful_reader")
    first, second = portal_server.browser(), portal_server.browser()
    first.sign_in(token)
    second.sign_in(token)
    first.get("/")
    first.post("/logout")

    def kept() -> int:
        with portal_server.hub.read() as session:
            return len(
                session.execute(
                    select(PortalSession)
                    .join(PortalSession.principal)
                    .where(Principal.ref == "user:forgetful_reader@governance")
                ).all()
            )

    assert kept() == 2
    frozen_clock.advance(timedelta(hours=36))  # the first ended, the second expired 24 h ago
    portal_server.browser().sign_in(token)
    assert kept() == 2  # the first is gone, the second (expired 24 h ago) still kept
    frozen_clock.advance(timedelta(hours=1))
    portal_server.browser().sign_in(token)
    assert kept() == 2  # the second is gone: the two new ones remain
