"""Hostile names in a real browser: a product, tag, column and principal named
``<script>alert(1)</script>`` (where the hub's names are identifiers, the text goes in the free
text beside them: titles, descriptions, purposes), and nothing executes on any page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.catalog import crawler
from lakemesh.governance import tags
from lakemesh.identity import tokens
from lakemesh.sharing import products, subscriptions
from lakemesh.sharing.products import ProductSpec
from tests.conftest import make_hub_env
from tests.factories.lake import Lake
from tests.factories.sharing import MIA, SAM, build_sharing_mesh
from tests.portal.browser.conftest import Tab

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(2)>'
HOSTILE_JSON = "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"


@dataclass
class HostileHub:
    url: str
    steward: str
    analyst: str
    producer: str


@pytest.fixture(scope="module")
def hostile_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileHub]:
    root = tmp_path_factory.mktemp("hostile")
    env = make_hub_env(root / "home")
    lake = Lake(root / "lake")
    mesh = build_sharing_mesh(env, lake)
    lake.parquet("sales/crm/hostile/part-0.parquet", {"id": [1, 2], HOSTILE: [IMAGE, HOSTILE]})
    crawler.crawl(
        env.hub, actor=env.admin, uri=lake.uri_of("sales/crm"), domain="sales", database="crm"
    )
    with env.hub.transaction() as session:
        tags.create_tag(
            session, actor=env.admin, key="hostile", values=["a"], description=HOSTILE + IMAGE
        )
        products.publish_product(
            session,
            actor=mesh.actor(SAM),
            spec=ProductSpec(
                name="hostile_product",
                domain="sales",
                tables=["crm.hostile", "crm.customers"],
                title=HOSTILE,
                description=IMAGE,
                tags={"hostile": "a"},
            ),
        )
        subscriptions.request_subscription(
            session,
            actor=mesh.actor(MIA),
            product="hostile_product",
            principal=MIA,
            reason=HOSTILE + IMAGE,
        )
        issued = {
            ref: tokens.create_token(session, actor=env.admin, principal=ref).token
            for ref in (MIA, SAM)
        }
    with serve_in_background(env.hub) as url:
        yield HostileHub(url, env.token, issued[MIA], issued[SAM])
    env.hub.close()


def test_a_hostile_principal_name_is_refused_before_any_page_could_show_it(
    hostile_hub: HostileHub,
) -> None:
    with httpx.Client(
        base_url=f"{hostile_hub.url}/api/v1",
        headers={"Authorization": f"Bearer {hostile_hub.steward}"},
    ) as api:
        refused = api.post("/principals", json={"name": f"user:{HOSTILE}@sales"})
    assert refused.status_code == 400
    assert "Invalid principal" in refused.json()["error"]["message"]


PAGES: dict[str, tuple[str, ...]] = {
    # persona -> the pages that show the hostile text (the search echoes it in its box)
    "analyst": (
        "/",
        f"/search?q={quote(HOSTILE)}",
        "/search?q=hostile",
        "/products/hostile_product",
        "/tables/sales.crm.hostile",
    ),
    "producer": ("/", "/products/hostile_product", "/tables/sales.crm.hostile", "/inbox"),
    "steward": (
        "/",
        "/products/hostile_product",
        "/tables/sales.crm.hostile",
        "/governance",
        "/audit",
    ),
}


def _visit(tab: Tab, paths: tuple[str, ...]) -> None:
    for path in paths:
        tab.open(path)
        tab.page.wait_for_load_state("networkidle")
        tab.check(path)
        shown = tab.page.locator("main").inner_text()
        if path.startswith("/search?q=%3C"):
            shown = tab.page.locator("#search-q").input_value()
        # shown, as text (the audit's details as JSON, whose encoder escapes < and >)
        assert HOSTILE in shown or HOSTILE_JSON in shown, path
        # and no element was made of it
        assert tab.page.locator("img[src=x]").count() == 0
        assert tab.page.evaluate("document.querySelectorAll('script:not([src])').length") == 0


def test_nothing_executes_on_any_page(tabs: Any, hostile_hub: HostileHub) -> None:
    for name, token in (
        ("analyst", hostile_hub.analyst),
        ("producer", hostile_hub.producer),
        ("steward", hostile_hub.steward),
    ):
        tab = tabs(f"hostile-{name}", base_url=hostile_hub.url)
        # The watch works: a script that does run is seen.
        tab.page.evaluate("alert('probe')")
        assert tab.dialogs == ["probe"]
        tab.dialogs.clear()
        tab.sign_in(token)
        _visit(tab, PAGES[name])
