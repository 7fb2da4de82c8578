"""The persona pages (My access, the inbox, the query editor, governance, grants, audit) in a
real browser on the demo: each is screenshotted and held to axe (no serious or critical
violation), and the editor runs a query to its result with script on (the job page reloads
itself through portal.js)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.browser.conftest import StoryHub, Tab

pytestmark = pytest.mark.slow

PAGES = {
    "marketing-analyst": ["/access", "/query"],
    "sales-admin": ["/inbox", "/governance", "/grants", "/audit"],
    "steward": ["/governance", "/grants?tag=sensitivity%3Dpii", "/audit?action=subscription"],
}


def _signed_in(tabs: Any, story_hub: StoryHub, profile: str) -> Tab:
    tab: Tab = tabs(f"workspace-{profile}", base_url=story_hub.url)
    tab.sign_in(story_hub.demo.tokens[profile])
    return tab


@pytest.mark.parametrize("profile", sorted(PAGES))
def test_the_pages_of_each_persona_pass_axe(tabs: Any, story_hub: StoryHub, profile: str) -> None:
    tab = _signed_in(tabs, story_hub, profile)
    for path in PAGES[profile]:
        tab.open(path)
        tab.check(path)


def test_the_editor_runs_a_query_to_its_result(tabs: Any, story_hub: StoryHub) -> None:
    tab = _signed_in(tabs, story_hub, "marketing-analyst")
    tab.open("/query")
    tab.page.get_by_label("SQL (one read-only statement)").fill(
        "SELECT region, count(*) AS customers FROM sales.crm.customers GROUP BY region"
    )
    tab.page.locator("#query-run").click()
    tab.page.locator('#job-status[data-status="succeeded"]').wait_for()
    tab.check("query result")
    assert tab.page.locator("#query-results tbody tr").count() >= 1
    assert tab.page.locator("#download-parquet").get_attribute("href", timeout=1000)
