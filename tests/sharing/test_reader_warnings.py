"""Readers of a deprecated data product keep their access and are warned: SDK, REST and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakemesh import Client
from lakemesh.cli.main import app
from lakemesh.sdk.query import ReaderWarning
from tests.factories.demo import DemoHome, copy_demo

SQL = "SELECT count(*) AS n FROM data_science.shared_sales.orders"
NOTICE = "Data product sales_orders is deprecated: moving to sales_orders_v2"


@pytest.fixture(scope="module")
def demo(demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory) -> DemoHome:
    """The demo mesh (data science reads sales_orders through a link), with the product
    deprecated by sales' admin."""
    result = copy_demo(demo_home, tmp_path_factory.mktemp("warnings") / "home")
    with Client.open(result.home, token=result.tokens["sales-admin"]) as sales:
        sales.deprecate_product("sales_orders", message="moving to sales_orders_v2")
    return result


def _reader(demo: DemoHome) -> Client:
    return Client.open(demo.home, token=demo.tokens["data-science-admin"])


def test_sdk_query_warns_and_still_reads(demo: DemoHome) -> None:
    with _reader(demo) as client, pytest.warns(ReaderWarning, match=NOTICE):
        table = client.query(SQL)
    assert table.column("n").to_pylist() == [2000]


def test_json_result_carries_the_warning(demo: DemoHome) -> None:
    with _reader(demo) as client:
        result = client.query_json(SQL)
    assert result.warnings == [NOTICE]


def test_queries_of_other_products_carry_no_warning(demo: DemoHome) -> None:
    with Client.open(demo.home, token=demo.tokens["analytics-admin"]) as client:
        result = client.query_json("SELECT count(*) FROM analytics.shared_sales.customers")
    assert result.warnings == []


def test_cli_prints_the_warning_on_stderr(demo: DemoHome, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--home", str(demo.home), "--profile", "data-science-admin"]
    shown = runner.invoke(app, [*base, "query", SQL], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"Warning: {NOTICE}" in shown.stderr
    as_json = runner.invoke(app, [*base, "--json", "query", SQL])
    assert json.loads(as_json.stdout)["warnings"] == [NOTICE]
