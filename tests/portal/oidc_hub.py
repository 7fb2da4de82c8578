"""A served hub whose ``config.toml`` names the test OpenID Connect provider (both on
127.0.0.1), with the principal mia and the group its provider group maps to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.hub import Hub
from tests.api.conftest import make_hub_home
from tests.portal.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, serve_provider

MIA = "user:mia@marketing"
GROUPS = {"nimbus-analysts": "group:analysts@marketing"}


@dataclass
class OidcHub:
    hub: Hub
    url: str
    admin_token: str
    provider: OidcProvider

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {self.admin_token}"}
        )


@pytest.fixture(scope="module")
def oidc_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcHub]:
    """A hub whose config.toml names the test provider, with the principal mia to sign in."""
    hub, token = make_hub_home(tmp_path_factory.mktemp("oidc") / "home")
    with serve_provider(OidcProvider()) as provider, serve_in_background(hub) as url:
        provider.allow_redirect(f"{url}/login/oidc/callback")
        hub.home.write_config(
            {
                "oidc": {
                    "issuer": provider.issuer,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "name": "NimbusCart SSO",
                    "scopes": ["openid", "profile", "groups"],
                    "groups_claim": "groups",
                    "groups": GROUPS,
                }
            }
        )
        served = OidcHub(hub, url, token, provider)
        with served.api() as api:
            api.post("/domains", json={"name": "marketing", "consumer": True}).raise_for_status()
            for name in (MIA, "group:analysts@marketing"):
                api.post("/principals", json={"name": name}).raise_for_status()
        yield served
    hub.close()
