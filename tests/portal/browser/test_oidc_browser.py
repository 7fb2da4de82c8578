"""Signing in with the OpenID Connect provider in a real browser: the button, the provider's
redirects, the callback page that moves on by itself, and the session it leaves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.oidc_hub import MIA, OidcHub, oidc_hub

__all__ = ["oidc_hub"]  # the fixture

pytestmark = pytest.mark.slow


def test_signing_in_with_the_provider_lands_on_the_page_asked_for(
    tabs: Any, oidc_hub: OidcHub
) -> None:
    oidc_hub.provider.sign_in("u-7", preferred_username="mia@marketing", groups=["nimbus-analysts"])
    tab = tabs("oidc", base_url=oidc_hub.url)
    tab.open("/login?next=/%3Fvia%3Dsso")
    tab.check("sign-in with a provider")
    tab.page.locator("#login-oidc").click()
    tab.page.wait_for_url(f"{oidc_hub.url}/?via=sso")
    assert tab.page.locator("#viewer-name").inner_text() == MIA
    assert "group:analysts@marketing" in tab.page.locator("main").inner_text()
    tab.check("home after sign-in with a provider")
