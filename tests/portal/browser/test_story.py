"""The portal's story on the NimbusCart demo, walked in a real browser by each persona: every page
they see is screenshotted (``test-artifacts/portal/``) and held to axe (no serious or critical
violation).

The story of the issue: the analyst searches, opens ``sales_customers``, sees email and phone
marked hidden and requests access; the sales admin approves from the inbox; the analyst sees
the subscription approved and queries through it in the query editor; the steward finds both
events in the audit page. Steps are written as their pages reach main; written so far: signing
in through the form, the home page, the search, the product page (email and phone hidden), its
table's page (why she sees what she sees) and the access request.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.browser.conftest import StoryHub, Tab

pytestmark = pytest.mark.slow

ANALYST, SALES_ADMIN, STEWARD = "marketing-analyst", "sales-admin", "steward"
PURPOSE = "Churn model: it needs the customers' contact details"
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


def _analyst_finds_the_product(analyst: Tab) -> None:
    """Search from the top bar, open ``sales_customers``: email and phone are hidden from her."""
    search_box = analyst.page.locator("#topbar-q")
    search_box.fill("customers")
    search_box.press("Enter")
    analyst.page.wait_for_url("**/search?q=customers")
    analyst.check("search")
    results = analyst.page.locator("#search-results")
    results.get_by_role("link", name="Customers and stores").click()
    analyst.page.wait_for_url("**/products/sales_customers")
    analyst.check("product sales_customers")
    customers = analyst.page.locator('section.product-table[data-table="sales.crm.customers"]')
    for column in ("email", "phone"):
        row = customers.locator(f'tr[data-column="{column}"]')
        assert row.get_attribute("data-outcome") == "hidden"
        assert "hidden" in row.inner_text().lower()
    assert customers.locator('tr[data-column="region"]').get_attribute("data-outcome") == "visible"
    customers.get_by_role("link", name="sales.crm.customers").click()
    analyst.page.wait_for_url("**/tables/sales.crm.customers")
    analyst.check("table sales.crm.customers")
    why = analyst.page.locator("#explain-reasons").inner_text()
    assert "group:analysts@marketing" in why
    assert analyst.page.locator("#table-location").count() == 0  # for admins only
    analyst.page.go_back()
    analyst.page.wait_for_url("**/products/sales_customers")


def _analyst_requests_access(analyst: Tab) -> int:
    """Ask for the whole product (email and phone included) for herself; the request's id."""
    analyst.page.get_by_label("Purpose").fill(PURPOSE)
    analyst.page.locator("#request-submit").click()
    analyst.page.wait_for_load_state()
    sent = analyst.page.locator("#request-sent").inner_text()
    request_id = int(sent.split("#")[1].split()[0])
    row = analyst.page.locator(f'#my-requests tr[data-subscription="{request_id}"]')
    assert row.get_attribute("data-status") == "pending"
    analyst.check("product after the request")
    return request_id


def test_the_access_request_story(tabs: Any, story_hub: StoryHub) -> None:
    analyst = _persona(tabs, story_hub, ANALYST)
    analyst.check("home")
    products = analyst.page.locator("#home-products")
    assert "Customers and stores" in products.inner_text()  # discovery needs no ticket
    _analyst_finds_the_product(analyst)
    _analyst_requests_access(analyst)

    sales_admin = _persona(tabs, story_hub, SALES_ADMIN)
    sales_admin.check("home")

    steward = _persona(tabs, story_hub, STEWARD)
    steward.check("home")
