"""A product's lineage: the products it derives from (declared in its contract), each with its
health from a real check, a late upstream called out; upstream tables the caller may not
DESCRIBE counted, never named; through the service, real HTTP (the SDK) and the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from lakemesh.api.server import serve_in_background
from lakemesh.cli.main import app
from lakemesh.errors import NotFoundError
from lakemesh.lineage import MAX_DEPTH, product_lineage
from lakemesh.quality import run_checks
from lakemesh.sdk import Client
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.conftest import FrozenClock
from tests.factories.quality import ANA, SHOP_ADMIN, Shop
from tests.factories.tokens import clear_cli_environment, token_of
from tests.lineage.test_declared import ADMIN, declaring

FRESH_DAILY = """
apiVersion: v3.1.0
kind: DataContract
id: urn:shop:orders_parts:slas
version: 1.1.0
status: active
slaProperties:
  - {property: freshness, value: 1, unit: d}
schema:
  - name: orders_parts
"""


@pytest.fixture
def late(shop: Shop, frozen_clock: FrozenClock) -> Shop:
    """orders_parquet made from orders_parts (late: its newest day is 2025-01-02) and the
    vault's table k, which ana may not DESCRIBE."""
    with shop.env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=shop.actor(SHOP_ADMIN),
            spec=ProductSpec(name="orders_parts", domain="shop", contract=FRESH_DAILY),
        )
        products.publish_product(
            session,
            actor=shop.actor(ADMIN),
            spec=ProductSpec(
                name="orders_parquet",
                domain="shop",
                contract=declaring("orders_parts", "vault.keys.k"),
            ),
        )
    frozen_clock.current = datetime(2025, 1, 5, tzinfo=UTC)
    run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_parts")
    return shop


def test_upstream_products_with_their_health(late: Shop) -> None:
    with late.env.hub.read() as session:
        found = product_lineage(session, actor=late.actor(ANA), product="orders_parquet")
        admin = product_lineage(session, actor=late.actor(ADMIN), product="orders_parquet")
        with pytest.raises(NotFoundError, match="Data product does not exist: nothing"):
            product_lineage(session, actor=late.actor(ANA), product="nothing")
    [upstream] = found["upstream"]
    assert (upstream["product"], upstream["depth"], upstream["tables"]) == (
        "orders_parts",
        1,
        ["shop.sales.orders_parts"],
    )
    assert upstream["health"]["freshness"]["status"] == "late"
    assert (
        upstream["health"]["freshness"]["late_by_seconds"] == 86400
    )  # complete at 01-03, 1 d promised
    assert found["late_upstream"] == ["orders_parts"]
    assert found["hidden"] == 1
    assert found["upstream_tables"] == ["shop.sales.orders_parts"]
    assert "vault" not in json.dumps(found)
    assert admin["upstream_tables"] == ["shop.sales.orders_parts", "vault.keys.k"]
    assert admin["hidden"] == 0


def test_product_lineage_over_http_and_the_cli(late: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    token = token_of(late.env, ANA)
    with serve_in_background(late.env.hub) as url, Client.connect(url, token=token) as client:
        assert client.product_lineage("orders_parquet").late_upstream == ["orders_parts"]
        for depth, status in ((MAX_DEPTH, 200), (MAX_DEPTH + 1, 400), (0, 400)):
            answer = httpx.get(
                f"{url}/api/v1/lineage/products/orders_parquet",
                params={"depth": depth},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == status, answer.text
    clear_cli_environment(monkeypatch)
    base = ["--home", str(late.env.home), "--token", token]
    shown = CliRunner().invoke(app, [*base, "lineage", "product", "orders_parquet"])
    assert shown.exit_code == 0, shown.stderr
    assert "orders_parts" in shown.stdout
    assert "1 upstream source(s) you may not see." in shown.stdout
    assert "Late upstream: orders_parts" in shown.stdout
    assert "vault" not in shown.stdout
    as_json = CliRunner().invoke(app, [*base, "--json", "lineage", "product", "orders_parquet"])
    assert json.loads(as_json.stdout)["upstream"][0]["product"] == "orders_parts"
