"""``lakemesh product check`` / ``checks``, ``/api/v1/products/{name}/checks`` and the SDK."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from lakemesh.api.schemas.quality import QualityRunPublic
from lakemesh.api.server import serve_in_background
from lakemesh.cli.main import app
from lakemesh.sdk import Client
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import ANA, SHOP_ADMIN, Shop, build_shop
from tests.factories.tokens import clear_cli_environment, token_of


@pytest.fixture
def shop(sqlite_env: HubEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shop:
    clear_cli_environment(monkeypatch)
    return build_shop(sqlite_env, Lake(tmp_path / "lake"))


def test_cli_runs_checks_and_shows_history(shop: Shop) -> None:
    runner = CliRunner()
    base = ["--home", str(shop.env.home), "--token", token_of(shop.env, SHOP_ADMIN)]
    result = runner.invoke(app, [*base, "--json", "product", "check", "orders_parquet"])
    assert result.exit_code == 1, result.stderr  # a rule failed: scripts can tell
    run = json.loads(result.stdout)
    values = {r["rule"]: r["value"] for r in run["results"]}
    assert values["orders_parquet.status.missingValues"] == 37.5
    human = runner.invoke(app, [*base, "product", "check", "orders_parquet"])
    assert "orders_parquet.code.invalidValues" in human.stdout
    assert "orders_parquet: error (5/10 passed, as service:quality@shop)" in human.stdout
    history = runner.invoke(app, [*base, "--json", "product", "checks", "orders_parquet"])
    assert history.exit_code == 0
    assert [r["id"] for r in json.loads(history.stdout)] == [run["id"] + 1, run["id"]]


def test_rest_and_sdk_run_checks_for_admins_only(shop: Shop) -> None:
    sue, ana = token_of(shop.env, SHOP_ADMIN), token_of(shop.env, ANA)
    with serve_in_background(shop.env.hub) as url:
        base = f"{url}/api/v1/products/orders_csv/checks"
        denied = httpx.post(base, headers={"Authorization": f"Bearer {ana}"}, timeout=60)
        assert denied.status_code == 403
        assert denied.json()["error"]["message"] == f"{ANA} is not an admin of domain shop"
        ran = httpx.post(base, headers={"Authorization": f"Bearer {sue}"}, timeout=60)
        assert ran.status_code == 200
        assert ran.json()["status"] == "error"
        with Client.connect(url, token=ana) as client:
            runs = client.product_checks("orders_csv")
        assert [r.id for r in runs] == [ran.json()["id"]]
        assert all(result.sample is None for result in runs[0].results)
        with Client.connect(url, token=sue) as client:
            again = client.check_product("orders_csv")
        assert isinstance(again, QualityRunPublic)
        assert again.rules_passed == 5
