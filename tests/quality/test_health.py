"""Product health (last check, pass rates, freshness) in show, list and search, as a facet and a
sort key, through the services, the CLI and REST."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from lakemesh.api.server import serve_in_background
from lakemesh.cli.main import app
from lakemesh.errors import InvalidInputError
from lakemesh.quality import run_checks
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.conftest import FrozenClock
from tests.factories.quality import ANA, SHOP_ADMIN, Shop
from tests.factories.tokens import clear_cli_environment, token_of

LATE_CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: urn:shop:orders_csv:late
version: 1.0.0
status: active
slaProperties:
  - {property: latency, value: 1, unit: h, element: orders_csv.placed_at}
schema:
  - name: orders_csv
    quality:
      - {metric: rowCount, mustBeGreaterThan: 0}
"""


def _search(shop: Shop, **options: str) -> list[dict[str, object]]:
    with shop.env.hub.read() as session:
        rows = products.search_products(session, actor=shop.actor(ANA))
        return products.sort_and_filter(products.view_products(session, rows), **options)  # type: ignore[arg-type]


@pytest.fixture
def checked(shop: Shop, frozen_clock: FrozenClock) -> Shop:
    frozen_clock.current = datetime(2025, 1, 1, 10, tzinfo=UTC)  # newest placed_at: 07:00
    with shop.env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=shop.actor(SHOP_ADMIN),
            spec=ProductSpec(name="orders_csv", domain="shop", contract=LATE_CONTRACT),
        )
    run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_parquet")
    frozen_clock.current = datetime(2025, 1, 1, 11, tzinfo=UTC)
    run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_csv")
    return shop


def test_health_summarises_the_last_check(checked: Shop) -> None:
    found = {p["name"]: p["health"] for p in _search(checked)}
    assert found["orders_parts"] == {
        "status": "unchecked",
        "checked_at": None,
        "quality_pass_rate": None,
        "completeness": None,
        "freshness": None,
        "open_proposals": 0,  # schema changes waiting for review (tests/contracts)
    }
    parquet = found["orders_parquet"]
    assert (parquet["status"], parquet["quality_pass_rate"], parquet["completeness"]) == (
        "error",
        50.0,
        75.0,
    )
    assert parquet["freshness"] is None
    csv = found["orders_csv"]
    assert (csv["status"], csv["quality_pass_rate"]) == ("failed", 100.0)
    assert csv["freshness"] == {
        "status": "late",
        "late_by_seconds": 3 * 3600,
        "last_update": "2025-01-01T07:00:00+00:00",
        "promise": "<= 1 h",
    }
    assert csv["checked_at"] == "2025-01-01T11:00:00+00:00"


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"health": "unchecked"}, ["orders_parts"]),
        ({"health": "late"}, ["orders_csv"]),
        ({"health": "error"}, ["orders_parquet"]),
        ({"sort": "quality"}, ["orders_csv", "orders_parquet", "orders_parts"]),
        ({"sort": "checked"}, ["orders_csv", "orders_parquet", "orders_parts"]),
        ({}, ["orders_csv", "orders_parquet", "orders_parts"]),
    ],
)
def test_health_is_a_search_facet_and_sort_key(
    checked: Shop, options: dict[str, str], names: list[str]
) -> None:
    assert [p["name"] for p in _search(checked, **options)] == names


def test_unknown_facets_and_sort_keys_are_named(checked: Shop) -> None:
    with pytest.raises(InvalidInputError, match="Unknown health facet: 'stale' \\(known: passed"):
        _search(checked, health="stale")
    with pytest.raises(InvalidInputError, match="Unknown sort key: 'age' \\(known: name, quality"):
        _search(checked, sort="age")


COUNTS = {"passed": 0, "failed": 1, "error": 1, "unchecked": 1, "on_time": 0, "late": 1}


def test_facet_counts_through_the_cli(checked: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cli_environment(monkeypatch)
    base = ["--home", str(checked.env.home), "--token", token_of(checked.env, ANA)]
    runner = CliRunner()
    counted = runner.invoke(app, [*base, "--json", "product", "facets"])
    assert counted.exit_code == 0, counted.stderr
    assert json.loads(counted.stdout) == {"total": 3, "health": COUNTS}
    none = runner.invoke(app, [*base, "--json", "product", "facets", "no-such-word"])
    assert json.loads(none.stdout)["total"] == 0
    shown = runner.invoke(app, [*base, "product", "facets"])
    assert shown.exit_code == 0, shown.stderr
    rows = [line.replace("│", " ").split() for line in shown.stdout.splitlines()]
    assert ["unchecked", "1"] in rows


def test_health_through_the_cli_and_rest(checked: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cli_environment(monkeypatch)
    token = token_of(checked.env, ANA)
    base = ["--home", str(checked.env.home), "--token", token]
    runner = CliRunner()
    shown = runner.invoke(app, [*base, "product", "show", "orders_csv"])
    assert shown.exit_code == 0, shown.stderr
    assert "failed, late by 10800s (<= 1 h)" in shown.stdout
    assert "100% of rules pass" in shown.stdout
    late = runner.invoke(app, [*base, "--json", "product", "search", "--health", "late"])
    assert [p["name"] for p in json.loads(late.stdout)] == ["orders_csv"]
    with serve_in_background(checked.env.hub) as url:
        response = httpx.get(
            f"{url}/api/v1/products/search",
            params={"sort": "quality", "health": "error"},
            headers={"Authorization": f"Bearer {token}"},
        )
        listed = httpx.get(f"{url}/api/v1/products", headers={"Authorization": f"Bearer {token}"})
        facets = httpx.get(
            f"{url}/api/v1/products/search/facets",
            params={"text": "orders"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert facets.json() == {"total": 3, "health": COUNTS}
    assert [p["name"] for p in response.json()] == ["orders_parquet"]
    assert {p["name"]: p["health"]["status"] for p in listed.json()}["orders_parts"] == "unchecked"
