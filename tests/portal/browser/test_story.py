"""The portal's story on the NimbusCart demo, walked in a real browser by each persona: every page
they see is screenshotted (``test-artifacts/portal/``) and held to axe (no serious or critical
violation).

The story of the issue: the analyst searches, opens ``sales_customers``, sees email and phone
marked hidden and requests access; the sales admin approves from the inbox; the analyst sees
the subscription approved and queries through it in the query editor; the steward finds both
events in the audit page. Steps are written as their pages reach main; written so far: signing
in through the form, the home page with the products every persona may discover.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.browser.conftest import StoryHub, Tab

pytestmark = pytest.mark.slow

ANALYST, SALES_ADMIN, STEWARD = "marketing-analyst", "sales-admin", "steward"
PRINCIPALS = {
    ANALYST: "user:mia@marketing",
    SALES_ADMIN: "user:sam@sales",
    STEWARD: "user:steward@governance",
}


def _persona(tabs: Any, story_hub: StoryHub, profile: str) -> Tab:
    tab: Tab = tabs(profile, base_url=story_hub.url)
    tab.open("/login")
    tab.check("sign-in")
    tab.sign_in(story_hub.demo.tokens[profile])
    assert tab.page.locator("#viewer-name").inner_text() == PRINCIPALS[profile]
    return tab


def test_the_access_request_story(tabs: Any, story_hub: StoryHub) -> None:
    analyst = _persona(tabs, story_hub, ANALYST)
    analyst.check("home")
    products = analyst.page.locator("#home-products")
    assert "Customers and stores" in products.inner_text()  # discovery needs no ticket

    sales_admin = _persona(tabs, story_hub, SALES_ADMIN)
    sales_admin.check("home")

    steward = _persona(tabs, story_hub, STEWARD)
    steward.check("home")
