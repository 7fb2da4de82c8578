"""Requesting access from the product page: the same service as ``POST /subscriptions``, for
the viewer or a group it belongs to, leaving columns out."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.portal.conftest import PortalServer


def _ok(response: httpx.Response) -> None:
    assert response.status_code < 300, response.text


@pytest.fixture(scope="module")
def buyer_token(portal_server: PortalServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Product ``shop_items`` (id, price, secret) of domain ``shop``, and a token of
    ``user:ann@buyers``, member of ``group:team@buyers``."""
    folder = tmp_path_factory.mktemp("shop") / "shop"
    folder.mkdir()
    with portal_server.api(portal_server.admin_token) as admin:
        _ok(admin.post("/domains", json={"name": "shop", "producer": True}))
        _ok(admin.post("/domains", json={"name": "buyers", "consumer": True}))
        _ok(admin.post("/principals", json={"name": "user:ann@buyers"}))
        _ok(admin.post("/principals", json={"name": "group:team@buyers"}))
        _ok(admin.post("/groups/group:team@buyers/members", json={"member": "user:ann@buyers"}))
        _ok(admin.post("/locations", json={"uri": str(folder), "domain": "shop"}))
        _ok(admin.post("/databases", json={"domain": "shop", "name": "crm"}))
        columns = [{"name": c, "type": "VARCHAR"} for c in ("id", "price", "secret")]
        table = {"name": "shop.crm.items", "location": str(folder / "items"), "format": "parquet"}
        _ok(admin.post("/tables", json={**table, "columns": columns}))
        product = {"name": "shop_items", "domain": "shop", "tables": ["crm.items"]}
        _ok(admin.post("/products", json=product))
        issued = admin.post("/tokens", json={"principal": "user:ann@buyers"})
        _ok(issued)
        return str(issued.json()["token"])


def test_a_request_for_a_group_leaving_a_column_out(
    portal_server: PortalServer, buyer_token: str
) -> None:
    browser = portal_server.browser()
    browser.sign_in(buyer_token)
    page = browser.get("/products/shop_items").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options == ["user:ann@buyers", "group:team@buyers"]
    answer = browser.post(
        "/products/shop_items/requests",
        {
            "reason": "Price analysis",
            "principal": "group:team@buyers",
            "exclude_columns": ["secret"],
        },
    )
    assert answer.status_code == 303
    [requested] = re.findall(r"/products/shop_items\?requested=(\d+)", answer.headers["location"])
    shown = browser.get(answer.headers["location"]).text
    assert f"Request #{requested} sent." in shown
    row = shown.split(f'data-subscription="{requested}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="pending"' in row
    assert "secret" in row
    with portal_server.api(buyer_token) as api:
        stored = api.get(f"/subscriptions/{requested}").json()
    assert stored["principal"] == "group:team@buyers"
    assert stored["reason"] == "Price analysis"
    assert stored["requested_by"] == "user:ann@buyers"


def test_a_request_without_a_reason_is_refused_with_the_services_message(
    portal_server: PortalServer, buyer_token: str
) -> None:
    browser = portal_server.browser()
    browser.sign_in(buyer_token)
    browser.get("/products/shop_items")
    answer = browser.post("/products/shop_items/requests", {"reason": " "})
    assert answer.status_code == 400
    assert "A subscription request needs a reason" in answer.text
